package ui

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"fyne.io/fyne/v2/lang"

	"github.com/inkan-dev/inkan/assets"
)

// translation reads one language's strings.
func translation(t *testing.T, lang string) map[string]string {
	t.Helper()
	data, err := assets.Translations.ReadFile("translations/" + lang + ".json")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s.json: %v", lang, err)
	}
	return m
}

func TestJapaneseAndEnglishHaveTheSameKeys(t *testing.T) {
	ja, en := translation(t, "ja"), translation(t, "en")
	for k := range ja {
		if _, ok := en[k]; !ok {
			t.Errorf("%q is in ja.json, not in en.json", k)
		}
	}
	for k := range en {
		if _, ok := ja[k]; !ok {
			t.Errorf("%q is in en.json, not in ja.json", k)
		}
	}
}

// TestEveryKeyTheCodeUsesIsTranslated reads the screens' source for t("key") and
// for the key prefixes completed at run time (states, roles, steps), so a missing
// translation fails here rather than showing a key to a user.
func TestEveryKeyTheCodeUsesIsTranslated(t *testing.T) {
	ja := translation(t, "ja")
	files, _ := filepath.Glob("*.go")
	literal := regexp.MustCompile(`\bt\("([a-z0-9_.]+)"`)
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
			key := m[1]
			if strings.HasSuffix(key, ".") {
				continue // a prefix, checked below
			}
			if _, ok := ja[key]; !ok {
				t.Errorf("%s uses %q, which has no translation", file, key)
			}
		}
	}
	dynamic := []string{
		"state.valid", "state.expiring", "state.renewable", "state.expired_renewable", "state.expired", "state.revoked", "state.not_yet_valid", "state.unusable",
		"role.admin", "role.approver", "role.general",
		"cert.none", "cert.awaiting_pickup", "cert.pickup_lapsed", "cert.active", "cert.expired", "cert.revoked",
		"step.0", "step.1", "step.2", "step.3",
		"chooser.unusable.expired", "chooser.unusable.revoked", "chooser.unusable.not_yet_valid", "chooser.unusable.unusable",
		"admin.issued", "admin.revoked", "admin.reissued", "admin.deleted",
	}
	for _, c := range adminColumns {
		dynamic = append(dynamic, c.key)
	}
	for _, k := range []string{"default", "windows", "keyring", "dir"} {
		dynamic = append(dynamic, "settings.store."+k)
	}
	for _, k := range dynamic {
		if _, ok := ja[k]; !ok {
			t.Errorf("%q has no translation", k)
		}
	}
}

// TestChosenLanguageWinsOverTheSystemLocale: on a PC whose locale Fyne matches to
// one of its own translations (German here), the window still speaks the language
// chosen in 設定, not the locale's and not translation keys.
func TestChosenLanguageWinsOverTheSystemLocale(t *testing.T) {
	u := newTestUI(t, newFakeBackend())
	t.Setenv("LANG", "de_DE.UTF-8")
	t.Cleanup(func() { u.setLanguage("ja") }) // after LANG is restored
	u.setLanguage("ja")
	if got := tr("start.title"); got != "ログイン" {
		t.Errorf("Japanese under a German locale: %q", got)
	}
	// Fyne's own words, as its file dialogs and entries ask for them.
	if got, got2 := lang.L("Cancel"), lang.L("New Folder"); got != "キャンセル" || got2 != "新しいフォルダー" {
		t.Errorf("the file dialog's words under a German locale: %q, %q", got, got2)
	}
	u.setLanguage("en")
	if got := tr("days.left", map[string]any{"Days": 3}); got != "3 days left" {
		t.Errorf("English under a German locale: %q", got)
	}
}

// tr is t, under a name the test's *testing.T does not shadow.
var tr = t

// TestJapaneseTextsUseFullWidthPunctuation reads every Japanese text the user
// can meet: the window's translation, and the agent's and the wire codes'
// messages (every Japanese string literal of agent/messages.go and
// wire/messages.go). Japanese text takes full-width punctuation: （） for
// brackets, ：for a colon, ・ between words; ASCII , . : ; ! ? ( ) / next to a
// Japanese character is a half-width slip (「権限: 管理者」「拇印 (SHA-256)」).
// Inside Latin runs they stay: 9:00, SHA-256, .p12, https://, 8.1.
func TestJapaneseTextsUseFullWidthPunctuation(t *testing.T) {
	texts := map[string]string{}
	data, err := assets.Translations.ReadFile("translations/ja.json")
	if err != nil {
		t.Fatal(err)
	}
	var ja map[string]string
	if err := json.Unmarshal(data, &ja); err != nil {
		t.Fatal(err)
	}
	for k, v := range ja {
		texts["ja.json "+k] = v
	}
	for _, file := range []string{"../agent/messages.go", "../wire/messages.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && mostlyJapanese(s) {
					texts[file+" "+s] = s
				}
			}
			return true
		})
	}
	for where, s := range texts {
		if bad := halfWidthSlips(s); len(bad) > 0 {
			t.Errorf("%s: half-width %q next to Japanese in %q", where, bad, s)
		}
	}
}

// halfWidthSlips are the ASCII punctuation marks of s that a Japanese
// sentence would write full-width: brackets, and , : ; ! ? . after a Japanese
// character (spaces looked through), / between two.
func halfWidthSlips(s string) []string {
	runes := []rune(s)
	// near is the character beside i in direction step, spaces skipped.
	near := func(i, step int) rune {
		for j := i + step; j >= 0 && j < len(runes); j += step {
			if runes[j] != ' ' {
				return runes[j]
			}
		}
		return 0
	}
	var bad []string
	for i, r := range runes {
		switch r {
		case '(', ')':
			bad = append(bad, string(r))
		case ',', ':', ';', '!', '?':
			if isJapanese(near(i, -1)) {
				bad = append(bad, string(r)) // 「権限: 」, 「詳細: 」: ：、
			}
		case '.':
			if isJapanese(near(i, -1)) && (i+1 == len(runes) || !unicode.IsLetter(runes[i+1]) && !unicode.IsDigit(runes[i+1])) {
				bad = append(bad, string(r)) // a sentence's end: 。 (not （.p12）)
			}
		case '/':
			if i > 0 && i+1 < len(runes) && isJapanese(runes[i-1]) && isJapanese(runes[i+1]) {
				bad = append(bad, string(r)) // 「再取得/更新」: ・
			}
		}
	}
	return bad
}

// mostlyJapanese reports whether s is Japanese text rather than English with a
// Japanese term in it: at least as many Japanese characters as Latin letters.
func mostlyJapanese(s string) bool {
	var ja, latin int
	for _, r := range s {
		switch {
		case isJapanese(r):
			ja++
		case r < 0x80 && unicode.IsLetter(r):
			latin++
		}
	}
	return ja > 0 && ja >= latin
}
