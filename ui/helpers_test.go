package ui

import (
	"os"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func TestMain(m *testing.M) {
	// Dates render in Japan's zone whatever the machine's, as the users see them.
	time.Local = jst
	// A C locale makes Fyne log that it cannot parse it; the window's language is
	// set by the UI, not by the locale.
	os.Setenv("LANG", "ja_JP.UTF-8")
	os.Exit(m.Run())
}

// newTestUI opens the window on the fake backend under Fyne's headless driver and
// waits for the start screen to load.
func newTestUI(t *testing.T, f *fakeBackend) *UI {
	t.Helper()
	a := test.NewTempApp(t)
	u := New(a, Options{
		ConfigPath: "bank.json",
		Open:       func(string, string) (Backend, error) { return f, nil },
	})
	endWithTest(t, u)
	// Notifications go to the test app, where test.AssertNotificationSent sees them.
	u.tray.send = func(n *fyne.Notification) error { a.SendNotification(n); return nil }
	// The test driver runs fyne.Do on the calling goroutine, not on one UI thread:
	// touch the window only once the background work has landed.
	u.wait()
	u.win.Resize(fyne.NewSize(840, 680))
	return u
}

// endWithTest cancels u's background work when the test ends and waits for
// it to land. A job still in flight would otherwise land in the next test and
// lay out its screen there: with the font cache of whichever app was current
// at that moment, Fyne's test theme instead of ours, so the next test's
// golden image came out in another font now and then.
func endWithTest(t testing.TB, u *UI) {
	t.Cleanup(func() {
		u.cancel()
		u.wait()
	})
}

// objects is everything on the window, the dialogs on top included.
func objects(u *UI) []fyne.CanvasObject {
	c := u.win.Canvas()
	all := test.LaidOutObjects(c.Content())
	for _, o := range c.Overlays().List() {
		all = append(all, test.LaidOutObjects(o)...)
	}
	return all
}

// findButton returns the visible button labelled text.
func findButton(t *testing.T, u *UI, text string) *widget.Button {
	t.Helper()
	for _, o := range objects(u) {
		switch b := o.(type) {
		case *button:
			if b.Text == text && b.Visible() {
				return &b.Button
			}
		case *widget.Button:
			if b.Text == text && b.Visible() {
				return b
			}
		}
	}
	t.Fatalf("no button %q on the screen; it shows:\n%s", text, screenText(u))
	return nil
}

// tap presses the button labelled text and waits for the work it starts.
func tap(t *testing.T, u *UI, text string) {
	t.Helper()
	b := findButton(t, u, text)
	if b.Disabled() {
		t.Fatalf("button %q is disabled", text)
	}
	test.Tap(b)
	u.wait()
}

// field is a text field on the screen: ours (which passes Escape on) or Fyne's.
type field interface {
	fyne.Focusable
	SetText(string)
}

// fields returns the text fields on the screen in tab order; inDialog takes only
// those of the dialog on top.
func fields(u *UI, inDialog bool) []field {
	var objs []fyne.CanvasObject
	if inDialog {
		objs = test.LaidOutObjects(u.win.Canvas().Overlays().Top())
	} else {
		objs = test.LaidOutObjects(u.win.Canvas().Content())
	}
	var fs []field
	for _, o := range objs {
		switch e := o.(type) {
		case *entry:
			fs = append(fs, e)
		case *widget.Entry:
			fs = append(fs, e)
		}
	}
	return fs
}

// typeInto focuses the n-th field of the screen (or the top dialog) and types
// text into it, replacing what was there.
func typeInto(t *testing.T, u *UI, inDialog bool, n int, text string) {
	t.Helper()
	fs := fields(u, inDialog)
	if n >= len(fs) {
		t.Fatalf("want field %d, the screen has %d", n, len(fs))
	}
	fs[n].SetText("")
	u.win.Canvas().Focus(fs[n])
	test.Type(fs[n], text)
}

// pressKey sends a key to whatever has the keyboard focus, and waits.
func pressKey(u *UI, key fyne.KeyName) {
	if f := u.win.Canvas().Focused(); f != nil {
		f.TypedKey(&fyne.KeyEvent{Name: key})
	} else {
		u.pressEscape()
	}
	u.wait()
}

// typeFocused types into the widget that has the keyboard focus.
func typeFocused(t *testing.T, u *UI, text string) {
	t.Helper()
	f := u.win.Canvas().Focused()
	if f == nil {
		t.Fatalf("nothing has the keyboard focus; the screen shows:\n%s", screenText(u))
	}
	test.Type(f, text)
}

// screenText is every text on the window, one per line, for assertions and for
// failure messages that show what the user would have seen.
func screenText(u *UI) string {
	// Tables and lists make their cells when drawn: draw the window first.
	u.win.Canvas().Capture()
	var b strings.Builder
	last := ""
	// A paragraph is written once, as set; the lines it broke it into are not.
	lines := map[string]bool{}
	for _, o := range shown(u) {
		var s string
		switch w := o.(type) {
		case *paragraph:
			if w.Visible() {
				for _, l := range strings.Split(w.Text, "\n") {
					lines[l] = true
				}
			}
			s = w.source
		case *widget.Label:
			s = w.Text
		case *widget.Hyperlink:
			s = w.Text
		case *widget.Check:
			s = w.Text
		case *canvas.Text:
			if lines[w.Text] {
				continue
			}
			s = w.Text
		}
		// A label draws its text again as canvas.Text: write it once.
		if s != "" && s != last && o.Visible() {
			last = s
			b.WriteString(s)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// assertShows fails unless the screen shows each text.
func assertShows(t *testing.T, u *UI, texts ...string) {
	t.Helper()
	got := screenText(u)
	for _, s := range texts {
		if !strings.Contains(got, s) {
			t.Errorf("the screen does not show %q; it shows:\n%s", s, got)
		}
	}
}

// assertTitle fails unless the screen's heading is title.
func assertTitle(t *testing.T, u *UI, title string) {
	t.Helper()
	if got := u.title; got != title {
		t.Fatalf("the screen is %q, want %q; it shows:\n%s", got, title, screenText(u))
	}
}

// shown is what the window shows, the dialogs on top included: every object
// whose boxes are all visible, as the user sees them.
func shown(u *UI) []fyne.CanvasObject {
	var out []fyne.CanvasObject
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		out = append(out, o)
		switch c := o.(type) {
		case *fyne.Container:
			for _, child := range c.Objects {
				walk(child)
			}
		case fyne.Widget:
			for _, child := range test.WidgetRenderer(c).Objects() {
				walk(child)
			}
		}
	}
	walk(u.win.Canvas().Content())
	for _, o := range u.win.Canvas().Overlays().List() {
		walk(o)
	}
	return out
}
