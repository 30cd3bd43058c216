package main

import "golang.org/x/sys/windows"

// osLanguage is the language of the user's Windows display language (the first
// of the preferred UI languages, "ja-JP" on a Japanese Windows); "" when Windows
// does not say.
func osLanguage() string {
	langs, err := windows.GetUserPreferredUILanguages(windows.MUI_LANGUAGE_NAME)
	if err != nil || len(langs) == 0 {
		return ""
	}
	return languageOf(langs[0])
}
