//go:build !windows

package main

import "os"

// osLanguage is the language of the user's locale, as POSIX orders it: LC_ALL,
// then LC_MESSAGES, then LANG; "" when none names a language.
func osLanguage() string {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if l := os.Getenv(v); l != "" {
			return languageOf(l)
		}
	}
	return ""
}
