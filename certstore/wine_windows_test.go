package certstore

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

// wineVersion returns the version of Wine the tests run under, or "" on real
// Windows. Wine's ntdll exports wine_get_version; Windows' does not.
func wineVersion() string {
	proc := windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version")
	if proc.Find() != nil {
		return ""
	}
	r, _, _ := proc.Call()
	// r is a const char * into ntdll's static data, valid for the process's life.
	return windows.BytePtrToString(*(**byte)(unsafe.Pointer(&r)))
}

// skipUnderWine skips t under Wine, naming the Wine limitation that makes the
// test impossible there; on real Windows the test runs.
func skipUnderWine(t *testing.T, limitation string) {
	t.Helper()
	if v := wineVersion(); v != "" {
		t.Skipf("skipped under Wine %s: %s (see docs/certstore-windows.md)", v, limitation)
	}
}
