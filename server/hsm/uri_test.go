package hsm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseURI(t *testing.T) {
	u, err := ParseURI("pkcs11:token=My%20Token;object=issuing-ca;id=%01%02?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/inkan/pin")
	if err != nil {
		t.Fatal(err)
	}
	if u.Token != "My Token" || u.Object != "issuing-ca" || string(u.ID) != "\x01\x02" || u.ModulePath != "/usr/lib/softhsm/libsofthsm2.so" || u.PinSource != "file:/etc/inkan/pin" {
		t.Fatalf("parsed %+v", u)
	}
	again, err := ParseURI(u.String())
	if err != nil || again.String() != u.String() || string(again.ID) != string(u.ID) || again.Token != u.Token {
		t.Fatalf("String does not round-trip: %s -> %+v, %v", u, again, err)
	}
	for in, want := range map[string]string{
		"file:/x":                                "not a pkcs11: URI",
		"pkcs11:object=k":                        "names no token",
		"pkcs11:token=t":                         "names no key",
		"pkcs11:token=t;object=k?pin-value=1234": "pin-value would put the PIN on the command line",
		"pkcs11:token=t;object=k;type=cert":      "private key",
		"pkcs11:token=t;object=k;colour=red":     "unknown attribute",
		"pkcs11:token=t;object=k%zz":             "object",
		"pkcs11:token=t;object=k?module=/x.so":   "unknown query attribute",
		"pkcs11:token=t;slot-id=1;object=k":      "not supported",
		"pkcs11:token":                           "not name=value",
	} {
		if _, err := ParseURI(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseURI(%q) = %v, want an error saying %q", in, err, want)
		}
	}
}

func TestPINFromSource(t *testing.T) {
	pin := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(pin, []byte("246810\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(PINEnv, "from-env")
	if got, err := (URI{PinSource: "file:" + pin}).PINFromSource(); err != nil || got != "246810" {
		t.Fatalf("pin-source file: %q, %v", got, err)
	}
	if got, err := (URI{}).PINFromSource(); err != nil || got != "from-env" {
		t.Fatalf("environment: %q, %v", got, err)
	}
	os.Unsetenv(PINEnv)
	if _, err := (URI{}).PINFromSource(); err != ErrNoPIN {
		t.Fatalf("nothing given: %v, want ErrNoPIN", err)
	}
	if _, err := (URI{PinSource: "file:" + pin + ".missing"}).PINFromSource(); err == nil {
		t.Fatal("a missing pin-source file was accepted")
	}
}
