package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// paragraph is a label for sentences: it breaks its text into lines at the
// width it is given by the rules of Japanese line breaking (linebreak.go),
// where Fyne's own wrapping would break before 。 or between a number and its
// unit. It is a widget.Label underneath (colour, weight and size as a label's),
// showing the broken lines.
type paragraph struct {
	widget.Label
	// source is the text as set; Label.Text holds it broken into lines.
	source string
	// brokenFor is the width and text size source was last broken for.
	brokenFor fyne.Size
}

// newParagraph returns a paragraph of text.
func newParagraph(text string) *paragraph {
	p := &paragraph{source: text}
	p.ExtendBaseWidget(p)
	p.Text = text
	return p
}

// SetText replaces the paragraph's text.
func (p *paragraph) SetText(text string) {
	p.source = text
	p.brokenFor = fyne.Size{}
	p.rebreak()
	p.Label.Refresh()
}

// MinSize implements fyne.CanvasObject: the height of its lines at the width
// it was last laid out at, and a narrow width, since it can wrap to any width
// (a paragraph must not hold the window wide).
func (p *paragraph) MinSize() fyne.Size {
	lines := p.Label.MinSize()
	narrow := fyne.MeasureText("ああ", p.textSize(), p.TextStyle).Width + 2*p.Theme().Size(theme.SizeNameInnerPadding)
	return fyne.NewSize(min(lines.Width, narrow), lines.Height)
}

// Resize implements fyne.CanvasObject: a new width breaks the lines anew.
func (p *paragraph) Resize(size fyne.Size) {
	widthChanged := size.Width != p.Size().Width
	p.Label.Resize(size)
	if widthChanged && p.rebreak() {
		p.Label.Refresh()
	}
}

// Refresh implements fyne.CanvasObject: a change of theme or text size breaks
// the lines anew.
func (p *paragraph) Refresh() {
	p.rebreak()
	p.Label.Refresh()
}

// textSize is the size of the paragraph's text in its theme.
func (p *paragraph) textSize() float32 {
	name := p.SizeName
	if name == "" {
		name = theme.SizeNameText
	}
	return p.Theme().Size(name)
}

// rebreak breaks source into lines for the paragraph's width, if the width or
// the text size changed since the last time, and says whether the lines changed.
func (p *paragraph) rebreak() bool {
	old := p.Text
	width := p.Size().Width
	size := p.textSize()
	if width <= 0 {
		p.Text = p.source
		return p.Text != old
	}
	if p.brokenFor == fyne.NewSize(width, size) {
		return false
	}
	p.brokenFor = fyne.NewSize(width, size)
	room := width - 2*p.Theme().Size(theme.SizeNameInnerPadding)
	style := p.TextStyle
	p.Text = strings.Join(breakLines(p.source, room, func(s string) float32 {
		return fyne.MeasureText(s, size, style).Width
	}), "\n")
	return p.Text != old
}
