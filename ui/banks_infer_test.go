package ui

import (
	"strings"
	"testing"
)

// When each bank publishes the form of its IDs, typing the ID chooses its
// bank and says so; an ID of no bank's form, or of several, leaves the choice
// to the user; a choice the user made stands.
func TestThePickupAndLoginFormsChooseTheBankFromTheLoginID(t *testing.T) {
	f := newFakeBanks()
	f.banks[0].LoginIDPattern = "[a-z][a-z0-9]{2,15}"
	f.banks[1].LoginIDPattern = "[0-9]{10}"
	u, _ := newBanksUI(t, f)

	tap(t, u, "電子証明書取得")
	assertTitle(t, u, "電子証明書取得")
	c := settingsChoice(t, u, "みらい信用金庫（2005）")
	typeInto(t, u, false, 0, "2005000001")
	if c.Selected != "みらい信用金庫（2005）" {
		t.Fatalf("ID 2005000001 chose %q, want みらい信用金庫（2005）", c.Selected)
	}
	assertShows(t, u, "お客様IDの形式から、みらい信用金庫のIDと判断しました（違う場合は選び直してください）。")

	typeInto(t, u, false, 0, "K-1")
	if c.Selected != "" {
		t.Fatalf("an ID of no bank's form chose %q", c.Selected)
	}
	assertShows(t, u, "このお客様IDは、設定されたどの金融機関の形式とも合いません。お客様IDを確かめてください。")

	typeInto(t, u, false, 0, "newuser")
	if c.Selected != "いんかん信用金庫（1376）" {
		t.Fatalf("ID newuser chose %q, want いんかん信用金庫（1376）", c.Selected)
	}
	typeInto(t, u, false, 1, f.password)
	tap(t, u, "取得")
	u.wait()
	assertTitle(t, u, "電子証明書取得開始")
	tap(t, u, "取得")
	u.wait()
	if got := strings.Join(f.calls, ","); !strings.Contains(got, "PickupAt 1376,Pickup newuser") {
		t.Fatalf("calls %s, want the pickup at 1376", got)
	}

	// ID・パスワード方式: the user's own choice is not undone by typing.
	u.Home()
	c = settingsChoice(t, u, "みらい信用金庫（2005）")
	c.SetSelected("みらい信用金庫（2005）")
	typeInto(t, u, false, 0, "kanri")
	if c.Selected != "みらい信用金庫（2005）" {
		t.Fatalf("typing changed the user's choice to %q", c.Selected)
	}
}

// With a third bank that publishes no form, an ID may be of either of two:
// both are named and nothing is chosen.
func TestAnIDOfSeveralBanksFormsIsLeftToTheUser(t *testing.T) {
	f := newFakeBanks()
	f.banks[0].LoginIDPattern = "[a-z][a-z0-9]{2,15}"
	f.banks[1].LoginIDPattern = "[0-9]{10}"
	third := f.banks[0]
	third.BankCode, third.BankName, third.LoginIDPattern = "0003", "ひばり信用金庫", ""
	f.banks = append(f.banks, third)
	u, configPath := newBanksUI(t, f)
	writeBank(t, BankDir(configPath)+"/0003.json", third)
	u.reopen()
	u.wait()
	u.Home()

	c := settingsChoice(t, u, "ひばり信用金庫（0003）")
	typeInto(t, u, false, 0, "kanri")
	if c.Selected != "" {
		t.Fatalf("an ID of two banks' forms chose %q", c.Selected)
	}
	assertShows(t, u, "このお客様IDは、ひばり信用金庫・いんかん信用金庫のいずれの形式にも合います。金融機関を選んでください。")
}
