package lifecycle

import (
	"testing"
	"time"

	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/wire"
)

// TestValidityAndRenewalWindowIncludeTheirEnds: a certificate is valid through
// its notAfter (RFC 5280 §4.1.2.5), and the renewal window runs from
// notAfter-30d through notAfter+90d, both ends included.
func TestValidityAndRenewalWindowIncludeTheirEnds(t *testing.T) {
	b := newBench(t, nil)
	cert := b.mustPickup(newKey(t))
	na := cert.NotAfter
	p := b.svc.Policy
	from, until := p.RenewalWindow(na)
	if !from.Equal(na.Add(-30*Day)) || !until.Equal(na.Add(90*Day)) {
		t.Fatalf("renewal window %s..%s for notAfter %s", from, until, na)
	}
	nb := cert.NotBefore
	rec := &store.Certificate{Status: store.CertActive, NotBefore: &nb, NotAfter: &na}
	if st := b.svc.CertificateView(rec, na).State; st != wire.CertActive {
		t.Fatalf("state at notAfter: %s, want active", st)
	}
	if st := b.svc.CertificateView(rec, na.Add(time.Second)).State; st != wire.CertExpired {
		t.Fatalf("state a second after notAfter: %s, want expired", st)
	}
	b.now = from.Add(-time.Second)
	if _, err := b.renew(cert, newKey(t)); err == nil {
		t.Fatal("renewed a second before the window")
	}
	b.now = until
	if _, err := b.renew(cert, newKey(t)); err != nil {
		t.Fatalf("renewal at the last instant of the window: %v", err)
	}
}
