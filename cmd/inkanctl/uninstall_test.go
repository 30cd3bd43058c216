package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestUninstallKeepsCertificatesUnlessAsked: the installer's default keeps the
// certificates and says so; a "no" (or no answer) keeps them; only
// --delete-certificates or a "yes" deletes them, every one with its key.
func TestUninstallKeepsCertificatesUnlessAsked(t *testing.T) {
	p, _ := startBankWithAdmin(t)
	p.ok("kanri-Pass-2026\n", "pickup", "--login-id", "kanri", "--password-stdin")
	count := func() int {
		var ids []identityJSON
		if err := json.Unmarshal([]byte(p.ok("", "list", "--json")), &ids); err != nil {
			t.Fatal(err)
		}
		return len(ids)
	}

	out := p.ok("", "uninstall")
	if !strings.Contains(out, "the 1 certificate(s) on this PC are kept") || !strings.Contains(out, "DELETECERTIFICATES=1") || count() != 1 {
		t.Fatalf("uninstall without a choice: %q, %d left", out, count())
	}
	for _, answer := range []string{"\n", "n\n", ""} {
		out = p.ok(answer, "uninstall", "--ask")
		if !strings.Contains(out, "Delete the certificates and their private keys too?") || !strings.Contains(out, "kanri+1376") ||
			!strings.Contains(out, "are kept") || count() != 1 {
			t.Fatalf("uninstall --ask answered %q: %q, %d left", answer, out, count())
		}
	}
	if code, _, errOut := p.run("", "uninstall", "--ask", "--delete-certificates"); code != exitUsage || !strings.Contains(errOut, "not both") {
		t.Fatalf("--ask with --delete-certificates: exit %d, %q", code, errOut)
	}

	out = p.ok("y\n", "uninstall", "--ask")
	if !strings.Contains(out, "deleted kanri+1376") || count() != 0 {
		t.Fatalf("uninstall --ask answered yes: %q, %d left", out, count())
	}

	var res struct {
		Kept, Deleted int
	}
	if err := json.Unmarshal([]byte(p.ok("", "uninstall", "--delete-certificates", "--json")), &res); err != nil || res.Deleted != 0 || res.Kept != 0 {
		t.Fatalf("uninstall --delete-certificates --json with nothing left: %+v %v", res, err)
	}
}
