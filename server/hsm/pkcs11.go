//go:build cgo

package hsm

import (
	"crypto"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"
)

// Key is a private key in a token, open through a PKCS#11 session until Close.
type Key struct {
	crypto.Signer
	ctx *crypto11.Context
}

// Close logs out of the token and unloads the module.
func (k *Key) Close() error {
	if err := k.ctx.Close(); err != nil {
		return fmt.Errorf("close the PKCS#11 session: %w", err)
	}
	return nil
}

// Delete destroys the key pair in the token: for a key [Create] made for a
// command that then failed, so that the token keeps no key nothing uses.
func (k *Key) Delete() error {
	d, ok := k.Signer.(interface{ Delete() error })
	if !ok {
		return fmt.Errorf("the PKCS#11 key %T cannot be deleted", k.Signer)
	}
	if err := d.Delete(); err != nil {
		return fmt.Errorf("delete the key from the token: %w", err)
	}
	return nil
}

// open logs in to the token u names with pin.
func open(u URI, pin string) (*crypto11.Context, error) {
	if u.ModulePath == "" {
		return nil, fmt.Errorf("%s names no PKCS#11 module: add ?module-path=/path/to/module.so to the URI (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)", u)
	}
	cfg := &crypto11.Config{Path: u.ModulePath, TokenLabel: u.Token, Pin: pin}
	if u.Serial != "" {
		cfg.TokenLabel, cfg.TokenSerial = "", u.Serial
	}
	ctx, err := crypto11.Configure(cfg)
	if err != nil {
		var code pkcs11.Error
		if errors.As(err, &code) {
			switch code {
			case pkcs11.CKR_PIN_INCORRECT:
				return nil, fmt.Errorf("HSM のトークン %q の PIN が違います。正しい PIN を pin-source のファイルか %s で渡してください / the PIN of token %q is wrong: give the user PIN by the URI's pin-source file or %s (%w)", u.Token+u.Serial, PINEnv, u.Token+u.Serial, PINEnv, err)
			case pkcs11.CKR_PIN_LOCKED:
				return nil, fmt.Errorf("HSM のトークン %q の PIN はロックされています。SO PIN でロックを解除してください / the PIN of token %q is locked: unlock it with the SO PIN (%w)", u.Token+u.Serial, u.Token+u.Serial, err)
			}
		}
		return nil, fmt.Errorf("HSM に接続できません / open the PKCS#11 token of %s: %w (is the token initialised? softhsm2-util --show-slots, or the HSM vendor's tool, lists the tokens)", u, err)
	}
	return ctx, nil
}

// Create makes a new signing key pair in the token, labelled and identified as
// u says: private key sensitive and never extractable, kept on the token. It
// refuses when the token already holds a key of that label or ID.
// Algorithm is one of ecdsa-p256, ecdsa-p384 or rsa-3072.
func Create(u URI, pin, algorithm string) (*Key, error) {
	ctx, err := open(u, pin)
	if err != nil {
		return nil, err
	}
	existing, err := ctx.FindKeyPairs(u.ID, []byte(u.Object))
	if err != nil {
		ctx.Close()
		return nil, fmt.Errorf("look for an existing key %s: %w", u, err)
	}
	if len(existing) > 0 {
		ctx.Close()
		return nil, fmt.Errorf("トークンにはすでに同じ名前の鍵があります / the token already holds a key %s: refusing to make a second one of that name; name another object= or delete the old key with the HSM's tool", u)
	}
	id := u.ID
	if len(id) == 0 {
		id = make([]byte, 16)
		if _, err := rand.Read(id); err != nil {
			ctx.Close()
			return nil, fmt.Errorf("make a key ID: %w", err)
		}
	}
	var signer crypto.Signer
	switch algorithm {
	case "", "ecdsa-p256":
		signer, err = ctx.GenerateECDSAKeyPairWithLabel(id, []byte(u.Object), elliptic.P256())
	case "ecdsa-p384":
		signer, err = ctx.GenerateECDSAKeyPairWithLabel(id, []byte(u.Object), elliptic.P384())
	case "rsa-3072":
		signer, err = ctx.GenerateRSAKeyPairWithLabel(id, []byte(u.Object), 3072)
	default:
		err = fmt.Errorf("key algorithm %q: give ecdsa-p256, ecdsa-p384 or rsa-3072", algorithm)
	}
	if err != nil {
		ctx.Close()
		return nil, fmt.Errorf("make the key %s in the token: %w", u, err)
	}
	return &Key{Signer: signer, ctx: ctx}, nil
}

// Open finds the key u names in its token and logs in with pin.
func Open(u URI, pin string) (*Key, error) {
	ctx, err := open(u, pin)
	if err != nil {
		return nil, err
	}
	found, err := ctx.FindKeyPairs(u.ID, []byte(u.Object))
	switch {
	case err != nil:
	case len(found) == 0:
		err = errors.New("HSM のトークンにこの鍵がありません / the token holds no such key: check object= (and id=) against the token's contents")
	case len(found) > 1:
		err = fmt.Errorf("the token holds %d keys of this name: add id= to the URI to say which", len(found))
	}
	if err != nil {
		ctx.Close()
		return nil, fmt.Errorf("find the issuing CA key %s: %w", u, err)
	}
	return &Key{Signer: found[0], ctx: ctx}, nil
}
