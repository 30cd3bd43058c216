package certstore

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
)

// Store kinds, as [Open] takes them. A dir store is "dir:" followed by its path.
const (
	KindWindows = "windows"
	KindKeyring = "keyring"
	KindDir     = "dir"
	KindMemory  = "memory"
)

// DefaultKind returns the store the agent uses on this OS: the Windows
// certificate store on Windows, the OS secret store everywhere else.
func DefaultKind() string {
	if runtime.GOOS == "windows" {
		return KindWindows
	}
	return KindKeyring
}

// Open returns the store named by kind: "windows", "keyring", "dir:PATH" or
// "memory". Each call of Open("memory") returns a new, empty store. A store that
// cannot work on this machine now answers an *UnavailableError saying why.
func Open(kind string) (Store, error) {
	switch {
	case kind == KindWindows:
		return openWindows()
	case kind == KindKeyring:
		return openKeyring()
	case kind == KindMemory:
		return newMemoryStore(), nil
	case strings.HasPrefix(kind, KindDir+":"):
		path := strings.TrimPrefix(kind, KindDir+":")
		if path == "" {
			return nil, errors.New(`open certificate store "dir:": the path is missing (want dir:PATH)`)
		}
		return openDir(path)
	default:
		return nil, fmt.Errorf("unknown certificate store kind %q: valid kinds are windows, keyring, dir:PATH and memory", kind)
	}
}
