package certstore

// The self-check's second process: the next start of Inkan, or a browser, opens
// a key by name in a process of its own, never through the handle that made
// it. The self-check starts its own program again with selfCheckChildEnv set;
// that process opens the key, signs the digest it is given, and answers in one
// line of JSON on stdout.

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// The environment a self-check child is started with: the key to reopen (always
// one of the self-check's own, doctorPrefix…) and the SHA-256 digest to sign, in hex.
const (
	selfCheckChildEnv       = "INKAN_SELFCHECK_REOPEN_KEY"
	selfCheckChildDigestEnv = "INKAN_SELFCHECK_REOPEN_DIGEST"
)

// selfCheckChildTimeout bounds the second process: it opens one key and signs once.
const selfCheckChildTimeout = time.Minute

// childAnswer is what the child prints: the key's public key and the
// signature, or the call that failed.
type childAnswer struct {
	PublicKey []byte       `json:"public_key,omitempty"` // PKIX DER
	Signature []byte       `json:"signature,omitempty"`
	Failure   *SystemError `json:"failure,omitempty"`
	Message   string       `json:"message,omitempty"` // a failure that is no Win32 call's
}

// RunSelfCheckChild is the second process of the self-check (動作環境チェック):
// every program that runs the self-check (inkan, inkanctl, and the test
// binaries that do) calls it first thing in main. Unless this process was
// started as that child it returns at once; otherwise it reopens the
// self-check's key by name, signs, prints the answer and exits.
func RunSelfCheckChild() {
	name := os.Getenv(selfCheckChildEnv)
	if name == "" {
		return
	}
	ans := reopenAndSign(name, os.Getenv(selfCheckChildDigestEnv))
	if err := json.NewEncoder(os.Stdout).Encode(ans); err != nil {
		fmt.Fprintln(os.Stderr, "inkan self-check child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// reopenAndSign is the child's work: NCryptOpenKey by name in a provider this
// process opened, then NCryptSignHash.
func reopenAndSign(name, digestHex string) childAnswer {
	fail := func(err error) childAnswer {
		var se *SystemError
		if errors.As(err, &se) {
			return childAnswer{Failure: se, Message: err.Error()}
		}
		return childAnswer{Message: err.Error()}
	}
	// Only the self-check's own throw-away keys: this is no way to sign with
	// an identity's key.
	if !strings.HasPrefix(name, doctorPrefix) {
		return fail(fmt.Errorf("%q is not a self-check key", name))
	}
	digest, err := hex.DecodeString(digestHex)
	if err != nil || len(digest) != crypto.SHA256.Size() {
		return fail(fmt.Errorf("digest %q is not a SHA-256 digest in hex", digestHex))
	}
	prov, err := openProviderHandle(providerSoftware)
	if err != nil {
		return fail(err)
	}
	defer freeObject(prov)
	h, err := openKey(prov, name)
	if err != nil {
		return fail(err)
	}
	defer freeObject(h)
	k := &cngKey{prov: &cngProvider{name: providerSoftware, handle: prov, persistsKeys: true}, container: name, handle: h}
	pub, err := readPublic(k)
	if err != nil {
		return fail(err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fail(err)
	}
	sig, err := k.Sign(rand.Reader, digest, crypto.SHA256)
	if err != nil {
		return fail(err)
	}
	return childAnswer{PublicKey: der, Signature: sig}
}

// checkReopenInChild starts this program again as the self-check's child,
// which opens container by name and signs; the key it opened must be pub and
// its signature must verify.
func checkReopenInChild(ctx context.Context, container string, pub crypto.PublicKey) error {
	if pub == nil {
		return errors.New("the key's public key could not be read (see the signing step), so there is nothing to compare with")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program to start it again: %w", err)
	}
	digest := make([]byte, crypto.SHA256.Size())
	if _, err := rand.Read(digest); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, selfCheckChildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), selfCheckChildEnv+"="+container, selfCheckChildDigestEnv+"="+hex.EncodeToString(digest))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("second process %s: %w: %s", exe, err, strings.TrimSpace(stderr.String()))
	}
	var ans childAnswer
	if err := json.Unmarshal(out, &ans); err != nil {
		return fmt.Errorf("second process %s: its answer %q is not the self-check's: %w", exe, out, err)
	}
	switch {
	case ans.Failure != nil:
		return fmt.Errorf("in a second process: %w", ans.Failure)
	case ans.Message != "":
		return fmt.Errorf("in a second process: %s", ans.Message)
	}
	got, err := x509.ParsePKIXPublicKey(ans.PublicKey)
	if err != nil {
		return fmt.Errorf("second process: its public key: %w", err)
	}
	if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(got) {
		return errors.New("the second process opened another key under the same name")
	}
	if err := verifyDigest(pub, digest, ans.Signature); err != nil {
		return fmt.Errorf("second process: %w", err)
	}
	return nil
}
