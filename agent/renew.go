package agent

import (
	"context"
	"crypto/x509"
	"fmt"

	"github.com/inkan-dev/inkan/certstore"
)

// Renew renews (更新) the certificate with fingerprint fp: it generates a new key
// pair, proves itself with the current certificate as the TLS client certificate
// over EST simplereenroll, installs the new certificate, and only then removes the
// old one, so no failure leaves the user without a certificate. The server decides
// whether renewal is open (see [wire.CodeNotRenewableYet], [wire.CodeRenewalWindowClosed]).
//
// When the server renewed but the store could not install the new certificate,
// the error is a [*NotSavedError]: the old certificate stays, and the new key is
// kept for the next Renew of fp by this agent, which sends the same CSR and so
// receives the same certificate (see [KeptKeyGrace]).
//
// If the old certificate cannot be removed after the new one is installed, Renew
// returns the new identity together with the error.
func (a *Agent) Renew(ctx context.Context, fp Fingerprint, progress ProgressFunc) (*Identity, error) {
	report := reporter(progress)
	report(StepPrepare)
	cur, sid, err := a.identity(ctx, fp.inStore())
	if err != nil {
		return nil, fmt.Errorf("renew certificate: %w", err)
	}
	if cur.State == StateUnusable {
		return nil, fmt.Errorf("renew certificate %s: %w: %s", cur.Label, ErrKeyUnusable, cur.Problem)
	}
	c, err := a.client(ctx, sid)
	if err != nil {
		return nil, fmt.Errorf("renew certificate %s: %w", cur.Label, err)
	}
	// RFC 7030 §4.2.2: the renewal CSR repeats the current subject exactly.
	template := &x509.CertificateRequest{RawSubject: sid.Certificate.RawSubject}
	keyOpts := func() (certstore.KeyOptions, error) {
		attrs, err := csrAttrs(ctx, c, "", "")
		if err != nil {
			return certstore.KeyOptions{}, err
		}
		return keyOptions(attrs, cur.Subject.Role), nil
	}
	id, err := a.obtain(ctx, report, keptSlot{renewal: true, name: string(fp)}, keyOpts, template, func(csr []byte) ([]*x509.Certificate, error) {
		return enroll(ctx, c, pathSimpleReenroll, csr, "", "")
	})
	if err != nil {
		a.noteRefusal(fp.inStore(), err)
		return nil, fmt.Errorf("renew certificate %s: %w", cur.Label, err)
	}
	lastUsed := cur.LastUsed
	if err := a.state.update(func(m map[certstore.Fingerprint]certState) {
		m[id.Fingerprint.inStore()] = certState{LastUsed: lastUsed}
	}); err != nil {
		return id, fmt.Errorf("renew certificate %s: the new certificate is installed: %w", cur.Label, err)
	}
	id.LastUsed = lastUsed
	if err := a.forget(ctx, fp.inStore()); err != nil {
		return id, fmt.Errorf("renew certificate %s: the new certificate is installed, the old one could not be removed: %w", cur.Label, err)
	}
	a.syncBrowserAfter(ctx)
	report(StepDone)
	return id, nil
}
