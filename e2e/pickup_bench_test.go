package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/inkan-dev/inkan/wire"
)

// BenchmarkPickup times one pickup on loopback: key generation in the memory
// store, CSR, EST simpleenroll over the agent's kept-alive TLS connection with
// the server's password check and signing, chain check, and the identity stored.
func BenchmarkPickup(b *testing.B) {
	bank := startBank(b)
	bank.user("kanri", wire.RoleAdmin, true)
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = fmt.Sprintf("user%05d", i)
		bank.user(ids[i], wire.RoleGeneral, true)
	}
	pc := bank.pc()
	ctx := context.Background()
	if _, err := pc.Pickup(ctx, "kanri", password("kanri"), nil); err != nil { // warms the CA fetch and TLS
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := pc.Pickup(ctx, ids[i], password(ids[i]), nil); err != nil {
			b.Fatal(err)
		}
	}
}
