package ui

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

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
	for _, k := range storeKinds {
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
