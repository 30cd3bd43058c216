package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/wire"
)

// reexportWithOpenSSL writes id's certificate and key, from an Inkan backup, into
// a file openssl writes the way Windows exports do (-LMK, a CSP name), without the
// CA chain and with a friendlyName that is not the label.
func reexportWithOpenSSL(t *testing.T, pc *agent.Agent, id *agent.Identity, extra ...string) []byte {
	t.Helper()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	const pw = "Kinko-Backup-2026"
	pfx, err := pc.Backup(context.Background(), []agent.Fingerprint{id.Fingerprint}, pw, pw)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	backup, pem, out := filepath.Join(dir, "inkan.p12"), filepath.Join(dir, "leaf-and-key.pem"), filepath.Join(dir, "windows.pfx")
	if err := os.WriteFile(backup, pfx, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"pkcs12", "-in", backup, "-passin", "pass:" + pw, "-nodes", "-clcerts", "-out", pem},
		append([]string{"pkcs12", "-export", "-in", pem, "-name", "Windows から書き出した証明書", "-LMK",
			"-CSP", "Microsoft Software Key Storage Provider", "-passout", "pass:" + pw, "-out", out}, extra...),
	} {
		if b, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRestoreOfAnOpenSSLFileWithoutTheChainIsThisBanksAndSaysWhenRevoked: a
// file another tool wrote, with Windows' key-set attribute, no CA chain and a
// friendlyName of its own, restores as this bank's identity labelled
// <loginID>+<bankCode>, logs in (the chain was completed), and one the bank has
// revoked is reported as revoked by asking the server (OCSP).
func TestRestoreOfAnOpenSSLFileWithoutTheChainIsThisBanksAndSaysWhenRevoked(t *testing.T) {
	ctx := context.Background()
	// The general ID's key must be exportable to make its file (default: admin only).
	b := startBankWithPolicy(t, func(p *server.PolicyConfig) {
		p.BackupRoles = []wire.Role{wire.RoleAdmin, wire.RoleGeneral}
	})
	first, admin, ippan := b.adminAndGeneralOnOnePC()
	adminFile := reexportWithOpenSSL(t, first, admin)
	ippanFile := reexportWithOpenSSL(t, first, ippan, "-legacy")
	s := b.login(first, admin)
	if _, err := first.RevokeCertificate(ctx, s, "ippan"); err != nil {
		t.Fatal(err)
	}

	secondStore, err := certstore.Open("memory")
	if err != nil {
		t.Fatal(err)
	}
	second := b.pcWith(b.cfg.ServerURL, secondStore)
	res, err := second.Restore(ctx, adminFile, "Kinko-Backup-2026")
	if err != nil {
		t.Fatalf("restore the admin's file: %v", err)
	}
	if len(res.Added) != 1 || res.Added[0].Label != "kanri+1376" || len(res.Revoked) != 0 || res.CheckErr != nil {
		t.Fatalf("restored %v (revoked %v, check %v), want kanri+1376, not revoked", labels(res.Added), labels(res.Revoked), res.CheckErr)
	}
	stored, err := secondStore.List(ctx, certstore.ListOptions{})
	if err != nil || len(stored) != 1 || stored[0].Label != "kanri+1376" || len(stored[0].Chain) == 0 {
		t.Fatalf("the store holds %+v, %v: want kanri+1376 with its CA chain", stored, err)
	}
	b.login(second, res.Added[0])

	res, err = second.Restore(ctx, ippanFile, "Kinko-Backup-2026")
	if err != nil {
		t.Fatalf("restore the general user's file: %v", err)
	}
	if len(res.Added) != 1 || res.Added[0].Label != "ippan+1376" || len(res.Revoked) != 1 || res.CheckErr != nil {
		t.Fatalf("restored %v (revoked %v, check %v), want ippan+1376 reported revoked", labels(res.Added), labels(res.Revoked), res.CheckErr)
	}
	if res.Added[0].State != agent.StateRevoked {
		t.Errorf("the restored revoked certificate is in state %s", res.Added[0].State)
	}
	for lang, want := range map[string]string{"ja": "失効", "en": "revoked"} {
		if note := agent.RestoredRevokedNote(labels(res.Revoked), lang); !strings.Contains(note, want) || !strings.Contains(note, "ippan+1376") {
			t.Errorf("%s note: %s", lang, note)
		}
	}
}

func labels(ids []*agent.Identity) []string {
	var out []string
	for _, id := range ids {
		out = append(out, id.Label)
	}
	return out
}
