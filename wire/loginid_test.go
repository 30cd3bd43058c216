package wire

import "testing"

func TestLoginIDMatcherMatchesWholeIDsOnly(t *testing.T) {
	re, err := LoginIDMatcher(`[0-9]{10}|demo-[a-z0-9]+`)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"0123456789": true, "demo-general1": true, "x0123456789": false, "01234567890": false, "demo-general1x!": false, "kanri": false} {
		if re.MatchString(id) != want {
			t.Errorf("%q: match %v, want %v", id, !want, want)
		}
	}
	if re, err := LoginIDMatcher(""); re != nil || err != nil {
		t.Errorf("empty pattern: %v, %v; want nil, nil (any ID)", re, err)
	}
	for _, bad := range []string{"a)|(b", "[0-9", string(make([]byte, MaxLoginIDPattern+1))} {
		if _, err := LoginIDMatcher(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
