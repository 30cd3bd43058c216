package ui

import (
	"context"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/inkan-dev/inkan/agent"
)

// banksDoctor is the first bank's agent as the window's backend, with the
// self-check of every bank, as the program's backend for several banks has it.
type banksDoctor struct {
	*agent.Agent
	banks *agent.Banks
}

func (b banksDoctor) Doctor(ctx context.Context) *agent.DoctorReport { return b.banks.Doctor(ctx) }

// With several banks, 動作環境チェック checks each bank's server and says per
// bank whether it passed: here two real servers, one of them stopped.
func TestEnvironmentCheckShowsEachBank(t *testing.T) {
	inkan, _ := startRealBankAs(t, "1376", "いんかん信用金庫")
	sakura, _ := startRealBankAs(t, "2005", "さくら信用金庫")
	down := inkan
	down.BankCode, down.BankName, down.ServerURL = "0002", "かもめ信用金庫", "https://127.0.0.1:1"
	var cfgs []agent.Config
	for _, c := range []agent.Config{{BankConfig: inkan}, {BankConfig: sakura}, {BankConfig: down}} {
		c.Store = "memory"
		cfgs = append(cfgs, c)
	}
	b, err := agent.OpenBanks(cfgs, agent.Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	a := test.NewTempApp(t)
	u := New(a, Options{ConfigPath: "bank.json", Language: "ja", Open: func(string, string) (Backend, error) {
		return banksDoctor{Agent: b.All()[0], banks: b}, nil
	}})
	t.Cleanup(u.cancel)
	u.wait()
	u.win.Resize(fyne.NewSize(840, 680))
	t.Cleanup(func() { _ = b.Close() })

	tap(t, u, "設定")
	tap(t, u, "動作環境チェック")
	u.wait()
	assertTitle(t, u, "動作環境チェック")
	assertShows(t, u, "いんかん信用金庫（1376）：成功", "さくら信用金庫（2005）：成功", "かもめ信用金庫（0002）：失敗（当金庫のサーバーに接続する）",
		"この PC：成功", "■ 金融機関 さくら信用金庫（2005）", "失敗した手順があります")
}
