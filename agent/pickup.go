package agent

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"strings"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
)

// Pickup picks up (電子証明書取得) the certificate issued for loginID: it generates a
// key pair in the store, sends a CSR with the login ID and password over EST
// simpleenroll, checks the issued certificate against the key and the bank's CA,
// and attaches it to the key. A failed or refused pickup leaves no key behind,
// except when the server issued the certificate and the store could not install
// it: then the error is a [*NotSavedError], and the key is kept for the next
// Pickup of loginID by this agent, which sends the same CSR and so receives the
// same certificate (see [KeptKeyGrace]).
//
// Older certificates of the same login ID from this bank are removed once the new
// one is installed: the server has superseded them.
func (a *Agent) Pickup(ctx context.Context, loginID, password string, progress ProgressFunc) (*Identity, error) {
	if err := a.checkLoginIDForm(loginID); err != nil {
		return nil, fmt.Errorf("pick up certificate: %w", err)
	}
	report := reporter(progress)
	report(StepPrepare)
	c, err := a.client(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("pick up certificate for %s: %w", loginID, err)
	}
	// The certificates this one supersedes: CN "<loginID>+<bankCode>", or the
	// bare login ID of older servers' certificates (see [wire.Subject]).
	var old []*certstore.Identity
	for _, cn := range []string{wire.Subject{LoginID: loginID, BankCode: a.cfg.BankCode}.Label(), loginID} {
		ids, err := a.store.List(ctx, certstore.ListOptions{LoginID: cn})
		if err != nil {
			return nil, fmt.Errorf("pick up certificate for %s: %w", loginID, err)
		}
		old = append(old, ids...)
	}
	keyOpts := func() (certstore.KeyOptions, error) {
		attrs, err := csrAttrs(ctx, c, loginID, password)
		if err != nil {
			return certstore.KeyOptions{}, err
		}
		return keyOptions(attrs, attrs.Role), nil
	}
	id, err := a.obtain(ctx, report, keptSlot{name: loginID}, keyOpts, &x509.CertificateRequest{Subject: pkix.Name{CommonName: loginID}}, func(csr []byte) ([]*x509.Certificate, error) {
		return enroll(ctx, c, pathSimpleEnroll, csr, loginID, password)
	})
	if err != nil {
		return nil, fmt.Errorf("pick up certificate for %s: %w", loginID, err)
	}
	if !strings.EqualFold(id.Subject.LoginID, loginID) {
		// The server issued for another ID: keep nothing of it.
		_ = a.store.Delete(ctx, id.Fingerprint.inStore())
		return nil, fmt.Errorf("pick up certificate for %s: the server issued it for %q", loginID, id.Subject.LoginID)
	}
	ca, _ := a.bankCA(ctx)
	for _, o := range old {
		if o.Fingerprint != id.Fingerprint.inStore() && issuedBy(ca, o.Certificate, o.Chain) {
			if err := a.forget(ctx, o.Fingerprint); err != nil {
				return id, fmt.Errorf("pick up certificate for %s: installed, but the superseded one is still there: %w", loginID, err)
			}
		}
	}
	a.syncBrowserAfter(ctx)
	report(StepDone)
	return id, nil
}

// CheckPickup asks the bank whether loginID and password would be let in to
// 電子証明書取得, before anything is made on this PC: the window's
// 電子証明書取得前処理中 calls it, so 電子証明書取得開始 appears only for a
// login the bank accepted. The bank answers its CSR attributes (RFC 7030
// §4.5) to a right ID and password, and refuses them as it would the pickup,
// a lapsed pickup window included (wire.CodePickupLapsed, or
// wire.CodeContractBlocked for a contract whose admin window lapsed).
func (a *Agent) CheckPickup(ctx context.Context, loginID, password string) error {
	c, err := a.client(ctx, nil)
	if err != nil {
		return fmt.Errorf("check pickup for %s: %w", loginID, err)
	}
	if _, err := csrAttrs(ctx, c, loginID, password); err != nil {
		return fmt.Errorf("check pickup for %s: %w", loginID, err)
	}
	return nil
}

// forget deletes an identity from the store and from the state file, and closes
// its client's connections.
func (a *Agent) forget(ctx context.Context, fp certstore.Fingerprint) error {
	a.dropClient(fp)
	if err := a.store.Delete(ctx, fp); err != nil {
		var nf *certstore.NotFoundError
		if !errors.As(err, &nf) {
			return err
		}
	}
	return a.state.update(func(m map[certstore.Fingerprint]certState) { delete(m, fp) })
}

// obtain has issue turn a CSR into a chain, checks the chain and attaches it to
// the CSR's key. The key and CSR are the ones kept for slot when there are (see
// [NotSavedError]), else a new key pair generated in the store as keyOpts says
// (the bank's csrattrs). When the server
// issued a certificate that the store could not install, or a kept key fails
// again short of a refusal of the key itself, the key is kept for slot; on any
// other failure it is discarded.
func (a *Agent) obtain(ctx context.Context, report ProgressFunc, slot keptSlot, keyOpts func() (certstore.KeyOptions, error), template *x509.CertificateRequest, issue func(csr []byte) ([]*x509.Certificate, error)) (_ *Identity, err error) {
	ca, err := a.bankCA(ctx)
	if err != nil {
		return nil, err
	}
	e := a.takeKept(ctx, slot)
	if e == nil {
		opts, err := keyOpts()
		if err != nil {
			return nil, err
		}
		report(StepGenerateKey)
		key, err := a.store.GenerateKey(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("generate the %s key pair the bank asks for: %w", opts.Algorithm, err)
		}
		e = &enrollment{key: key}
	}
	issued, attached := !e.keptAt.IsZero(), false
	defer func() {
		switch {
		case err == nil, attached:
		case issued && !keyRefused(err):
			a.keep(ctx, slot, e)
		default:
			// The caller hears about the first failure; a failed discard of a
			// pending key leaves nothing listed.
			_ = e.key.Discard(context.WithoutCancel(ctx))
		}
	}()
	if e.csr == nil {
		if e.csr, err = x509.CreateCertificateRequest(rand.Reader, template, e.key.Signer()); err != nil {
			return nil, fmt.Errorf("create certificate request: %w", err)
		}
	}

	report(StepIssue)
	certs, err := issue(e.csr)
	if err != nil {
		return nil, err
	}
	if inter, err := a.intermediates(ctx); err == nil {
		certs = append(certs, inter...)
	} else if len(certs) == 1 {
		// Without the issuing CA a leaf alone cannot be checked.
		return nil, err
	}
	chain, subj, err := a.checkIssued(ca, certs, e.key)
	if err != nil {
		return nil, err
	}

	report(StepInstall)
	sid, err := e.key.Attach(ctx, chain, subj.Label())
	if err != nil {
		issued = true
		return nil, fmt.Errorf("install certificate: %w", &NotSavedError{Renewal: slot.renewal, Err: err})
	}
	attached = true
	id, ok := a.describe(ca, sid, certState{})
	if !ok {
		return nil, fmt.Errorf("install certificate: %w", ErrNotFromBank)
	}
	return id, nil
}

// checkIssued finds the leaf for key among certs, checks it chains to the bank's CA
// and carries this bank's subject, and returns the chain leaf first, root last.
func (a *Agent) checkIssued(ca *x509.Certificate, certs []*x509.Certificate, key certstore.Key) ([]*x509.Certificate, wire.Subject, error) {
	pub := key.Signer().Public()
	var leaf *x509.Certificate
	inter := x509.NewCertPool()
	for _, c := range certs {
		if eq, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && eq.Equal(pub) {
			leaf = c
		} else if !bytes.Equal(c.Raw, ca.Raw) {
			inter.AddCert(c)
		}
	}
	if leaf == nil {
		return nil, wire.Subject{}, errors.New("the server's answer holds no certificate for the key generated on this PC")
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter,
		CurrentTime: leaf.NotBefore.Add(1),
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, wire.Subject{}, fmt.Errorf("the issued certificate does not chain to the bank's CA: %w: %w", ErrNotFromBank, err)
	}
	subj, err := wire.SubjectOf(leaf)
	if err != nil {
		return nil, wire.Subject{}, fmt.Errorf("the issued certificate: %w: %w", ErrNotFromBank, err)
	}
	if !strings.EqualFold(subj.BankCode, a.cfg.BankCode) {
		return nil, wire.Subject{}, fmt.Errorf("the issued certificate carries bank code %s, not %s: %w", subj.BankCode, a.cfg.BankCode, ErrNotFromBank)
	}
	return chains[0], subj, nil
}

// reporter returns progress, or a no-op when it is nil.
func reporter(progress ProgressFunc) ProgressFunc {
	if progress == nil {
		return func(Step) {}
	}
	return progress
}
