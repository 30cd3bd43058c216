package main

import (
	"strings"
	"testing"
)

// doctor speaks the run's language, as every command does: the report of a
// --lang en run is English (the bank's own name aside), of --lang ja Japanese.
func TestDoctorPrintsEachStepAndExitsZeroWhenAllPass(t *testing.T) {
	p, _ := startBankWithAdmin(t)
	code, stdout, stderr := p.run("", "doctor") // --lang en
	if code != exitOK {
		t.Fatalf("doctor: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"Inkan self-check", "[OK] Ask the bank's server which key to make", "ecdsa-p256", "GenerateKey", "■ Bank インカン信用金庫 (1376)", "Result: every step succeeded."} {
		if !strings.Contains(stdout, want) {
			t.Fatalf("doctor --lang en output lacks %q:\n%s", want, stdout)
		}
	}
	if hasJapanese(strings.ReplaceAll(stdout, "インカン信用金庫", "")) {
		t.Fatalf("doctor --lang en speaks Japanese beyond the bank's name:\n%s", stdout)
	}
	out := p.okLang("", "ja", "doctor")
	for _, want := range []string{"Inkan 動作環境チェック", "[成功] 当金庫のサーバーに鍵の種類を問い合わせる", "ecdsa-p256", "GenerateKey", "結果：すべての手順が成功しました。"} {
		if !strings.Contains(out, want) {
			t.Fatalf("doctor --lang ja output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Result:") || strings.Contains(out, "[OK]") {
		t.Fatalf("doctor --lang ja speaks English:\n%s", out)
	}
}

// With two banks, doctor checks each bank's server under its own heading, or
// only --bank's.
func TestDoctorChecksEachBank(t *testing.T) {
	p, _ := startBankWithAdminAs(t, "1376", "インカン信用金庫")
	other, _ := startBankWithAdminAs(t, "2005", "さくら信用金庫")
	p.ok("", "bank", "add", other.config)

	out := p.okLang("", "ja", "doctor")
	for _, want := range []string{"■ 金融機関 インカン信用金庫（1376）", "■ 金融機関 さくら信用金庫（2005）", "■ この PC",
		"[成功] サーバーの TLS 証明書が当金庫の CA のものか確かめる", "結果：すべての手順が成功しました。"} {
		if !strings.Contains(out, want) {
			t.Fatalf("doctor output lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "[成功] 当金庫のサーバーに接続する") != 2 {
		t.Fatalf("doctor did not connect to both banks:\n%s", out)
	}
	if out := p.ok("", "--bank", "2005", "doctor"); strings.Contains(out, "1376") || !strings.Contains(out, "さくら信用金庫 (2005)") {
		t.Fatalf("doctor --bank 2005:\n%s", out)
	}
}
