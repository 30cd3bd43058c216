//go:build !linux

package certstore

import "github.com/zalando/go-keyring"

// setSecret writes r's key through go-keyring: the Keychain and the Credential
// Manager name items by service and account, which already say what they are.
func setSecret(service string, r *record, value string) error {
	return keyring.Set(service, string(r.fingerprint()), value)
}
