package certstore

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestOpenChoosesByKind(t *testing.T) {
	s, err := Open(KindMemory)
	if err != nil || s.Kind() != KindMemory {
		t.Fatalf("Open(memory) = %v, %v", s, err)
	}
	other, err := Open(KindMemory)
	if err != nil {
		t.Fatal(err)
	}
	if s == other {
		t.Error("two Open(memory) calls share one store")
	}

	dir := t.TempDir()
	s, err = Open("dir:" + dir)
	if err != nil || s.Kind() != "dir:"+dir {
		t.Fatalf("Open(dir:%s) = %v, %v", dir, s, err)
	}

	if _, err := Open("dir:"); err == nil {
		t.Error(`Open("dir:") succeeded without a path`)
	}
	_, err = Open("pkcs11")
	if err == nil {
		t.Fatal("Open(pkcs11) succeeded")
	}
	for _, kind := range []string{"windows", "keyring", "dir:PATH", "memory"} {
		if !strings.Contains(err.Error(), kind) {
			t.Errorf("the error %q does not list %q", err, kind)
		}
	}
}

func TestDefaultKindIsTheOSStore(t *testing.T) {
	want := KindKeyring
	if runtime.GOOS == "windows" {
		want = KindWindows
	}
	if got := DefaultKind(); got != want {
		t.Errorf("DefaultKind() = %q, want %q", got, want)
	}
}

func TestOpenWindowsElsewhereIsUnavailable(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the Windows store is available on Windows")
	}
	var ue *UnavailableError
	if _, err := Open(KindWindows); !errors.As(err, &ue) || ue.Kind != KindWindows {
		t.Errorf("Open(windows) on %s: %v, want an *UnavailableError", runtime.GOOS, err)
	}
}
