package ui

import (
	"strings"
	"testing"
)

// 設定 → 動作環境チェック runs the agent's self-check against the real server and
// shows each step; the report can be copied.
func TestSettingsRunsTheEnvironmentCheckAndCopiesItsReport(t *testing.T) {
	bank, _ := startRealBank(t)
	u := newRealUI(t, bank)

	tap(t, u, "設定")
	tap(t, u, "動作環境チェック")
	u.wait()
	assertTitle(t, u, "動作環境チェック")
	assertShows(t, u, "[成功] 当金庫のサーバーに鍵の種類を問い合わせる", "[成功] ecdsa-p256 の鍵を作って保存する", "すべての手順が成功しました")
	tap(t, u, "報告をコピー")
	if got := u.app.Clipboard().Content(); !strings.HasPrefix(got, "Inkan 動作環境チェック") || !strings.Contains(got, "memory: Sign") {
		t.Fatalf("clipboard: %q", got)
	}
	pressKey(u, "Escape")
	assertTitle(t, u, "設定")
}
