package e2e

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"strconv"
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
