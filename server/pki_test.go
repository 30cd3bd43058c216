package server

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/inkan-dev/inkan/server/ca"
	"github.com/inkan-dev/inkan/wire"
)

func TestServeWorksWithoutTheRootKey(t *testing.T) {
	e := newEnv(t) // newEnv removes DIR/offline, as the bank does after init
	for _, path := range []string{ca.RootKeyPath(e.dir), filepath.Join(e.dir, ca.RootKeyFile)} {
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("%s: %v, want no root key", path, err)
		}
	}
	e.contract("Sato Shoji", "admin1")
	admin := e.pickup("admin1", pw("admin1")) // over TLS, verified against the root only
	e.mustLogin(admin, "", pw("admin1"))
	want(t, "CA certificates", e.do(e.client(nil), e.request("GET", "/.well-known/est/cacerts", "", nil)), http.StatusOK, wire.Code(""))
}
