package e2e

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/inkan-dev/inkan/wire"
)

// lossyProxy relays TCP between PCs and the server on 127.0.0.1 without looking
// into it: TLS stays end to end. Armed, it loses the server's next answer once
// the server has issued a certificate: the bytes that follow the issuance are
// swallowed and both connections closed, as when an answer is lost in transit
// after the server committed.
type lossyProxy struct {
	t      testing.TB
	ln     net.Listener
	target string
	issued func() int // how many certificates the server has signed

	mu       sync.Mutex
	armed    bool
	baseline int // issued() when armed
	lost     int // answers lost so far
	conns    []net.Conn
	wg       sync.WaitGroup
}

func newLossyProxy(t testing.TB, target string, issued func() int) *lossyProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &lossyProxy{t: t, ln: ln, target: target, issued: issued}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *lossyProxy) url() string { return "https://" + p.ln.Addr().String() }

// loseNextAnswer arms the proxy for one lost answer.
func (p *lossyProxy) loseNextAnswer() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed, p.baseline = true, p.issued()
}

func (p *lossyProxy) lostAnswers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lost
}

func (p *lossyProxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			p.t.Errorf("proxy: dial the server: %v", err)
			client.Close()
			return
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			io.Copy(server, client)
			server.Close()
		}()
		go func() {
			defer p.wg.Done()
			p.relayAnswers(client, server)
			client.Close()
		}()
	}
}

// relayAnswers copies the server's bytes to the PC until, armed, it sees the
// first bytes sent after a new issuance: those it drops, closing both ends.
func (p *lossyProxy) relayAnswers(client, server net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			if p.lose() {
				server.Close()
				return
			}
			if _, werr := client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// lose reports whether the bytes in hand are an answer to lose, and counts it.
func (p *lossyProxy) lose() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.armed || p.issued() <= p.baseline {
		return false
	}
	p.armed = false
	p.lost++
	return true
}

// signed counts the certificates the server has signed for loginID (issuances
// picked up or renewed: records with a serial).
func (b *bank) signed(loginID string) int {
	b.t.Helper()
	certs, err := b.op.ListCertificates(context.Background(), loginID)
	if err != nil {
		b.t.Errorf("list certificates: %v", err)
		return 0
	}
	n := 0
	for _, c := range certs {
		if c.Serial != "" {
			n++
		}
	}
	return n
}

func TestPickupWhoseAnswerWasLostSucceedsWithOneCertificateIssued(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	b.user("kanri", wire.RoleAdmin, true)
	proxy := newLossyProxy(t, strings.TrimPrefix(b.cfg.ServerURL, "https://"), func() int { return b.signed("kanri") })
	pc := b.pcVia(proxy.url())

	proxy.loseNextAnswer()
	id := b.pickup(pc, "kanri")
	if proxy.lostAnswers() != 1 {
		t.Fatalf("the proxy lost %d answers, want 1", proxy.lostAnswers())
	}
	if n := b.signed("kanri"); n != 1 {
		t.Fatalf("%d certificates signed for kanri, want exactly 1", n)
	}
	u, err := b.op.User(ctx, "kanri")
	if err != nil || u.Certificate.Serial != id.Certificate.SerialNumber.Text(16) {
		t.Fatalf("the server's current certificate is not the one on the PC: %+v, %v", u.Certificate, err)
	}
	b.login(pc, id)
}

func TestRenewalWhoseAnswerWasLostSucceedsWithOneCertificateIssued(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	b.user("kanri", wire.RoleAdmin, true)
	proxy := newLossyProxy(t, strings.TrimPrefix(b.cfg.ServerURL, "https://"), func() int { return b.signed("kanri") })
	pc := b.pcVia(proxy.url())
	old := b.pickup(pc, "kanri")

	b.clock.t = old.NotAfter.Add(-10 * day)
	proxy.loseNextAnswer()
	renewed, err := pc.Renew(ctx, old.Fingerprint, nil)
	if err != nil {
		t.Fatalf("renewal whose answer was lost: %v", err)
	}
	if proxy.lostAnswers() != 1 {
		t.Fatalf("the proxy lost %d answers, want 1", proxy.lostAnswers())
	}
	if n := b.signed("kanri"); n != 2 {
		t.Fatalf("%d certificates signed for kanri, want 2 (the pickup and one renewal)", n)
	}
	ids, err := pc.Identities(ctx)
	if err != nil || len(ids) != 1 || ids[0].Fingerprint != renewed.Fingerprint {
		t.Fatalf("after the renewal the PC holds %d certificates (%v), want only the renewed one", len(ids), err)
	}
	u, err := b.op.User(ctx, "kanri")
	if err != nil || u.Certificate.Serial != renewed.Certificate.SerialNumber.Text(16) {
		t.Fatalf("the server's current certificate is not the one on the PC: %+v, %v", u.Certificate, err)
	}
	b.login(pc, renewed)
}
