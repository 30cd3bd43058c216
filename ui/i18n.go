package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"

	"github.com/inkan-dev/inkan/assets"
)

// t returns the text of key in the chosen language, filled in from data (a map or
// a struct, for the {{.Name}} placeholders of the translation). A key missing from
// the translations shows as itself, which the tests catch.
func t(key string, data ...any) string {
	return lang.X(key, key, data...)
}

// setLanguage makes l ("ja" or "en") the language of the window.
//
// Fyne's lang package follows the system's locale and has no call to choose a
// language, yet a user here picks one in 設定. So the chosen translation is
// registered under the tags the system could match: English, which go-i18n falls
// back to for any locale without our strings, Japanese, and the system's own
// locale. Fyne's own words (in its file dialogs) keep following the system.
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
	u.lang = l
	tags := []fyne.Locale{"en", "ja"}
	if sys := lang.SystemLocale(); sys != "und" { // "und": a C or POSIX locale, matched as English
		tags = append(tags, sys)
	}
	for _, tag := range tags {
		if err := lang.AddTranslationsForLocale(data, tag); err != nil {
			fyne.LogError("failed to load the "+l+" translation for "+tag.String(), err)
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
