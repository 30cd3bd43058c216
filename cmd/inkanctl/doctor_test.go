package main

import (
	"strings"
	"testing"
)

func TestDoctorPrintsEachStepAndExitsZeroWhenAllPass(t *testing.T) {
	p, _ := startBankWithAdmin(t)
	code, stdout, stderr := p.run("", "doctor")
	if code != exitOK {
		t.Fatalf("doctor: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"Inkan 動作環境チェック", "[成功] 当金庫のサーバーに鍵の種類を問い合わせる", "ecdsa-p256", "GenerateKey", "結果: すべての手順が成功しました。"} {
		if !strings.Contains(stdout, want) {
			t.Fatalf("doctor output lacks %q:\n%s", want, stdout)
		}
	}
}

// With two banks, doctor checks each bank's server under its own heading, or
// only --bank's.
func TestDoctorChecksEachBank(t *testing.T) {
	p, _ := startBankWithAdminAs(t, "1376", "インカン信用金庫")
	other, _ := startBankWithAdminAs(t, "2005", "さくら信用金庫")
	p.ok("", "bank", "add", other.config)

	out := p.ok("", "doctor")
	for _, want := range []string{"■ 金融機関 インカン信用金庫（1376）", "■ 金融機関 さくら信用金庫（2005）", "■ この PC",
		"[成功] サーバーの TLS 証明書が当金庫の CA のものか確かめる", "結果: すべての手順が成功しました。"} {
		if !strings.Contains(out, want) {
			t.Fatalf("doctor output lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "[成功] 当金庫のサーバーに接続する") != 2 {
		t.Fatalf("doctor did not connect to both banks:\n%s", out)
	}
	if out := p.ok("", "--bank", "2005", "doctor"); strings.Contains(out, "1376") || !strings.Contains(out, "さくら信用金庫（2005）") {
		t.Fatalf("doctor --bank 2005:\n%s", out)
	}
}
