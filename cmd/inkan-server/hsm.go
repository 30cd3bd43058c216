package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/term"

	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/server/ca"
	"github.com/inkan-dev/inkan/server/hsm"
)

// kmsURI reads --kms (and --pkcs11-module, when the URI has no module-path).
func kmsURI(kms, module string) (hsm.URI, error) {
	u, err := hsm.ParseURI(kms)
	if err != nil {
		return u, fmt.Errorf("--kms: %w", err)
	}
	if u.ModulePath == "" {
		u.ModulePath = module
	}
	if u.ModulePath == "" {
		return u, errors.New("--kms: HSM の PKCS#11 モジュールを指定してください / name the PKCS#11 module: module-path= in the URI or --pkcs11-module PATH (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)")
	}
	return u, nil
}

// readPIN takes the token's user PIN from the URI's pin-source file, the
// INKAN_PKCS11_PIN environment variable or a prompt on the terminal; never argv.
func (c *cli) readPIN(u hsm.URI) (string, error) {
	pin, err := u.PINFromSource()
	if !errors.Is(err, hsm.ErrNoPIN) {
		return pin, err
	}
	f, ok := c.in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", fmt.Errorf("HSM の PIN を指定してください / the token needs its user PIN: %w, or run on a terminal to be prompted", err)
	}
	fmt.Fprintf(c.err, "PIN of token %s: ", u.Token+u.Serial)
	p, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.err)
	if err != nil {
		return "", fmt.Errorf("read the PIN: %w", err)
	}
	return string(p), nil
}

// openIssuingKey opens the issuing CA key in the HSM when config.json's
// ca_key names one; it returns nil when the key is the file issuing-ca.key.
// The key stays open until the command ends (see cli.close).
func (c *cli) openIssuingKey() (*hsm.Key, error) {
	cfg, err := server.LoadConfig(filepath.Join(c.dataDir, server.ConfigFile))
	if err != nil || cfg.CAKey == "" {
		return nil, err
	}
	key, err := c.openKey(cfg.CAKey)
	if err != nil {
		return nil, fmt.Errorf("config.json ca_key: %w", err)
	}
	return key, nil
}

// openKey opens the key a pkcs11: URI names, asking for its PIN, until the
// command ends.
func (c *cli) openKey(uri string) (*hsm.Key, error) {
	u, err := hsm.ParseURI(uri)
	if err != nil {
		return nil, err
	}
	pin, err := c.readPIN(u)
	if err != nil {
		return nil, err
	}
	key, err := hsm.Open(u, pin)
	if err != nil {
		return nil, err
	}
	c.closers = append(c.closers, key.Close)
	return key, nil
}

// close closes what the command opened (the HSM session).
func (c *cli) close() error {
	var err error
	for _, f := range c.closers {
		err = errors.Join(err, f())
	}
	c.closers = nil
	return err
}

// issuingAlgorithm is the kind of key of dir's current issuing CA, which a
// rollover's new key keeps.
func issuingAlgorithm(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, ca.IssuingCertFile))
	if err != nil {
		return "", fmt.Errorf("read the issuing CA certificate: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return "", fmt.Errorf("%s holds no PEM certificate", ca.IssuingCertFile)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", ca.IssuingCertFile, err)
	}
	switch k := cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P384() {
			return string(ca.ECDSAP384), nil
		}
		return string(ca.ECDSAP256), nil
	case *rsa.PublicKey:
		return string(ca.RSA3072), nil
	}
	return "", fmt.Errorf("%s has a key of a kind the CA does not make", ca.IssuingCertFile)
}
