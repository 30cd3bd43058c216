package e2e

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"strconv"
	"strings"
	"testing"

	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/wire"
)

// The bank's policy names the key; csrattrs carries it; the agent makes it,
// picks up and logs in with it.
func TestPickupAndLoginWithTheKeyTypeOfThePolicy(t *testing.T) {
	for _, kt := range wire.KeyTypes {
		t.Run(string(kt), func(t *testing.T) {
			b := startBankWithPolicy(t, func(p *server.PolicyConfig) { p.KeyType = kt })
			b.user("kanri", wire.RoleAdmin, true)
			pc := b.pc()
			id := b.pickup(pc, "kanri")
			switch k := id.Certificate.PublicKey.(type) {
			case *rsa.PublicKey:
				if string(kt) != "rsa-"+strconv.Itoa(k.N.BitLen()) {
					t.Fatalf("policy %s, certificate RSA-%d", kt, k.N.BitLen())
				}
			case *ecdsa.PublicKey:
				if want := map[wire.KeyType]string{wire.KeyECDSAP256: "P-256", wire.KeyECDSAP384: "P-384"}[kt]; k.Curve.Params().Name != want {
					t.Fatalf("policy %s, certificate ECDSA %s", kt, k.Curve.Params().Name)
				}
			default:
				t.Fatalf("policy %s, certificate key %T", kt, k)
			}
			b.login(pc, id)
		})
	}
}

// The self-check on a store without one of its own (here memory; the keyring
// store on Linux runs the same steps through the Secret Service): the bank's
// key type, a key made, used and discarded, nothing left behind.
func TestDoctorChecksTheBanksKeyTypeInTheStore(t *testing.T) {
	b := startBankWithPolicy(t, func(p *server.PolicyConfig) { p.KeyType = wire.KeyECDSAP384 })
	pc := b.pc()
	r := pc.Doctor(t.Context())
	if !r.OK() || r.KeyType != wire.KeyECDSAP384 || len(r.Banks) != 1 || len(r.Banks[0].Steps) != 4 || len(r.Steps) != 3 {
		t.Fatalf("report:\n%s", r.Text("ja"))
	}
	for _, call := range []string{"GET /.well-known/est/csrattrs", "memory: GenerateKey", "memory: Sign", "memory: Discard"} {
		if !strings.Contains(r.Text("ja"), "[成功] ") || !strings.Contains(r.Text("ja"), call) {
			t.Fatalf("report lacks %q:\n%s", call, r.Text("ja"))
		}
	}
	if ids, err := pc.Identities(t.Context()); err != nil || len(ids) != 0 {
		t.Fatalf("the self-check left %d identities (%v)", len(ids), err)
	}

	// A bank that cannot be reached is a failed step, the bank's other steps
	// are skipped, and the store's go on with P-256.
	off := b.pcVia("https://127.0.0.1:1")
	r = off.Doctor(t.Context())
	bank := r.Banks[0]
	if r.OK() || bank.Steps[0].OK || !bank.Steps[1].Skipped || !bank.Steps[3].Skipped || r.KeyType != wire.KeyECDSAP256 || !r.Steps[0].OK {
		t.Fatalf("report with the bank unreachable:\n%s", r.Text("ja"))
	}
}
