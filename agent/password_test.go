package agent

import (
	"regexp"
	"testing"
)

func TestNewPasswordIsReadableAndMixesEveryKind(t *testing.T) {
	shape := regexp.MustCompile(`^[` + passwordAlphabet + `]{4}-[` + passwordAlphabet + `]{4}-[` + passwordAlphabet + `]{4}$`)
	kinds := []*regexp.Regexp{regexp.MustCompile(`[A-Z]`), regexp.MustCompile(`[a-z]`), regexp.MustCompile(`[0-9]`)}
	seen := map[string]bool{}
	for range 500 {
		p, err := NewPassword()
		if err != nil {
			t.Fatal(err)
		}
		if !shape.MatchString(p) {
			t.Fatalf("%q is not three groups of four readable characters", p)
		}
		for _, k := range kinds {
			if !k.MatchString(p) {
				t.Fatalf("%q lacks %s", p, k)
			}
		}
		if seen[p] {
			t.Fatalf("%q came twice in 500", p)
		}
		seen[p] = true
	}
}
