package e2e

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
)

// twoBanksPC is one PC's agent for both banks, over store.
func twoBanksPC(t *testing.T, store certstore.Store, clk *clock, banks ...*bank) *agent.Banks {
	t.Helper()
	var cfgs []agent.Config
	for _, b := range banks {
		cfgs = append(cfgs, agent.Config{BankConfig: b.cfg})
	}
	pc, err := agent.NewBanks(cfgs, store, agent.Options{Now: clk.now, StateDir: t.TempDir(), RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// TestOneAgentServesTwoBanksWithTheRightCertificateForEach runs two real servers
// of two banks (two inkan-server data directories, two CAs) and one agent store:
// the same login ID picks up at both, one chooser lists both by bank, each bank
// gets only its own certificate, renewal works at each, and a backup of both
// restores onto an empty store, or says which bank to add where one is missing.
func TestOneAgentServesTwoBanksWithTheRightCertificateForEach(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Now().Truncate(time.Second)}
	inkan := startBankAs(t, "1376", "いんかん信用金庫", clk, nil)
	sakura := startBankAs(t, "2005", "さくら信用金庫", clk, nil)
	inkan.user("kanri", wire.RoleAdmin, true)
	sakura.user("kanri", wire.RoleAdmin, true) // the same login ID at the other bank

	pc := twoBanksPC(t, memStore(t), clk, inkan, sakura)
	if _, err := pc.Bank(""); !errors.Is(err, agent.ErrChooseBank) {
		t.Fatalf("with two banks and none chosen: %v, want ErrChooseBank", err)
	}
	atInkan, err := pc.Bank("1376")
	if err != nil {
		t.Fatal(err)
	}
	atSakura, err := pc.Bank("2005")
	if err != nil {
		t.Fatal(err)
	}
	idInkan := inkan.pickup(atInkan, "kanri")
	idSakura := sakura.pickup(atSakura, "kanri")

	ids, err := pc.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, id := range ids {
		got = append(got, id.Label+" "+id.BankName)
	}
	if !slices.Equal(got, []string{"kanri+1376 いんかん信用金庫", "kanri+2005 さくら信用金庫"}) {
		t.Fatalf("one chooser lists %v, want both banks' certificates labelled by bank", got)
	}
	for _, id := range ids {
		if owner, err := pc.Owner(ctx, id.Fingerprint); err != nil || owner.Config().BankCode != id.Subject.BankCode {
			t.Errorf("%s belongs to bank %v (%v)", id.Label, owner, err)
		}
	}

	// Each bank logs in with its own certificate only.
	inkan.login(atInkan, idInkan)
	sakura.login(atSakura, idSakura)
	if _, err := atSakura.Login(ctx, idInkan.Fingerprint, password("kanri")); !errors.Is(err, agent.ErrNoIdentity) {
		t.Fatalf("the other bank's certificate offered to さくら: %v, want ErrNoIdentity before any request", err)
	}
	// A server of bank さくら cannot answer for いんかん: an agent for いんかん
	// sent to さくら's address refuses its TLS certificate.
	wrong := inkan.cfg
	wrong.ServerURL = sakura.cfg.ServerURL
	misled, err := agent.New(agent.Config{BankConfig: wrong}, memStore(t), agent.Options{Now: clk.now, StateDir: t.TempDir(), RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := misled.Pickup(ctx, "kanri", password("kanri"), nil); err == nil || agent.Classify(err) != agent.CategoryNetwork {
		t.Fatalf("いんかん's agent at さくら's server: %v, want a TLS refusal", err)
	}

	// Renewal at each, once both windows are open.
	clk.add(340 * day)
	renewedInkan, err := atInkan.Renew(ctx, idInkan.Fingerprint, nil)
	if err != nil {
		t.Fatalf("renew at いんかん: %v", err)
	}
	renewedSakura, err := atSakura.Renew(ctx, idSakura.Fingerprint, nil)
	if err != nil {
		t.Fatalf("renew at さくら: %v", err)
	}
	inkan.login(atInkan, renewedInkan)
	sakura.login(atSakura, renewedSakura)

	// Backup of both banks' certificates, restored onto an empty store.
	const pw = "Kinko-Backup-2026"
	pfx, err := pc.BackupAs(ctx, []agent.Fingerprint{renewedInkan.Fingerprint, renewedSakura.Fingerprint}, pw, pw, agent.BackupModern)
	if err != nil {
		t.Fatal(err)
	}
	second := twoBanksPC(t, memStore(t), clk, inkan, sakura)
	res, err := second.Restore(ctx, pfx, pw)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 2 || len(res.Other) != 0 || res.CheckErr != nil {
		t.Fatalf("restored %v, other %d, check %v: want both banks' certificates", labels(res.Added), len(res.Other), res.CheckErr)
	}
	for _, code := range []string{"1376", "2005"} {
		a, _ := second.Bank(code)
		ids, _ := a.Identities(ctx)
		if len(ids) != 1 {
			t.Fatalf("bank %s lists %d certificates after the restore", code, len(ids))
		}
		b := map[string]*bank{"1376": inkan, "2005": sakura}[code]
		b.login(a, ids[0])
	}

	// A PC that knows only いんかん restores both and says which bank to add.
	third := twoBanksPC(t, memStore(t), clk, inkan)
	res, err = third.Restore(ctx, pfx, pw)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 1 || len(res.Other) != 1 {
		t.Fatalf("restored %v and %d other, want いんかん's and one other", labels(res.Added), len(res.Other))
	}
	if note := agent.MissingBankNote(res.Other, "ja"); !strings.Contains(note, "さくら信用金庫 (2005)") || !strings.Contains(note, "kanri+2005") {
		t.Errorf("note: %s", note)
	}
}
