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
