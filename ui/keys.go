package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// Fyne hands every key to the focused widget, so a screen's Escape would be lost
// while the user is typing in a field or sitting on a button. These widgets pass
// Escape to the screen, and the button also answers Enter, as Windows buttons do.

// entry is a text field whose Escape cancels the screen.
type entry struct {
	widget.Entry
	u *UI
}

// newEntry returns a one-line field; Enter runs submit when it is not nil.
func (u *UI) newEntry(placeholder string, submit func()) *entry {
	e := &entry{u: u}
	e.ExtendBaseWidget(e)
	e.PlaceHolder = placeholder
	if submit != nil {
		e.OnSubmitted = func(string) { submit() }
	}
	return e
}

// newPasswordEntry returns a field whose text is hidden.
func (u *UI) newPasswordEntry(submit func()) *entry {
	e := u.newEntry("", submit)
	e.Password = true
	return e
}

// TypedKey passes Escape to the screen and every other key to the field.
func (e *entry) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape {
		e.u.pressEscape()
		return
	}
	e.Entry.TypedKey(ev)
}

// button is a push button that Enter and Space press and Escape passes by.
// While it has the keyboard it draws a focus ring (focusring.go).
type button struct {
	widget.Button
	u       *UI
	focused bool
}

// CreateRenderer implements fyne.Widget: Fyne's button with a focus ring.
func (b *button) CreateRenderer() fyne.WidgetRenderer {
	return newFocusRing(b.Button.CreateRenderer(), func() bool { return b.focused })
}

// FocusGained implements fyne.Focusable.
func (b *button) FocusGained() {
	b.focused = true
	b.Button.FocusGained() // refreshes, which shows the ring
}

// FocusLost implements fyne.Focusable.
func (b *button) FocusLost() {
	b.focused = false
	b.Button.FocusLost()
}

// newButton returns a button; primary buttons are drawn in the theme's colour.
func (u *UI) newButton(label string, primary bool, tapped func()) *button {
	b := &button{u: u}
	b.ExtendBaseWidget(b)
	b.Text = label
	b.OnTapped = tapped
	if primary {
		b.Importance = widget.HighImportance
	}
	return b
}

// TypedKey presses the button on Enter, as Windows does, and passes Escape on.
func (b *button) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyEscape:
		b.u.pressEscape()
	case fyne.KeyReturn, fyne.KeyEnter:
		if !b.Disabled() {
			b.Tapped(nil)
		}
	default:
		b.Button.TypedKey(ev)
	}
}

// choice is a drop-down list whose Escape cancels the screen.
type choice struct {
	widget.Select
	u *UI
}

// newChoice returns a drop-down of options; changed runs when the choice changes.
func (u *UI) newChoice(options []string, changed func(string)) *choice {
	c := &choice{u: u}
	c.ExtendBaseWidget(c)
	c.Options = options
	c.OnChanged = changed
	return c
}

// TypedKey passes Escape to the screen and every other key to the list.
func (c *choice) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape {
		c.u.pressEscape()
		return
	}
	c.Select.TypedKey(ev)
}

// check is a check box whose Escape cancels the screen.
type check struct {
	widget.Check
	u *UI
}

// newCheck returns a check box; changed runs when it is ticked or cleared.
func (u *UI) newCheck(label string, changed func(bool)) *check {
	c := &check{u: u}
	c.ExtendBaseWidget(c)
	c.Text = label
	c.OnChanged = changed
	return c
}

// TypedKey passes Escape to the screen; Space ticks the box (TypedRune).
func (c *check) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape {
		c.u.pressEscape()
	}
}

// Our widgets answer Escape themselves (escapeFromFyne leaves it to them).
func (e *entry) passesEscape()       {}
func (b *button) passesEscape()      {}
func (c *choice) passesEscape()      {}
func (c *check) passesEscape()       {}
func (r *identityRow) passesEscape() {}
func (ut *userTable) passesEscape()  {}
