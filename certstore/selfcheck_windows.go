package certstore

// The Windows store's self-check: every CNG and crypt32 step a pickup, a
// restore and a browser login take, made with a throw-away key and
// certificate, so that a user's own PC says what it can and cannot do.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/sys/windows"

	"github.com/inkan-dev/inkan/certstore/internal/cngblob"
)

// doctorPrefix names the self-check's keys; it is not containerPrefix, so
// nothing the check makes is ever listed as an identity.
const doctorPrefix = "inkancheck-"

// stepName is a self-check step's name in Japanese and English.
type stepName struct{ ja, en string }

// SelfCheck implements SelfChecker.
func (s *windowsStore) SelfCheck(ctx context.Context, alg Algorithm) []CheckStep {
	s.mu.Lock()
	defer s.mu.Unlock()
	var steps []CheckStep
	step := func(name stepName, call string, err error) bool {
		steps = append(steps, CheckStep{Name: name.ja, NameEn: name.en, Call: call, Err: err})
		return err == nil
	}
	skip := func(name stepName, call string) {
		steps = append(steps, CheckStep{Name: name.ja, NameEn: name.en, Call: call, Skipped: true})
	}
	if alg == "" {
		alg = ECDSAP256
	}
	cngAlg, bits, err := cngAlgorithm(alg)
	if !step(stepName{"鍵の種類 " + string(alg), "Key type " + string(alg)}, "", err) {
		return steps
	}

	prov, err := openProviderHandle(providerSoftware)
	if !step(stepName{"キー記憶域プロバイダーを開く（Microsoft Software Key Storage Provider）", "Open the key storage provider (Microsoft Software Key Storage Provider)"}, "NCryptOpenStorageProvider", err) {
		return steps
	}
	defer freeObject(prov)

	// 1. Pickup: a persisted key of the bank's type, signing.
	container := fmt.Sprintf("%s%d", doctorPrefix, time.Now().UnixNano())
	h, err := createPersistedKey(prov, cngAlg, container)
	if err == nil {
		if err = setupKey(h, bits, false, true); err == nil {
			err = finalizeKey(h)
		}
		if err != nil {
			err = errors.Join(err, freeObject(h))
		}
	}
	later := []struct {
		name stepName
		call string
	}{
		{stepName{"秘密鍵で署名する", "Sign with the private key"}, "NCryptSignHash"},
		{stepName{"別のプロセスから鍵を名前で開いて署名する（次回の起動やブラウザーと同じ）", "Open the key by name from another process and sign (as the next start and the browsers do)"}, "NCryptOpenKey"},
		{stepName{"ブラウザーと同じ経路で鍵を見つけて署名する（MY → CryptAcquireCertificatePrivateKey）", "Find the key the browsers' way and sign (MY → CryptAcquireCertificatePrivateKey)"}, "CryptAcquireCertificatePrivateKey"},
		{stepName{"復元と同じ方法で鍵を取り込む（PKCS#8、名前付き、NCRYPT_DO_NOT_FINALIZE_FLAG）", "Import a key as restore does (PKCS#8, named, NCRYPT_DO_NOT_FINALIZE_FLAG)"}, "NCryptImportKey"},
		{stepName{"作った鍵を削除する", "Delete the key made"}, "NCryptDeleteKey"},
	}
	if !step(stepName{string(alg) + " の鍵を作って保存する", "Make and save a key of type " + string(alg)}, "NCryptCreatePersistedKey", err) {
		for _, l := range later[:3] {
			skip(l.name, l.call)
		}
		steps = append(steps, s.checkImport(prov, alg, later[3].name))
		skip(later[4].name, later[4].call)
		return steps
	}
	p := &cngProvider{name: providerSoftware, handle: prov, persistsKeys: true}
	key := &cngKey{prov: p, container: container, handle: h}
	pub, err := readPublic(key)
	if err == nil {
		err = checkSigner(key, pub)
	}
	step(later[0].name, later[0].call, err)

	// 2. The key by its name from another process, as the next start of Inkan
	// and the browsers open it (NCryptOpenKey there, then a signature).
	step(later[1].name, later[1].call, checkReopenInChild(ctx, container, pub))

	// 3. What Edge and Chrome do: the certificate in MY, its key found by
	// CryptAcquireCertificatePrivateKey, a signature with that handle.
	step(later[2].name, later[2].call, checkBrowserPath(key, pub, container))

	// 4. Restore's import.
	steps = append(steps, s.checkImport(prov, alg, later[3].name))

	// 5. Deleting what was made.
	err = deleteKey(h)
	if err != nil {
		_ = freeObject(h)
	}
	step(later[4].name, later[4].call, err)
	return steps
}

// readPublic reads a key's algorithm group and public key.
func readPublic(k *cngKey) (crypto.PublicKey, error) {
	group, err := getPropertyString(k.handle, propAlgorithmGroup)
	if err != nil {
		return nil, err
	}
	k.group = group
	blob, err := exportKey(k.handle, cngblob.PublicBlobType(group))
	if err != nil {
		return nil, err
	}
	k.pub, err = cngblob.ParsePublic(blob)
	return k.pub, err
}

// checkSigner signs a digest with s and verifies the signature with pub.
func checkSigner(s crypto.Signer, pub crypto.PublicKey) error {
	digest := sha256.Sum256([]byte("Inkan 動作環境チェック"))
	sig, err := s.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return err
	}
	return verifyDigest(pub, digest[:], sig)
}

// verifyDigest checks a PKCS#1 v1.5 or ECDSA signature over a SHA-256 digest.
func verifyDigest(pub crypto.PublicKey, digest, sig []byte) error {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(p, crypto.SHA256, digest, sig); err != nil {
			return fmt.Errorf("the RSA signature does not verify: %w", err)
		}
		return nil
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(p, digest, sig) {
			return errors.New("the ECDSA signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("unexpected public key %T", pub)
}

// checkBrowserPath puts a self-signed certificate for key into MY with its key
// link, finds the key the way browsers do and signs with it, then removes the
// certificate.
func checkBrowserPath(key *cngKey, pub crypto.PublicKey, container string) error {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "Inkan 動作環境チェック"},
		NotBefore:    time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		return fmt.Errorf("make the test certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	store, err := openSystemStore(storeMY)
	if err != nil {
		return err
	}
	added, err := addCert(store, cert)
	if err != nil {
		return errors.Join(err, closeStore(store, storeMY))
	}
	err = linkCert(added, keyLink{Provider: providerSoftware, Container: container}, "Inkan 動作環境チェック", time.Now())
	if err == nil {
		err = signViaCertificate(added, pub)
	}
	err = errors.Join(err, deleteCert(added), commitAndCloseStore(store, storeMY))
	return err
}

// signViaCertificate is the browsers' path from a certificate to its key:
// CryptAcquireCertificatePrivateKey with CRYPT_ACQUIRE_ONLY_NCRYPT_KEY_FLAG,
// then NCryptSignHash on the handle it gives.
func signViaCertificate(ctx *windows.CertContext, pub crypto.PublicKey) error {
	var h windows.Handle
	var spec uint32
	var mustFree bool
	err := windows.CryptAcquireCertificatePrivateKey(ctx,
		windows.CRYPT_ACQUIRE_SILENT_FLAG|windows.CRYPT_ACQUIRE_ONLY_NCRYPT_KEY_FLAG, nil, &h, &spec, &mustFree)
	if err != nil {
		return win32Error("CryptAcquireCertificatePrivateKey", err)
	}
	k := &cngKey{prov: &cngProvider{name: providerSoftware}, container: "(acquired)", handle: uintptr(h)}
	if _, err := readPublic(k); err != nil {
		return err
	}
	err = checkSigner(k, pub)
	if mustFree {
		err = errors.Join(err, freeObject(uintptr(h)))
	}
	return err
}

// checkImport imports a fresh key of alg the way a restore does on Windows
// (importPrivateKey: PKCS#8 under a name, NCRYPT_DO_NOT_FINALIZE_FLAG), then
// deletes it.
func (s *windowsStore) checkImport(prov uintptr, alg Algorithm, name stepName) CheckStep {
	st := CheckStep{Name: name.ja, NameEn: name.en, Call: "NCryptImportKey"}
	var priv crypto.PrivateKey
	var err error
	switch alg {
	case RSA2048:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		priv, err = rsa.GenerateKey(rand.Reader, 3072)
	case ECDSAP384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	default:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		st.Err = err
		return st
	}
	// Exactly restore's call, as on a PC that persists keys: PKCS#8, named,
	// NCRYPT_DO_NOT_FINALIZE_FLAG, export policy, NCryptFinalizeKey.
	p := &cngProvider{name: providerSoftware, handle: prov, persistsKeys: true}
	container := fmt.Sprintf("%s%d", doctorPrefix, time.Now().UnixNano())
	h, err := importPrivateKey(p, priv, container, false)
	if err != nil {
		st.Err = err
		return st
	}
	// What CNG kept must be the key given, and sign.
	k := &cngKey{prov: p, container: container, handle: h}
	pub, err := readPublic(k)
	if err == nil && !priv.(crypto.Signer).Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
		err = errors.New("the imported key is not the key given to NCryptImportKey")
	}
	if err == nil {
		err = checkSigner(k, pub)
	}
	if derr := deleteKey(h); derr != nil {
		err = errors.Join(fmt.Errorf("imported, but not deleted: %w", derr), freeObject(h))
	}
	st.Err = err
	return st
}
