package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestBrowserCopyFlagsCopyThePickupIntoNSSAndRenewAutoIsQuietWhenNothingIsDue(t *testing.T) {
	if _, err := exec.LookPath("certutil"); err != nil {
		t.Skip("certutil not installed (libnss3-tools)")
	}
	p, _ := startBankWithAdmin(t)
	nss := filepath.Join(t.TempDir(), "nssdb")
	p.ok("kanri-Pass-2026\n", "--browser-copy", "--nss-dir", nss, "pickup", "--login-id", "kanri", "--password-stdin")
	out, err := exec.Command("certutil", "-L", "-d", "sql:"+nss).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "kanri+1376") {
		t.Fatalf("NSS after pickup --browser-copy: %v\n%s", err, out)
	}
	if out := p.ok("", "--browser-copy", "--nss-dir", nss, "browser-copy"); !strings.Contains(out, "up to date") {
		t.Fatalf("browser-copy: %q", out)
	}
	if code, _, errOut := p.run("", "browser-copy"); code != exitUsage || !strings.Contains(errOut, "--browser-copy") {
		t.Fatalf("browser-copy with the copy off (dir store): exit %d %s", code, errOut)
	}
	if out := p.ok("", "renew", "--auto"); out != "" {
		t.Fatalf("renew --auto with nothing due printed %q", out)
	}
	if code, _, _ := p.run("", "renew", "--auto", "--id", "kanri+1376"); code != exitUsage {
		t.Fatalf("renew --auto --id: exit %d, want usage", code)
	}
	// A locked NSS database: the command still works, with the warning.
	locked := filepath.Join(t.TempDir(), "locked")
	os.MkdirAll(locked, 0o700)
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("primary\n"), 0o600)
	if out, err := exec.Command("certutil", "-N", "-d", "sql:"+locked, "-f", pw).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	code, _, errOut := p.run("", "--browser-copy", "--nss-dir", locked, "list")
	if code != exitOK || strings.Contains(errOut, "primary password") {
		t.Fatalf("list with a locked NSS database: exit %d %s (list does not touch the copy)", code, errOut)
	}
	code, _, errOut = p.run("", "--browser-copy", "--nss-dir", locked, "browser-copy")
	if code != exitStore || !strings.Contains(errOut, "primary password") || strings.Count(errOut, "has a primary password") != 1 {
		t.Fatalf("browser-copy into a locked database: exit %d\n%s", code, errOut)
	}
}
