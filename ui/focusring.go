package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
)

// Fyne shows a button's focus only by blending the theme's focus colour into its
// background, and the focus colour is the seal's red: on a red primary button the
// focus did not show at all. Every button of the window therefore draws a ring in
// the text colour just outside its edge while it has the keyboard, as Windows
// draws its focus rectangle; it shows on red, grey and white alike.

// focusRingGap is the space between a button's edge and its ring; the ring stays
// inside the theme's padding, so it touches no neighbour.
const focusRingGap = 2

// focusRingRenderer is a button's own renderer with the ring drawn over it.
type focusRingRenderer struct {
	fyne.WidgetRenderer
	ring    *canvas.Rectangle
	focused func() bool
}

// newFocusRing wraps r, the renderer of a widget whose focus focused reports.
func newFocusRing(r fyne.WidgetRenderer, focused func() bool) *focusRingRenderer {
	ring := canvas.NewRectangle(color.Transparent)
	ring.StrokeWidth = 2
	f := &focusRingRenderer{WidgetRenderer: r, ring: ring, focused: focused}
	f.paint()
	return f
}

// Layout implements fyne.WidgetRenderer.
func (f *focusRingRenderer) Layout(size fyne.Size) {
	f.WidgetRenderer.Layout(size)
	f.ring.Move(fyne.NewPos(-focusRingGap-f.ring.StrokeWidth/2, -focusRingGap-f.ring.StrokeWidth/2))
	f.ring.Resize(size.AddWidthHeight(2*focusRingGap+f.ring.StrokeWidth, 2*focusRingGap+f.ring.StrokeWidth))
}

// Objects implements fyne.WidgetRenderer: the button's, then the ring on top.
func (f *focusRingRenderer) Objects() []fyne.CanvasObject {
	return append(append([]fyne.CanvasObject{}, f.WidgetRenderer.Objects()...), f.ring)
}

// Refresh implements fyne.WidgetRenderer.
func (f *focusRingRenderer) Refresh() {
	f.WidgetRenderer.Refresh()
	f.paint()
}

// paint shows or hides the ring and takes its colour from the theme.
func (f *focusRingRenderer) paint() {
	f.ring.StrokeColor = theme.Color(theme.ColorNameForeground)
	f.ring.CornerRadius = theme.InputRadiusSize() + focusRingGap
	if f.focused() {
		f.ring.Show()
	} else {
		f.ring.Hide()
	}
	f.ring.Refresh()
}
