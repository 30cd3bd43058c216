package ui

import (
	"encoding/json"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"

	"github.com/inkan-dev/inkan/assets"
)

// texts is the chosen language's translation, the fallback of every lookup.
var texts map[string]string

// t returns the text of key in the chosen language, filled in from data (a map or
// a struct, for the {{.Name}} placeholders of the translation). A key missing from
// the translations shows as itself, which the tests catch.
func t(key string, data ...any) string {
	fallback, ok := texts[key]
	if !ok {
		fallback = key
	}
	return lang.X(key, fallback, data...)
}

// setLanguage makes l ("ja" or "en") the language of the window.
//
// Fyne's lang package follows the system's locale and has no call to choose a
// language, yet a user here picks one in 設定. So the chosen translation is
// registered as English, the language Fyne falls back to on Japanese and English
// systems (it has no Japanese of its own), and for the system's own locale, and it
// is also the fallback text of each lookup. The translations carry Fyne's own words
// too (the file dialogs' キャンセル, 開く, 保存, 新しいフォルダー; an entry's
// コピー, 貼り付け), so those follow the window's language rather than the system's.
func (u *UI) setLanguage(l string) {
	data, err := assets.Translations.ReadFile("translations/" + l + ".json")
	if err != nil {
		l = "ja"
		data, err = assets.Translations.ReadFile("translations/ja.json")
		if err != nil {
			fyne.LogError("the Japanese translation is missing from the binary", err)
			return
		}
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		fyne.LogError("the "+l+" translation is damaged", err)
		return
	}
	u.lang, texts = l, m
	for _, loc := range []fyne.Locale{"en", lang.SystemLocale()} {
		if err := lang.AddTranslationsForLocale(data, loc); err != nil {
			fyne.LogError("failed to load the "+l+" translation", err)
		}
	}
}

// date formats a day in the local time zone, as the language writes dates.
func date(tm time.Time) string {
	if tm.IsZero() {
		return "—"
	}
	return tm.Local().Format(t("format.date"))
}

// dateTime formats a moment in the local time zone.
func dateTime(tm time.Time) string {
	if tm.IsZero() {
		return "—"
	}
	return tm.Local().Format(t("format.datetime"))
}
