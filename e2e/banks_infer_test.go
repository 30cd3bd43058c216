package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/wire"
)

// Two banks that publish the form of their login IDs: each server refuses an
// ID of another form, its agent configuration carries the form, and the agent
// finds the one bank an ID belongs to, picks up there, and names both banks
// when a third without a published form could also have issued it.
func TestTheBankOfALoginIDIsInferredFromTheFormEachBankPublishes(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Now().Truncate(time.Second)}
	inkan := startBankAs(t, "1376", "いんかん信用金庫", clk, func(p *server.PolicyConfig) { p.LoginIDPattern = "[a-z][a-z0-9]{3,15}" })
	sakura := startBankAs(t, "2005", "さくら信用金庫", clk, func(p *server.PolicyConfig) { p.LoginIDPattern = "[0-9]{10}" })
	if inkan.cfg.LoginIDPattern != "[a-z][a-z0-9]{3,15}" || sakura.cfg.LoginIDPattern != "[0-9]{10}" {
		t.Fatalf("agent configurations carry %q and %q", inkan.cfg.LoginIDPattern, sakura.cfg.LoginIDPattern)
	}
	err := sakura.op.CreateUser(ctx, sakura.contract, "kanri", wire.RoleAdmin, "", "", password("kanri"))
	if !errors.Is(err, lifecycle.ErrBadRequest) {
		t.Fatalf("さくら created an ID of another form: %v", err)
	}
	inkan.user("kanri", wire.RoleAdmin, true)
	sakura.user("2005000001", wire.RoleAdmin, true)

	pc := twoBanksPC(t, memStore(t), clk, inkan, sakura)
	for id, want := range map[string]string{"kanri": "1376", "2005000001": "2005"} {
		a, err := pc.ForLoginID(id)
		if err != nil || a.Config().BankCode != want {
			t.Fatalf("%s: bank %v (%v), want %s", id, a, err, want)
		}
		got := sakura.pickup(a, id) // the helper only supplies the password
		if got.Subject.BankCode != want {
			t.Fatalf("%s picked up at %s", id, got.Subject.BankCode)
		}
	}
	if _, err := pc.ForLoginID("K-1"); !errors.Is(err, agent.ErrNoBankForID) {
		t.Fatalf("an ID of neither form: %v, want ErrNoBankForID", err)
	}

	// A bank that publishes no form may have issued any ID: then it is ambiguous.
	open := inkan.cfg
	open.BankCode, open.BankName, open.LoginIDPattern = "0003", "ひばり信用金庫", ""
	third := twoBanksPC(t, memStore(t), clk, inkan, sakura, &bank{cfg: open})
	if _, err := third.ForLoginID("kanri"); !errors.Is(err, agent.ErrChooseBank) {
		t.Fatalf("with a bank of no published form: %v, want ErrChooseBank", err)
	}
	if got := agent.BanksFor([]agent.Config{{BankConfig: inkan.cfg}, {BankConfig: sakura.cfg}, {BankConfig: open}}, "2005000001"); len(got) != 2 || got[0].BankCode != "2005" || got[1].BankCode != "0003" {
		t.Fatalf("BanksFor 2005000001: %v", got)
	}
}
