package ui

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/inkan-dev/inkan/agent"
)

// settingsChoice returns the drop-down on the settings screen that offers option.
func settingsChoice(t *testing.T, u *UI, option string) *choice {
	t.Helper()
	for _, o := range objects(u) {
		if c, ok := o.(*choice); ok && slices.Contains(c.Options, option) {
			return c
		}
	}
	t.Fatalf("no drop-down offers %q", option)
	return nil
}

func TestSettingsSwitchToEnglishAndBackAndRemembersIt(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	u := newTestUI(t, f)
	t.Cleanup(func() { u.setLanguage("ja") })
	tap(t, u, "設定")
	assertTitle(t, u, "設定")
	assertShows(t, u, "いんかん信用金庫", "1376", "https://ib.example-shinkin.jp")

	settingsChoice(t, u, "English").SetSelected("English")
	tap(t, u, "保存")
	u.wait()
	assertTitle(t, u, "Log in")
	assertShows(t, u, "Customers using a certificate", "The certificate yamada+1376 expires on 3 Dec 2026 (12 days left).")
	if got := u.app.Preferences().String(prefLanguage); got != "en" {
		t.Fatalf("saved language %q, want en", got)
	}
	if got := u.message(refusal("invalid_credentials")); !strings.HasPrefix(got, "The login ID or password is wrong.") {
		t.Fatalf("the agent's messages stay Japanese: %q", got)
	}

	tap(t, u, "Settings")
	settingsChoice(t, u, "日本語").SetSelected("日本語")
	tap(t, u, "Save")
	assertTitle(t, u, "ログイン")
}

func TestSettingsKeepTheOldConfigurationWhenTheNewOneFails(t *testing.T) {
	f := newFakeBackend()
	a := test.NewTempApp(t)
	opened := 0
	u := New(a, Options{ConfigPath: "bank.json", Open: func(path, store string) (Backend, error) {
		opened++
		if path != "bank.json" {
			return nil, errors.New("open " + path + ": no such file")
		}
		return f, nil
	}})
	endWithTest(t, u)
	u.wait()
	tap(t, u, "設定")
	typeInto(t, u, false, 0, "other.json")
	tap(t, u, "保存")
	assertTitle(t, u, "設定")
	assertShows(t, u, "予期しないエラーが発生しました。もう一度お試しください。解決しない場合は当金庫にお問い合わせください。")
	if u.backend != f || a.Preferences().String(prefConfig) != "" {
		t.Fatal("a configuration that failed to open replaced the working one")
	}

	typeInto(t, u, false, 0, "bank.json")
	for _, o := range objects(u) {
		if c, ok := o.(*choice); ok && !slices.Contains(c.Options, "日本語") {
			c.SetSelected("フォルダー")
		}
	}
	typeInto(t, u, false, 1, "/srv/certs")
	tap(t, u, "保存")
	assertTitle(t, u, "ログイン")
	if got := a.Preferences().String(prefStore); got != "dir:/srv/certs" {
		t.Fatalf("saved store %q, want dir:/srv/certs", got)
	}
	if opened != 3 {
		t.Fatalf("opened the agent %d times, want 3 (start, failed change, change)", opened)
	}
}

// slowOpener opens the fake agent only once released, like a key store waiting
// for the user to answer the Secret Service's password prompt.
type slowOpener struct {
	f       *fakeBackend
	release chan struct{}
}

func (o *slowOpener) open(string, string) (Backend, error) {
	<-o.release
	return o.f, nil
}

func TestTheWindowStaysResponsiveWhileTheStoreOpensSlowlyAtStart(t *testing.T) {
	slow := &slowOpener{f: newFakeBackend().withTwoIdentities(), release: make(chan struct{})}
	a := test.NewTempApp(t)
	built := make(chan *UI)
	go func() { built <- New(a, Options{ConfigPath: "bank.json", Open: slow.open}) }()
	var u *UI
	select {
	case u = <-built:
	case <-time.After(10 * time.Second):
		t.Fatal("New waits for the store to open: the window would freeze")
	}
	endWithTest(t, u)
	assertTitle(t, u, "接続中…")
	assertShows(t, u, "金融機関の設定ファイルと電子証明書の保存場所を開いています。OS がパスワードなどを求めたときは、その画面で操作してください。")
	u.win.Resize(fyne.NewSize(700, 500)) // the window still lays out and draws
	u.win.Canvas().Capture()

	close(slow.release)
	u.wait()
	assertTitle(t, u, "ログイン")
	assertShows(t, u, "いんかん信用金庫")
}

func TestTheWindowStaysResponsiveWhileSettingsOpenASlowStore(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	other := newFakeBackend().withTwoIdentities()
	other.cfg.BankName = "さくら信用金庫"
	slow := &slowOpener{f: other, release: make(chan struct{})}
	a := test.NewTempApp(t)
	u := New(a, Options{ConfigPath: "bank.json", Open: func(path, store string) (Backend, error) {
		if path == "other.json" {
			return slow.open(path, store)
		}
		return f, nil
	}})
	endWithTest(t, u)
	u.wait()
	tap(t, u, "設定")
	typeInto(t, u, false, 0, "other.json")
	test.Tap(findButton(t, u, "保存")) // not tap: that would wait for the opening
	assertShows(t, u, "設定ファイルと保存場所を開いています…")
	if !findButton(t, u, "保存").Disabled() {
		t.Fatal("保存 can be pressed again while the configuration is opening")
	}
	// The keyboard still works: typing, and Escape back to the start screen.
	// (typeInto and not pressKey, which would wait for the opening.)
	typeInto(t, u, false, 0, "bank.json")
	fields(u, false)[0].TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	assertTitle(t, u, "ログイン")

	close(slow.release)
	u.wait()
	assertTitle(t, u, "ログイン")
	assertShows(t, u, "さくら信用金庫")
	if u.backend != other || a.Preferences().String(prefConfig) != "other.json" {
		t.Fatal("the configuration that opened slowly was not kept")
	}
	if !slices.Contains(f.calls, "Close ") {
		t.Fatal("the agent that was replaced was not closed")
	}
}

func TestEscapeFromTheLanguageChoiceLeavesSettings(t *testing.T) {
	u := newTestUI(t, newFakeBackend().withTwoIdentities())
	tap(t, u, "設定")
	assertTitle(t, u, "設定")
	language := settingsChoice(t, u, "English")
	u.win.Canvas().Focus(language)
	language.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	assertTitle(t, u, "ログイン")
}

func TestSettingsOffersOnlyThisOSsStores(t *testing.T) {
	want, other := "OS の資格情報ストア", "Windows 証明書ストア"
	if runtime.GOOS == "windows" {
		want, other = other, want
	}
	got := storeKinds("")
	if len(got) != 3 {
		t.Fatalf("storeKinds() = %v, want the default, this OS's store and a folder", got)
	}
	u := newTestUI(t, newFakeBackend())
	tap(t, u, "設定")
	var options []string
	for _, o := range objects(u) {
		if c, ok := o.(*choice); ok && len(c.Options) > 2 {
			options = c.Options
		}
	}
	if !slices.Contains(options, want) || slices.Contains(options, other) {
		t.Errorf("設定 offers the stores %q on %s, want %q and not %q", options, runtime.GOOS, want, other)
	}
	// A store of the other OS that is configured stays listed, so 設定 shows it.
	if kinds := storeKinds(map[bool]string{true: "keyring", false: "windows"}[runtime.GOOS == "windows"]); len(kinds) != 4 {
		t.Errorf("with the other OS's store configured storeKinds = %v, want it listed too", kinds)
	}
}

func TestSettingsFoldsTheTechnicalDetailOfAnError(t *testing.T) {
	a := test.NewTempApp(t)
	opened := 0
	u := New(a, Options{ConfigPath: "bank.json", Open: func(string, string) (Backend, error) {
		opened++
		if opened == 1 {
			return newFakeBackend(), nil
		}
		return nil, &agent.ConfigError{Field: "bank_code", Problem: `"13" is not a four-digit bank code`, Fix: "use the configuration file your bank sent"}
	}})
	t.Cleanup(u.cancel)
	u.wait()
	tap(t, u, "設定")
	typeInto(t, u, false, 0, "/tmp/other-bank.json")
	tap(t, u, "保存")
	assertShows(t, u, "設定ファイルに誤りがあります。当金庫から届いた設定ファイルをそのまま使用してください。", "技術的な詳細（当金庫へのお問い合わせ用）")
	if text := screenText(u); strings.Contains(text, "four-digit") {
		t.Errorf("設定 shows the English detail to office staff before it is asked for:\n%s", text)
	}
}
