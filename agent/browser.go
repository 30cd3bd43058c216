package agent

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/certstore/nssdb"
)

// BrowserCopyError says that the browser's copy of the certificates (the NSS
// database on Linux) could not be brought up to date. The agent's own
// certificates are fine: a pickup, renewal or restore that reports it has
// succeeded. [Message] says what to do.
type BrowserCopyError struct {
	Dir string
	Err error
}

func (e *BrowserCopyError) Error() string {
	return fmt.Sprintf("update the browser's certificates in %s: %v", e.Dir, e.Err)
}

func (e *BrowserCopyError) Unwrap() error { return e.Err }

// browserCopy is the agent's mirror of its identities into the user's NSS
// database, where Chromium looks for client certificates on Linux.
type browserCopy struct {
	mu      sync.Mutex // one sync at a time: certutil runs are not atomic together
	db      nssdb.DB
	lastErr error
}

// browserCopyOn reports whether the agent keeps the browser's copy for a
// store of this kind: by default for the keyring store on Linux, where a
// user's certificates live and Chromium cannot see them (the Windows store is
// the browser's own; dir: and memory stores are for scripts and tests); always
// as the configuration's browser_copy says when it says so.
func browserCopyOn(cfg Config, storeKind string) bool {
	if cfg.BrowserCopy != nil {
		return *cfg.BrowserCopy
	}
	return runtime.GOOS == "linux" && storeKind == "keyring"
}

// BrowserCopyDir is the NSS database the agent keeps the browser's copy in,
// "" when the copy is off.
func (a *Agent) BrowserCopyDir() string {
	if a.browser == nil {
		return ""
	}
	return a.browser.db.Dir
}

// SyncBrowser makes the browser's copy match the agent's store: every
// identity of this bank that is not known to be revoked or replaced, with key
// and the bank's CA chain, under its label <loginID>+<bankCode>; a renewed
// identity replaces the old one under the same label, and a deleted or revoked
// one leaves. The bank's root is trusted for TLS servers only when the
// configuration's trust_bank_root says so. It returns nil when the copy is
// switched off. Pickup, Renew, Delete and Restore call it themselves and keep
// its error for [Agent.BrowserCopyProblem] rather than fail.
func (a *Agent) SyncBrowser(ctx context.Context) error {
	if a.browser == nil {
		return nil
	}
	a.browser.mu.Lock()
	defer a.browser.mu.Unlock()
	err := a.syncBrowserLocked(ctx)
	if err != nil {
		err = &BrowserCopyError{Dir: a.browser.db.Dir, Err: err}
	}
	a.browser.lastErr = err
	return err
}

// BrowserCopyProblem is the error of the last browser copy, nil when it
// worked or is off.
func (a *Agent) BrowserCopyProblem() error {
	if a.browser == nil {
		return nil
	}
	a.browser.mu.Lock()
	defer a.browser.mu.Unlock()
	return a.browser.lastErr
}

// syncBrowserAfter runs after a change to the store; its error is kept, not returned.
func (a *Agent) syncBrowserAfter(ctx context.Context) {
	_ = a.SyncBrowser(ctx)
}

func (a *Agent) syncBrowserLocked(ctx context.Context) error {
	db := a.browser.db
	if err := db.Ensure(ctx); err != nil {
		return err
	}
	root, err := a.bankCA(ctx)
	if err != nil {
		return err
	}
	ids, raw, err := a.identities(ctx)
	if err != nil {
		return err
	}
	// want: per label, the newest identity that may still log in.
	want := map[string]*Identity{}
	for _, id := range ids {
		if id.State == StateRevoked {
			continue
		}
		if w, ok := want[id.Label]; !ok || id.NotAfter.After(w.NotAfter) {
			want[id.Label] = id
		}
	}
	entries, err := db.List(ctx)
	if err != nil {
		return err
	}
	suffix := "+" + a.cfg.BankCode
	issuers := a.issuers(ctx, raw)
	have := map[string]bool{}
	var errs []error
	for _, e := range entries {
		if !strings.HasSuffix(e.Nickname, suffix) || have[e.Nickname] {
			continue
		}
		certs, err := db.Certificates(ctx, e.Nickname)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		w := want[e.Nickname]
		ours, current := false, false
		for _, c := range certs {
			if bankIssued(root, issuers, c) {
				ours = true
				current = current || (w != nil && certstore.FingerprintOf(c) == w.Fingerprint.inStore())
			}
		}
		if !ours {
			continue // someone else's certificate that happens to share the label: not ours to touch
		}
		if current && len(certs) == 1 {
			have[e.Nickname] = true
			continue
		}
		// Renewed, deleted or revoked: the old copy goes before the new one comes,
		// so that the nickname names one certificate only.
		if err := db.Remove(ctx, e.Nickname); err != nil {
			errs = append(errs, err)
		}
	}
	for label, id := range want {
		if have[label] {
			continue
		}
		if err := a.copyToBrowser(ctx, db, raw[id.Fingerprint.inStore()]); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", label, err))
		}
	}
	if err := a.addCAs(ctx, db, root, raw); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// copyToBrowser imports one identity through a PKCS#12 file under a one-time password.
func (a *Agent) copyToBrowser(ctx context.Context, db nssdb.DB, sid *certstore.Identity) error {
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	password := base64.RawURLEncoding.EncodeToString(secret)
	// The copy stays on this PC for this user: a key the backup policy keeps
	// out of PKCS#12 backups still goes to the browser, where the store can copy it.
	var pfx []byte
	var err error
	if c, ok := a.store.(certstore.BrowserCopier); ok {
		pfx, err = c.CopyForBrowser(ctx, sid.Fingerprint, password)
	} else {
		pfx, err = a.store.Export(ctx, []certstore.Fingerprint{sid.Fingerprint}, password, certstore.ExportOptions{})
	}
	if err != nil {
		return err
	}
	return db.ImportPKCS12(ctx, pfx, password)
}

// addCAs stores the bank's CA chain: the issuing CAs only to build the chain,
// the root trusted for TLS servers only when the user agreed (trust_bank_root).
func (a *Agent) addCAs(ctx context.Context, db nssdb.DB, root *x509.Certificate, raw map[certstore.Fingerprint]*certstore.Identity) error {
	seen := map[certstore.Fingerprint]bool{}
	var errs []error
	for _, sid := range raw {
		for _, c := range sid.Chain {
			fp := certstore.FingerprintOf(c)
			if seen[fp] || c.Equal(root) || !c.IsCA {
				continue
			}
			seen[fp] = true
			if err := db.AddCA(ctx, c.Subject.CommonName, c, false); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := db.AddCA(ctx, root.Subject.CommonName, root, a.cfg.TrustBankRoot); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// bankIssued reports whether c was issued by the bank: by its root, or by an
// issuing CA that the root signed.
func bankIssued(root *x509.Certificate, issuers []*x509.Certificate, c *x509.Certificate) bool {
	if c.CheckSignatureFrom(root) == nil {
		return true
	}
	for _, ca := range issuers {
		if ca.CheckSignatureFrom(root) == nil && c.CheckSignatureFrom(ca) == nil {
			return true
		}
	}
	return false
}

// issuers are the bank's issuing CAs: from the chains in the store, else (the
// store holds none of the bank's identities any more) from the bank's server.
func (a *Agent) issuers(ctx context.Context, raw map[certstore.Fingerprint]*certstore.Identity) []*x509.Certificate {
	var out []*x509.Certificate
	for _, sid := range raw {
		for _, c := range sid.Chain {
			if c.IsCA {
				out = append(out, c)
			}
		}
	}
	if len(out) == 0 {
		out, _ = a.intermediates(ctx) // unreachable server: only root-issued copies are recognized
	}
	return out
}
