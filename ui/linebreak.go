package ui

import (
	"strings"
	"unicode"
)

// Japanese line breaking (禁則処理), after JIS X 4051, for every paragraph of the
// window. Fyne wraps only at spaces and, where a line has none, anywhere at all:
// Japanese then broke before 。、）」 and split 「あと 12 日」 between the number
// and its unit. breakLines decides the break opportunities itself:
//
//   - between two Japanese characters, except before a character that may not
//     start a line (行頭禁則: 。、）」』ー ぁ ッ … and the like) and after one
//     that may not end it (行末禁則: （「『 …);
//   - after a space, except where the space joins a number, ID or other Latin
//     run to the Japanese that follows it (「12 日」「yamada+1376 の」), so a
//     number stays with its unit and an ID with its particle;
//   - never inside a run of Latin letters, digits and symbols (an ID, a number,
//     a date such as 2026年12月3日, a file name), unless the run alone is wider
//     than the line.

// noLineStart are the characters that may not begin a line (行頭禁則文字).
const noLineStart = "、。，．,.：；:;？！?!・ー－‐〜～…‥" +
	"）〕］｝〉》」』】〙〗)]}’”»" +
	"ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ々〻ゝゞヽヾ" +
	"％%‰℃°′″"

// noLineEnd are the characters that may not end a line (行末禁則文字).
const noLineEnd = "（〔［｛〈《「『【〘〖([{‘“«￥＄＃＠＄"

// isJapanese reports whether r is set as one character cell of Japanese text:
// kanji, kana, full-width forms and the CJK symbols and punctuation.
func isJapanese(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) ||
		(r >= 0x3000 && r <= 0x303f) || // CJK symbols and punctuation
		(r >= 0xff00 && r <= 0xffef) || // half- and full-width forms
		r == 'ー' || r == '・' || r == '…' || r == '‥' || r == '〜'
}

// canBreak reports whether a line may end between runes[i-1] and runes[i].
func canBreak(runes []rune, i int) bool {
	a, b := runes[i-1], runes[i]
	switch {
	case unicode.IsSpace(b): // break after the spaces, never before them
		return false
	case strings.ContainsRune(noLineStart, b):
		return false
	case unicode.IsSpace(a):
		j := i - 1
		for j > 0 && unicode.IsSpace(runes[j]) {
			j--
		}
		before := runes[j]
		if unicode.IsSpace(before) { // the line starts with spaces
			return false
		}
		if strings.ContainsRune(noLineEnd, before) {
			return false
		}
		if unicode.IsDigit(before) {
			return false // a number keeps its unit: 「12 日」, "12 days"
		}
		// 「yamada+1376 の」: a Latin run keeps the Japanese after it.
		return isJapanese(before) || !isJapanese(b)
	case strings.ContainsRune(noLineEnd, a):
		return false
	case unicode.IsDigit(a) && isJapanese(b), isJapanese(a) && unicode.IsDigit(b):
		return false // a number and its unit: 12日, 2026年12月3日, 第3
	case isJapanese(a) || isJapanese(b):
		return true
	}
	return false // inside a Latin run: a word, an ID, a number, a path
}

// breakLines breaks text into lines no wider than width, as measure reports
// the width of a string; text's own newlines are kept. A run that cannot be
// broken but is wider than a line is cut where it must be.
func breakLines(text string, width float32, measure func(string) float32) []string {
	var lines []string
	for _, hard := range strings.Split(text, "\n") {
		lines = append(lines, breakLine([]rune(hard), width, measure)...)
	}
	return lines
}

// breakLine breaks one line of text (without newlines) greedily at its break
// opportunities.
func breakLine(runes []rune, width float32, measure func(string) float32) []string {
	if len(runes) == 0 {
		return []string{""}
	}
	// The pieces between break opportunities; a piece keeps its trailing spaces,
	// which are dropped where a line ends.
	var pieces []string
	start := 0
	for i := 1; i < len(runes); i++ {
		if canBreak(runes, i) {
			pieces = append(pieces, string(runes[start:i]))
			start = i
		}
	}
	pieces = append(pieces, string(runes[start:]))

	var lines []string
	line := ""
	fits := func(s string) bool { return measure(strings.TrimRightFunc(s, unicode.IsSpace)) <= width }
	for _, p := range pieces {
		if fits(line + p) {
			line += p
			continue
		}
		if line != "" {
			lines = append(lines, strings.TrimRightFunc(line, unicode.IsSpace))
			line = ""
		}
		if fits(p) {
			line = p
			continue
		}
		// Wider than a whole line by itself (a path, a long ID with its
		// brackets): cut it where it must be, keeping the rules where it can.
		rest := []rune(p)
		for !fits(string(rest)) {
			n := cutAt(rest, fits)
			lines = append(lines, strings.TrimRightFunc(string(rest[:n]), unicode.IsSpace))
			rest = rest[n:]
		}
		line = string(rest)
	}
	return append(lines, strings.TrimRightFunc(line, unicode.IsSpace))
}

// cutAt is where to cut runes, which do not fit on one line: after the longest
// beginning that fits, moved back so that the next line does not start with a
// character that may not start one and this one does not end with one that
// may not end it; if no such place fits, after the longest beginning that fits
// (at least one character).
func cutAt(runes []rune, fits func(string) bool) int {
	n := 1
	for n < len(runes) && fits(string(runes[:n+1])) {
		n++
	}
	for m := n; m > 1; m-- { // after a space: "yamada+1376" and の part there
		if unicode.IsSpace(runes[m-1]) && !unicode.IsSpace(runes[m]) && !strings.ContainsRune(noLineStart, runes[m]) {
			return m
		}
	}
	for m := n; m > 1; m-- {
		if !strings.ContainsRune(noLineStart, runes[m]) && !strings.ContainsRune(noLineEnd, runes[m-1]) {
			return m
		}
	}
	return n
}
