package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func TestLanguageOfALocale(t *testing.T) {
	for locale, want := range map[string]string{
		"ja_JP.UTF-8": "ja", "ja-JP": "ja", "ja": "ja", "en_US.UTF-8": "en", "en-GB": "en", "de_DE": "en",
		"C": "", "C.UTF-8": "", "POSIX": "", "": "",
	} {
		if got := languageOf(locale); got != want {
			t.Errorf("languageOf(%q) = %q, want %q", locale, got, want)
		}
	}
}

func TestTheOSLocaleFollowsPOSIXPrecedence(t *testing.T) {
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "en_US.UTF-8")
	t.Setenv("LANG", "ja_JP.UTF-8")
	if got := osLanguage(); got != "en" {
		t.Fatalf("LC_MESSAGES=en_US before LANG=ja_JP: %q, want en", got)
	}
	t.Setenv("LC_ALL", "ja_JP.UTF-8")
	if got := osLanguage(); got != "ja" {
		t.Fatalf("LC_ALL=ja_JP first: %q, want ja", got)
	}
}

// hasJapanese reports whether s holds kana or kanji.
var hasJapanese = regexp.MustCompile(`[\p{Hiragana}\p{Katakana}\p{Han}]`).MatchString

func TestOneLanguagePerRunFromTheOSLocaleOrLang(t *testing.T) {
	p, _ := startBankWithAdmin(t)
	base := []string{"--config", p.config, "--store", p.store, "--state-dir", p.state}
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")

	// Japanese locale, no --lang: progress, result and error all in Japanese.
	t.Setenv("LANG", "ja_JP.UTF-8")
	code, out, errOut := inkanctl(t, "kanri-Pass-2026\n", append(base, "pickup", "--login-id", "kanri", "--password-stdin")...)
	if code != exitOK {
		t.Fatalf("pickup: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"電子証明書取得前処理中", "この PC で鍵を生成中", "電子証明書発行処理中", "インストール完了"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("Japanese progress lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "preparing") || strings.Contains(errOut, "generating") {
		t.Errorf("English progress in a Japanese run:\n%s", errOut)
	}
	code, out, errOut = inkanctl(t, "wrong-Pass-2026\n", append(base, "login", "--password-stdin")...)
	if code != exitRefused || !hasJapanese(errOut) || strings.Contains(out, "logged in") {
		t.Fatalf("wrong password, Japanese locale: exit %d\n%s%s", code, out, errOut)
	}
	if out := p.okLang("kanri-Pass-2026\n", "", "login", "--password-stdin"); !strings.Contains(out, "kanri でログインしました") {
		t.Fatalf("login, Japanese locale: %s", out)
	}

	// English locale: all in English, with no Japanese beyond the bank's own names.
	t.Setenv("LANG", "en_US.UTF-8")
	code, _, errOut = inkanctl(t, "wrong-Pass-2026\n", append(base, "login", "--password-stdin")...)
	if code != exitRefused || hasJapanese(errOut) {
		t.Fatalf("wrong password, English locale: exit %d\n%s", code, errOut)
	}
	if out := p.okLang("", "", "list"); !strings.Contains(out, "expires ") || strings.Contains(out, "有効期限") {
		t.Fatalf("list, English locale: %s", out)
	}

	// --lang wins over the locale.
	if out := p.okLang("", "ja", "list"); !strings.Contains(out, "有効期限") {
		t.Fatalf("list --lang ja under an English locale: %s", out)
	}
	if code, _, errOut := inkanctl(t, "", append(base, "list", "--no-such-flag")...); code != exitUsage || hasJapanese(errOut) {
		t.Fatalf("unknown flag, English locale: exit %d\n%s", code, errOut)
	}
	t.Setenv("LANG", "ja_JP.UTF-8")
	if code, _, errOut := inkanctl(t, "", append(base, "list", "--no-such-flag")...); code != exitUsage || !strings.Contains(errOut, "inkanctl --help で使い方を確認してください") {
		t.Fatalf("unknown flag, Japanese locale: exit %d\n%s", code, errOut)
	}
}

// okLang runs a command that must succeed with --lang lang ("" for none) and
// returns its stdout.
func (p *pc) okLang(stdin, lang string, args ...string) string {
	p.t.Helper()
	all := []string{"--config", p.config, "--store", p.store, "--state-dir", p.state}
	if lang != "" {
		all = append(all, "--lang", lang)
	}
	code, out, errOut := inkanctl(p.t, stdin, append(all, args...)...)
	if code != exitOK {
		p.t.Fatalf("inkanctl %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func TestHelpFollowsTheLanguage(t *testing.T) {
	for _, c := range []struct {
		args       []string
		lang       string
		want, miss []string
	}{
		{[]string{"--help"}, "ja_JP.UTF-8", []string{"使い方:", "inkanctl は、画面のない Inkan エージェントです", "終了コード：", "2  当金庫のサーバーが断った", "pickup", "お客様IDに発行された電子証明書を"}, []string{"Exit status:", "Pick up (取得)"}},
		{[]string{"--help", "--lang", "en"}, "ja_JP.UTF-8", []string{"Usage:", "Exit status:", "Pick up (取得)"}, []string{"使い方:", "終了コード"}},
		{[]string{"--lang", "en", "--help"}, "ja_JP.UTF-8", []string{"Usage:", "Exit status:", "Pick up (取得)"}, []string{"使い方:", "終了コード"}},
		{[]string{"pickup", "--help"}, "en_US.UTF-8", []string{"Usage:", "the login ID (お客様ID)"}, []string{"使い方:"}},
		{[]string{"admin", "create-user", "--help", "--lang=ja"}, "en_US.UTF-8", []string{"使い方:", "approver（承認者）または general（一般者）", "共通のオプション:", "表示する言語"}, []string{"Flags:", "display name"}},
	} {
		t.Setenv("LC_ALL", "")
		t.Setenv("LC_MESSAGES", "")
		t.Setenv("LANG", c.lang)
		var out, errOut bytes.Buffer
		if code := run(t.Context(), c.args, strings.NewReader(""), &out, &errOut); code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, errOut.String())
		}
		for _, w := range c.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("inkanctl %v under %s: no %q in\n%s", c.args, c.lang, w, out.String())
			}
		}
		for _, m := range c.miss {
			if strings.Contains(out.String(), m) {
				t.Errorf("inkanctl %v under %s: %q in\n%s", c.args, c.lang, m, out.String())
			}
		}
	}
}

// The configuration's language decides the help when --lang does not, before
// the OS's: a bank file with "language": "en" under a Japanese locale.
func TestHelpFollowsTheConfigurationsLanguage(t *testing.T) {
	p, _ := startBankWithAdmin(t)
	data, err := os.ReadFile(p.config)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["language"] = "en"
	data, err = json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bank.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "ja_JP.UTF-8")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--config", path, "--help"}, "Usage:"},
		{[]string{"--config=" + path, "pickup", "--help"}, "Usage:"},
		{[]string{"--config", path, "--lang", "ja", "--help"}, "使い方:"},
		{[]string{"--config", filepath.Join(t.TempDir(), "none.json"), "--help"}, "使い方:"}, // no configuration: the OS's
	} {
		t.Setenv("INKAN_CONFIG", "")
		var out, errOut bytes.Buffer
		if code := run(t.Context(), c.args, strings.NewReader(""), &out, &errOut); code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, errOut.String())
		}
		if !strings.Contains(out.String(), c.want) {
			t.Errorf("inkanctl %v under ja_JP: no %q in\n%s", c.args, c.want, out.String())
		}
	}
	// A command line refused before the configuration was read speaks its language too.
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"--config", path, "list", "--no-such-flag"}, strings.NewReader(""), &out, &errOut); code != exitUsage || hasJapanese(errOut.String()) {
		t.Fatalf("unknown flag, configuration in English, Japanese locale: exit %d\n%s", code, errOut.String())
	}
}

// Every command and flag has its Japanese description, and the Japanese help
// of every command leaves none of cobra's and pflag's English words.
func TestEveryCommandAndFlagHasJapaneseHelp(t *testing.T) {
	root := (&cli{}).rootCommand()
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		if _, ok := shortJa[cmd.CommandPath()]; !ok {
			t.Errorf("%q has no Japanese description", cmd.CommandPath())
		}
		check := func(f *pflag.Flag) {
			if f.Name == "help" { // localizeHelp words every command's --help itself
				return
			}
			if _, ok := flagJa[cmd.CommandPath()+" "+f.Name]; !ok {
				t.Errorf("%s --%s has no Japanese description", cmd.CommandPath(), f.Name)
			}
		}
		cmd.LocalNonPersistentFlags().VisitAll(check)
		cmd.PersistentFlags().VisitAll(check)
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)

	localizeHelp(root, "ja")
	var help func(cmd *cobra.Command)
	help = func(cmd *cobra.Command) {
		var out bytes.Buffer
		cmd.SetOut(&out)
		if err := cmd.Help(); err != nil {
			t.Fatalf("%s --help: %v", cmd.CommandPath(), err)
		}
		for _, english := range []string{"[flags]", "[command]", "(default", "Usage:", "Flags:", "Global Flags:", "Available Commands:", "Use \""} {
			if strings.Contains(out.String(), english) {
				t.Errorf("%s --help in Japanese holds cobra's %q:\n%s", cmd.CommandPath(), english, out.String())
			}
		}
		if !strings.Contains(out.String(), "使い方:") {
			t.Errorf("%s --help in Japanese has no 使い方:\n%s", cmd.CommandPath(), out.String())
		}
		for _, sub := range cmd.Commands() {
			help(sub)
		}
	}
	help(root)
	if !strings.Contains(jaUseLine(root.Commands()[0]), "[オプション]") {
		t.Errorf("the usage line of %s does not say [オプション]: %s", root.Commands()[0].CommandPath(), jaUseLine(root.Commands()[0]))
	}
}

func TestAnExpiredCertificateSaysSinceWhenNotMinusDaysLeft(t *testing.T) {
	for _, tc := range []struct {
		lang string
		days int
		want string
	}{
		{"ja", 12, "あと 12 日"}, {"ja", 0, "あと 0 日"}, {"ja", -11, "11 日前に期限切れ"},
		{"en", 12, "12 days left"}, {"en", -11, "expired 11 days ago"},
	} {
		c := &cli{lang: tc.lang}
		if got := c.daysLeft(tc.days); got != tc.want {
			t.Errorf("%s, %d days: %q, want %q", tc.lang, tc.days, got, tc.want)
		}
	}
}
