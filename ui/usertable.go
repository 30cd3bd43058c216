package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// userTable is the list of 利用者管理: a header and one row per ID, the whole row
// drawn in the theme's selection colour when selected. It is one focusable widget
// whose keyboard position is its selection (↑ ↓ Home End move it), as in a Windows
// list view, so what the highlight shows, what the keyboard acts on and what the
// action buttons name can never disagree. Fyne's Table and List keep a keyboard
// cursor apart from the selection and highlight only a cell of a table.
type userTable struct {
	widget.BaseWidget
	u        *UI
	widths   []float32
	header   []fyne.CanvasObject
	rows     []*fyne.Container // each a stack of its background and its cells
	selected int               // -1 for none
	focused  bool
	// onSelected runs when the user or the code moves the selection.
	onSelected func(row int)

	body   *fyne.Container
	scroll *container.Scroll
	frame  *canvas.Rectangle
}

func (u *UI) newUserTable(header []string, widths []float32, onSelected func(int)) *userTable {
	ut := &userTable{u: u, widths: widths, selected: -1, onSelected: onSelected}
	for _, h := range header {
		ut.header = append(ut.header, widget.NewLabelWithStyle(h, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	}
	ut.body = container.New(layout.NewCustomPaddedVBoxLayout(0))
	ut.scroll = container.NewVScroll(ut.body)
	ut.frame = canvas.NewRectangle(color.Transparent)
	ut.frame.StrokeWidth = 2
	ut.ExtendBaseWidget(ut)
	return ut
}

// setRows replaces the rows; cells holds each row's cells, one per column. The
// selection is cleared: the caller selects again what it wants kept.
func (ut *userTable) setRows(cells [][]fyne.CanvasObject) {
	ut.selected = -1
	ut.rows = ut.rows[:0]
	ut.body.RemoveAll()
	for _, row := range cells {
		bg := canvas.NewRectangle(color.Transparent)
		line := canvas.NewRectangle(theme.Color(theme.ColorNameSeparator))
		line.SetMinSize(fyne.NewSize(1, 1))
		r := container.NewStack(bg, container.New(columns(ut.widths), row...))
		ut.rows = append(ut.rows, r)
		ut.body.Add(container.NewBorder(nil, line, nil, nil, r))
	}
	ut.body.Refresh()
	ut.scroll.ScrollToTop()
}

// selectRow selects row (-1: none), scrolls it into view and tells onSelected.
func (ut *userTable) selectRow(row int) {
	if row < -1 || row >= len(ut.rows) {
		return
	}
	ut.selected = row
	for i, r := range ut.rows {
		bg := r.Objects[0].(*canvas.Rectangle)
		bg.FillColor = color.Transparent
		if i == row {
			bg.FillColor = theme.Color(theme.ColorNameSelection)
		}
		bg.Refresh()
	}
	if row >= 0 {
		ut.scrollTo(row)
	}
	if ut.onSelected != nil {
		ut.onSelected(row)
	}
}

// scrollTo moves the scroll just enough for row to be in view.
func (ut *userTable) scrollTo(row int) {
	r := ut.body.Objects[row]
	top, bottom := r.Position().Y, r.Position().Y+r.Size().Height
	view := ut.scroll.Size().Height
	switch off := ut.scroll.Offset.Y; {
	case top < off:
		ut.scroll.ScrollToOffset(fyne.NewPos(0, top))
	case bottom > off+view && view > 0:
		ut.scroll.ScrollToOffset(fyne.NewPos(0, bottom-view))
	}
}

// CreateRenderer implements fyne.Widget.
func (ut *userTable) CreateRenderer() fyne.WidgetRenderer {
	headerBg := canvas.NewRectangle(theme.Color(theme.ColorNameHeaderBackground))
	header := container.NewStack(headerBg, container.New(columns(ut.widths), ut.header...))
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameBackground))
	ut.paintFocus()
	return widget.NewSimpleRenderer(container.NewStack(bg, container.NewBorder(header, nil, nil, nil, ut.scroll), ut.frame))
}

// paintFocus frames the table in the focus colour while it has the keyboard.
func (ut *userTable) paintFocus() {
	ut.frame.StrokeColor = theme.Color(theme.ColorNameInputBorder)
	ut.frame.StrokeWidth = 1
	if ut.focused {
		ut.frame.StrokeColor = theme.Color(theme.ColorNamePrimary)
		ut.frame.StrokeWidth = 2
	}
	ut.frame.Refresh()
}

// Tapped selects the row under the pointer and takes the keyboard.
func (ut *userTable) Tapped(ev *fyne.PointEvent) {
	if c := fyne.CurrentApp().Driver().CanvasForObject(ut); c != nil {
		c.Focus(ut)
	}
	// The rows start below the header, inside the scroll.
	y := ev.Position.Y - ut.scroll.Position().Y + ut.scroll.Offset.Y
	for i, r := range ut.body.Objects {
		if y >= r.Position().Y && y < r.Position().Y+r.Size().Height {
			ut.selectRow(i)
			return
		}
	}
}

// FocusGained implements fyne.Focusable.
func (ut *userTable) FocusGained() { ut.focused = true; ut.paintFocus() }

// FocusLost implements fyne.Focusable.
func (ut *userTable) FocusLost() { ut.focused = false; ut.paintFocus() }

// TypedRune implements fyne.Focusable.
func (ut *userTable) TypedRune(rune) {}

// TypedKey moves the selection with the arrow keys, Home and End, and passes
// Escape to the screen.
func (ut *userTable) TypedKey(ev *fyne.KeyEvent) {
	last := len(ut.rows) - 1
	switch ev.Name {
	case fyne.KeyDown:
		ut.selectRow(min(ut.selected+1, last))
	case fyne.KeyUp:
		ut.selectRow(max(ut.selected-1, min(0, last)))
	case fyne.KeyHome:
		ut.selectRow(min(0, last))
	case fyne.KeyEnd:
		ut.selectRow(last)
	case fyne.KeyEscape:
		ut.u.pressEscape()
	}
}

// columns lays cells side by side at fixed widths, the last one taking what is
// left; every cell gets the row's full height.
type columns []float32

// MinSize implements fyne.Layout.
func (c columns) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var size fyne.Size
	for i, o := range objs {
		size.Width += c[i]
		size.Height = max(size.Height, o.MinSize().Height)
	}
	return size
}

// Layout implements fyne.Layout.
func (c columns) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	x := float32(0)
	for i, o := range objs {
		w := c[i]
		if i == len(objs)-1 {
			w = max(w, size.Width-x)
		}
		o.Move(fyne.NewPos(x, 0))
		o.Resize(fyne.NewSize(w, size.Height))
		x += w
	}
}
