//go:build !cgo

package hsm

import (
	"crypto"
	"errors"
)

// errUnsupported is what every call returns in a build without cgo.
var errUnsupported = errors.New("この inkan-server は HSM (PKCS#11) に対応していません (cgo なしでビルド) / this inkan-server was built without cgo and cannot reach a PKCS#11 module: build it on Linux with CGO_ENABLED=1")

// Key is a private key in a token; a build without cgo never opens one.
type Key struct{ crypto.Signer }

// Close does nothing: a build without cgo opens no session.
func (k *Key) Close() error { return nil }

// Delete does nothing: a build without cgo makes no key.
func (k *Key) Delete() error { return nil }

// Create reports that this build has no PKCS#11 support.
func Create(URI, string, string) (*Key, error) { return nil, errUnsupported }

// Open reports that this build has no PKCS#11 support.
func Open(URI, string) (*Key, error) { return nil, errUnsupported }
