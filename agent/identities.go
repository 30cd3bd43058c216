package agent

import (
	"context"
	"crypto/x509"
	"fmt"
	"sort"
	"time"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
)

const day = 24 * time.Hour

// Identities returns the chooser model: every certificate in the store that this
// bank's CA issued with this bank's code, labelled and with its state, the one last
// used to log in first, then the rest by label.
func (a *Agent) Identities(ctx context.Context) ([]*Identity, error) {
	ids, _, err := a.identities(ctx)
	if err != nil {
		return nil, fmt.Errorf("list certificates: %w", err)
	}
	return ids, nil
}

// identities lists the bank's identities, with the store's own records by fingerprint.
func (a *Agent) identities(ctx context.Context) ([]*Identity, map[certstore.Fingerprint]*certstore.Identity, error) {
	ca, err := a.bankCA(ctx)
	if err != nil {
		return nil, nil, err
	}
	all, err := a.store.List(ctx, certstore.ListOptions{})
	if err != nil {
		return nil, nil, err
	}
	st, err := a.state.snapshot()
	if err != nil {
		return nil, nil, err
	}
	var ids []*Identity
	raw := map[certstore.Fingerprint]*certstore.Identity{}
	for _, sid := range all {
		id, ok := a.describe(ca, sid, st[sid.Fingerprint])
		if !ok {
			continue
		}
		ids = append(ids, id)
		raw[sid.Fingerprint] = sid
	}
	sort.SliceStable(ids, func(i, j int) bool {
		if !ids[i].LastUsed.Equal(ids[j].LastUsed) {
			return ids[i].LastUsed.After(ids[j].LastUsed)
		}
		if ids[i].Label != ids[j].Label {
			return ids[i].Label < ids[j].Label
		}
		return ids[i].NotAfter.After(ids[j].NotAfter)
	})
	return ids, raw, nil
}

// identity finds the bank's identity with this fingerprint.
func (a *Agent) identity(ctx context.Context, fp certstore.Fingerprint) (*Identity, *certstore.Identity, error) {
	_, raw, err := a.identities(ctx)
	if err != nil {
		return nil, nil, err
	}
	sid, ok := raw[fp]
	if !ok {
		return nil, nil, fmt.Errorf("certificate %s: %w", fp, ErrNoIdentity)
	}
	st, err := a.state.snapshot()
	if err != nil {
		return nil, nil, err
	}
	ca, err := a.bankCA(ctx)
	if err != nil {
		return nil, nil, err
	}
	id, _ := a.describe(ca, sid, st[fp])
	return id, sid, nil
}

// describe labels a store identity for the chooser; ok is false when it is not
// from this bank.
func (a *Agent) describe(ca *x509.Certificate, sid *certstore.Identity, st certState) (*Identity, bool) {
	cert := sid.Certificate
	if !issuedBy(ca, cert, sid.Chain) {
		return nil, false
	}
	subj, err := wire.SubjectOf(cert)
	if err != nil || subj.BankCode != a.cfg.BankCode {
		return nil, false
	}
	now := a.now()
	id := &Identity{
		Fingerprint: Fingerprint(sid.Fingerprint),
		Label:       subj.Label(),
		BankName:    a.cfg.BankName,
		Subject:     subj,
		Certificate: cert,
		NotBefore:   cert.NotBefore,
		NotAfter:    cert.NotAfter,
		DaysLeft:    daysLeft(now, cert.NotAfter),
		RenewFrom:   cert.NotAfter.Add(-time.Duration(a.cfg.renewBefore()) * day),
		RenewUntil:  cert.NotAfter.Add(time.Duration(a.cfg.renewAfter()) * day),
		LastUsed:    st.LastUsed,
		Exportable:  sid.Exportable,
		Store:       a.store.Kind(),
	}
	id.State = stateAt(now, id, !st.RevokedSeen.IsZero())
	if sid.Unusable != "" {
		id.State, id.Problem = StateUnusable, sid.Unusable
	}
	return id, true
}

// stateAt labels a certificate at now, from its dates, the renewal window and
// whether the server last refused it as revoked, with the day boundaries of the
// package doc ("Day boundaries").
func stateAt(now time.Time, id *Identity, revoked bool) State {
	switch {
	case revoked:
		return StateRevoked
	case now.Before(id.NotBefore):
		return StateNotYetValid
	case now.After(id.NotAfter):
		if renewalOpen(now, id) {
			return StateExpiredRenewable
		}
		return StateExpired
	case renewalOpen(now, id):
		return StateRenewable
	case id.NotAfter.Sub(now) <= 30*day:
		return StateExpiring
	}
	return StateValid
}

// renewalOpen reports whether now is inside id's renewal window, both ends included.
func renewalOpen(now time.Time, id *Identity) bool {
	return !now.Before(id.RenewFrom) && !now.After(id.RenewUntil)
}

// daysLeft is the whole 24-hour periods from now until notAfter: 0 from one day
// before notAfter through notAfter itself, negative once expired (-1 during the
// first day after notAfter), as the server counts them in its notices.
func daysLeft(now, notAfter time.Time) int {
	d := notAfter.Sub(now)
	if d < 0 {
		return -int((-d + day - 1) / day)
	}
	return int(d / day)
}

// issuedBy reports whether cert chains to ca, through chain's intermediates if any.
// Validity dates are not checked here: an expired certificate is still the bank's.
func issuedBy(ca, cert *x509.Certificate, chain []*x509.Certificate) bool {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	inter := x509.NewCertPool()
	for _, c := range chain {
		inter.AddCert(c)
	}
	_, err := cert.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   cert.NotBefore.Add(time.Second),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	return err == nil
}

// AutoChoice returns the one usable identity when there is exactly one, so that no
// choice need be asked; otherwise nil and false (none usable, or several).
func AutoChoice(ids []*Identity) (*Identity, bool) {
	var only *Identity
	for _, id := range ids {
		if !id.State.Usable() {
			continue
		}
		if only != nil {
			return nil, false
		}
		only = id
	}
	return only, only != nil
}

// Delete removes a certificate of this bank and its key from the store.
func (a *Agent) Delete(ctx context.Context, fp Fingerprint) error {
	if _, _, err := a.identity(ctx, fp.inStore()); err != nil {
		return fmt.Errorf("delete certificate: %w", err)
	}
	a.dropClient(fp.inStore())
	if err := a.store.Delete(ctx, fp.inStore()); err != nil {
		return fmt.Errorf("delete certificate %s: %w", fp.inStore(), err)
	}
	if err := a.state.update(func(m map[certstore.Fingerprint]certState) { delete(m, fp.inStore()) }); err != nil {
		return fmt.Errorf("delete certificate %s: %w", fp.inStore(), err)
	}
	a.syncBrowserAfter(ctx)
	return nil
}
