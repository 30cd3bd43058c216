package ca

import (
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.step.sm/crypto/pemutil"
)

// Passphrase supplies the passphrase of the CA keys when one is needed: it is
// called only for a key that is encrypted. Nil means no passphrase is at hand.
type Passphrase func() ([]byte, error)

// ErrNoPassphrase is returned when a key is encrypted and no passphrase was given.
var ErrNoPassphrase = errors.New("the key is encrypted and no passphrase was given")

// encryptedKeyType is the PEM type of an encrypted PKCS#8 key (RFC 7468 §11).
const encryptedKeyType = "ENCRYPTED PRIVATE KEY"

// WriteKey writes key to path as PKCS#8 PEM, mode 0600: encrypted (PBES2,
// PBKDF2-HMAC-SHA256, AES-256-CBC) when passphrase is not empty.
func WriteKey(path string, key crypto.Signer, passphrase []byte) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	block := &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	if len(passphrase) > 0 {
		if block, err = pemutil.EncryptPKCS8PrivateKey(rand.Reader, der, passphrase, x509.PEMCipherAES256); err != nil {
			return fmt.Errorf("encrypt %s: %w", path, err)
		}
	}
	return writeFileAtomic(path, pem.EncodeToMemory(block), 0o600)
}

// KeyIsEncrypted reports whether the PEM key at path is encrypted. A file that
// does not exist is reported as an error wrapping os.ErrNotExist.
func KeyIsEncrypted(path string) (bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("read key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return false, fmt.Errorf("%s holds no PEM key", path)
	}
	return block.Type == encryptedKeyType, nil
}

// ReadKey reads the PKCS#8 PEM key at path, decrypting it with passphrase when
// it is encrypted.
func ReadKey(path string, passphrase Passphrase) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	return parseKey(path, data, passphrase)
}

func parseKey(path string, data []byte, passphrase Passphrase) (crypto.Signer, error) {
	var block *pem.Block
	for {
		block, data = pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("%s holds no PEM key", path)
		}
		if block.Type == "PRIVATE KEY" || block.Type == encryptedKeyType {
			break
		}
	}
	der := block.Bytes
	if block.Type == encryptedKeyType {
		if passphrase == nil {
			return nil, fmt.Errorf("%s: %w: give it with --passphrase-file FILE, the INKAN_CA_PASSPHRASE environment variable, or on the terminal", path, ErrNoPassphrase)
		}
		pass, err := passphrase()
		if err != nil {
			return nil, fmt.Errorf("passphrase for %s: %w", path, err)
		}
		if der, err = pemutil.DecryptPKCS8PrivateKey(der, pass); err != nil {
			return nil, fmt.Errorf("decrypt %s: the passphrase is wrong or the file is damaged (%v)", path, err)
		}
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s is not a signing key", path)
	}
	return signer, nil
}

// writeTLS writes the TLS key and certificate into one file, replaced by one rename.
func writeTLS(path string, key crypto.Signer, certDER []byte) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode the TLS key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER})...)
	return writeFileAtomic(path, data, 0o600)
}

// LoadTLS reads the server's TLS key and certificate from dir: tls.pem, or the
// tls.crt and tls.key of a data directory made before it.
func LoadTLS(dir string) (tls.Certificate, error) {
	path := filepath.Join(dir, TLSFile)
	data, err := os.ReadFile(path)
	var pair tls.Certificate
	switch {
	case errors.Is(err, os.ErrNotExist):
		pair, err = tls.LoadX509KeyPair(filepath.Join(dir, TLSCertFile), filepath.Join(dir, TLSKeyFile))
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("load the TLS certificate (%s, or %s and %s): %w", TLSFile, TLSCertFile, TLSKeyFile, err)
		}
	case err != nil:
		return tls.Certificate{}, fmt.Errorf("read %s: %w", path, err)
	default:
		if pair, err = tls.X509KeyPair(data, data); err != nil {
			return tls.Certificate{}, fmt.Errorf("load %s: %w", path, err)
		}
	}
	if pair.Leaf == nil {
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return tls.Certificate{}, fmt.Errorf("parse the TLS certificate: %w", err)
		}
	}
	return pair, nil
}
