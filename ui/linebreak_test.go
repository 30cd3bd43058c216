package ui

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/inkan-dev/inkan/assets"
)

// gridWidth measures text as a monospaced grid: a Japanese character two cells, any
// other one cell, so the tests can say exactly where a line must end.
func gridWidth(s string) float32 {
	var w float32
	for _, r := range s {
		if isJapanese(r) {
			w += 2
		} else {
			w++
		}
	}
	return w
}

func TestLineBreakingKeepsANumberWithItsUnitAndPunctuationOffTheLineStart(t *testing.T) {
	for _, c := range []struct {
		text  string
		width float32
		want  []string
	}{
		// Fyne broke this one into 「…（あと 12」 and 「日）。」.
		{"有効期限は 2026年12月3日 です（あと 12 日）。期限", 34, []string{"有効期限は 2026年12月3日 です（あ", "と 12 日）。期限"}},
		{"有効期限は 2026年12月3日 です（あと 12 日）。期限", 44, []string{"有効期限は 2026年12月3日 です（あと", "12 日）。期限"}},
		// 。 and 、 go with the character before them, never to the next line.
		{"ください。お早めに", 10, []string{"ください。", "お早めに"}},
		{"ください、お早めに", 8, []string{"くださ", "い、お早", "めに"}},
		// 「 stays with what it opens; 」 with what it closes.
		{"押して「ログイン」ボタン", 8, []string{"押して", "「ログイ", "ン」ボタ", "ン"}},
		// An ID stays whole and keeps the particle after it.
		{"電子証明書 yamada+1376 の有効期限", 20, []string{"電子証明書", "yamada+1376 の有効期", "限"}},
		// English breaks at spaces, and a number keeps the word after it.
		{"expires in 12 days, renew", 12, []string{"expires in", "12 days,", "renew"}},
		// A run wider than the line is cut where it must be.
		{"/very/long/path/name", 8, []string{"/very/lo", "ng/path/", "name"}},
		// Newlines in the text stay.
		{"一行目\n二行目", 40, []string{"一行目", "二行目"}},
	} {
		got := breakLines(c.text, c.width, gridWidth)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("breakLines(%q, %v) = %q, want %q", c.text, c.width, got, c.want)
		}
		for _, l := range got {
			if gridWidth(l) > c.width && utf8.RuneCountInString(l) > 1 {
				t.Errorf("breakLines(%q, %v): line %q is %v wide", c.text, c.width, l, gridWidth(l))
			}
		}
	}
}

// TestEveryJapaneseTextBreaksByTheRules breaks every text of the Japanese
// translation, its placeholders filled in as the screens fill them, at every
// width from 12 to 60 cells, and checks each break: one the rules allow must
// leave no line starting with a character that may not start one, none ending
// with one that may not end one, and no number parted from the Japanese unit
// after it; one they do not allow is only made inside a run wider than the
// whole line.
func TestEveryJapaneseTextBreaksByTheRules(t *testing.T) {
	data, err := assets.Translations.ReadFile("translations/ja.json")
	if err != nil {
		t.Fatal(err)
	}
	var texts map[string]string
	if err := json.Unmarshal(data, &texts); err != nil {
		t.Fatal(err)
	}
	fill := strings.NewReplacer("{{.Label}}", "yamada+1376", "{{.Date}}", "2026年12月3日", "{{.Days}}", "あと 12 日",
		"{{.ID}}", "suzuki", "{{.Count}}", "2", "{{.Before}}", "30", "{{.After}}", "90", "{{.Bank}}", "いんかん信用金庫",
		"{{.Code}}", "1376", "{{.Contract}}", "株式会社いんかん商事", "{{.Role}}", "管理者", "{{.Name}}", "山田 太郎",
		"{{.Labels}}", "yamada+1376, suzuki+1376", "{{.Added}}", "yamada+1376", "{{.Present}}", "—",
		"{{.From}}", "2025年12月3日 9:00", "{{.To}}", "2026年12月3日 9:00",
		"{{.File}}", "C:\\Users\\yamada\\inkan-backup.p12", "{{.Dir}}", "/home/yamada/.pki/nssdb")
	for key, text := range texts {
		for _, line := range strings.Split(fill.Replace(text), "\n") {
			for width := float32(12); width <= 60; width++ {
				checkBreaks(t, key, []rune(line), width)
			}
		}
	}
}

// checkBreaks breaks text at width and checks each break (see above).
func checkBreaks(t *testing.T, key string, text []rune, width float32) {
	t.Helper()
	lines := breakLines(string(text), width, gridWidth)
	pos := 0
	for i, l := range lines[:len(lines)-1] {
		pos += utf8.RuneCountInString(l)
		for pos < len(text) && unicode.IsSpace(text[pos]) {
			pos++
		}
		next := lines[i+1]
		if !canBreak(text, pos) {
			// Forced: the run between the opportunities around pos must be too wide.
			from, to := pos, pos
			for from > 0 && !canBreak(text, from) {
				from--
			}
			for to < len(text) && !canBreak(text, to) {
				to++
			}
			if run := strings.TrimSpace(string(text[from:to])); gridWidth(run) <= width {
				t.Errorf("%s at %v cells: %q | %q broken inside %q, which fits a line", key, width, l, next, run)
			}
			continue
		}
		first, _ := utf8.DecodeRuneInString(next)
		last, _ := utf8.DecodeLastRuneInString(l)
		switch {
		case strings.ContainsRune(noLineStart, first):
			t.Errorf("%s at %v cells: line %q starts with %q", key, width, next, first)
		case strings.ContainsRune(noLineEnd, last):
			t.Errorf("%s at %v cells: line %q ends with %q", key, width, l, last)
		case unicode.IsDigit(last) && isJapanese(first):
			t.Errorf("%s at %v cells: the number at the end of %q is parted from %q", key, width, l, next)
		}
	}
}
