package main

import "strings"

// languageOf maps a locale name ("ja_JP.UTF-8", "ja-JP", "en_US", "C") to the
// language inkanctl speaks: ja for a Japanese locale, en for any other named
// one, and "" for none, C or POSIX, which say nothing about the person.
func languageOf(locale string) string {
	locale = strings.TrimSpace(locale)
	if locale == "" || locale == "C" || locale == "POSIX" || strings.HasPrefix(locale, "C.") {
		return ""
	}
	if strings.HasPrefix(strings.ToLower(locale), "ja") {
		return "ja"
	}
	return "en"
}

// say picks the Japanese or the English text, in the run's language (the OS's
// while neither --lang nor the configuration has settled it).
func (c *cli) say(ja, en string) string {
	lang := c.lang
	if lang == "" {
		lang = osLanguage()
	}
	if lang == "en" {
		return en
	}
	return ja
}

// resolveLanguage settles the run's language once --lang and the configuration
// had their say: the OS's language, else Japanese. A --lang that is neither ja
// nor en is left for banks to refuse.
func (c *cli) resolveLanguage() {
	if c.lang == "" {
		c.lang = osLanguage()
	}
	if c.lang == "" {
		c.lang = "ja"
	}
}
