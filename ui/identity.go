package ui

import (
	"context"
	"crypto/x509/pkix"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inkan-dev/inkan/agent"
)

// identityDetails lists what a certificate is: what インストール完了 shows and the
// certificate list shows for the one selected.
func (u *UI) identityDetails(id *agent.Identity) fyne.CanvasObject {
	serial, subject := "—", "—"
	if id.Certificate != nil {
		serial = strings.ToUpper(id.Certificate.SerialNumber.Text(16))
		subject = subjectText(id.Certificate.Subject)
	}
	mono := func(s string) *widget.Label {
		l := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		l.Wrapping = fyne.TextWrapBreak
		return l
	}
	store := u.storeName()
	if id.Store != "" {
		store = storeLabel(id.Store)
	}
	form := widget.NewForm(
		widget.NewFormItem(t("field.label"), widget.NewLabelWithStyle(id.Label, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})),
		widget.NewFormItem(t("field.contract"), widget.NewLabel(t("contract.value", map[string]any{"Name": id.Subject.ContractName, "ID": id.Subject.ContractID}))),
		widget.NewFormItem(t("field.role"), widget.NewLabel(roleText(id.Subject.Role))),
		widget.NewFormItem(t("field.state"), container.NewHBox(badge(id.State), widget.NewLabel(stateDaysText(id)))),
		widget.NewFormItem(t("field.subject"), wrapped(subject)),
		widget.NewFormItem(t("field.serial"), mono(serial)),
		widget.NewFormItem(t("field.validity"), widget.NewLabel(t("validity", map[string]any{"From": dateTime(id.NotBefore), "To": dateTime(id.NotAfter)}))),
		widget.NewFormItem(t("field.fingerprint"), mono(fingerprintText(id.Fingerprint))),
		widget.NewFormItem(t("field.store"), widget.NewLabel(store)),
	)
	if id.Problem != "" {
		form.Append(t("field.problem"), wrapped(id.Problem))
	}
	return form
}

// attributeNames are the short names of the subject attributes the bank writes.
// Go's own Name.String prints organizationIdentifier as a hex-encoded OID.
var attributeNames = map[string]string{
	"2.5.4.3": "CN", "2.5.4.11": "OU", "2.5.4.10": "O", "2.5.4.5": "serialNumber",
	"2.5.4.97": "organizationIdentifier", "2.5.4.6": "C",
}

// subjectText writes a certificate's subject readably, most specific first (CN
// first), as Windows and OpenSSL show it.
func subjectText(name pkix.Name) string {
	var parts []string
	seq := name.ToRDNSequence()
	slices.Reverse(seq)
	for _, rdn := range seq {
		for _, atv := range rdn {
			key, ok := attributeNames[atv.Type.String()]
			if !ok {
				key = atv.Type.String()
			}
			parts = append(parts, fmt.Sprintf("%s=%v", key, atv.Value))
		}
	}
	return strings.Join(parts, ", ")
}

// fingerprintText writes a SHA-256 fingerprint in upper case, in groups of eight
// over two lines, so it fits the window and can be read out over the phone.
func fingerprintText(fp agent.Fingerprint) string {
	s := strings.ToUpper(string(fp))
	var b strings.Builder
	for i := 0; i < len(s); i += 8 {
		if i > 0 {
			if i == 32 {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(s[i:min(i+8, len(s))])
	}
	return b.String()
}

// identityRow is one certificate in the chooser: the label <loginID>+<bankCode>,
// the contract, the role, the expiry and a state badge. It takes the keyboard, so
// the user can Tab to an ID and press Enter or Space, or move between the IDs of
// one list with ↑ and ↓.
type identityRow struct {
	widget.BaseWidget
	u        *UI
	id       *agent.Identity
	onSelect func(*agent.Identity)
	// list is the rows of the list this row is in (nil for a row alone), for ↑ ↓.
	list    []*identityRow
	bg      *canvas.Rectangle
	focused bool
	hovered bool
}

func (u *UI) newIdentityRow(id *agent.Identity, onSelect func(*agent.Identity)) *identityRow {
	r := &identityRow{u: u, id: id, onSelect: onSelect}
	r.ExtendBaseWidget(r)
	return r
}

// CreateRenderer implements fyne.Widget.
func (r *identityRow) CreateRenderer() fyne.WidgetRenderer {
	r.bg = canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	r.bg.CornerRadius = theme.InputRadiusSize()
	r.bg.StrokeWidth = 2
	r.paint()
	label := widget.NewLabelWithStyle(r.id.Label, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	label.SizeName = theme.SizeNameSubHeadingText
	detailText := t("chooser.detail", map[string]any{
		"Contract": r.id.Subject.ContractName,
		"Role":     roleText(r.id.Subject.Role),
		"Date":     date(r.id.NotAfter),
	})
	if r.id.BankName != "" {
		// One chooser may list several banks' certificates.
		detailText = r.id.BankName + "　" + detailText
	}
	detail := widget.NewLabel(detailText)
	// The badge hugs its word at the trailing edge rather than stretching to
	// the width of the days under it.
	right := container.NewVBox(container.NewHBox(layout.NewSpacer(), badge(r.id.State)), widget.NewLabelWithStyle(stateDaysText(r.id), fyne.TextAlignTrailing, fyne.TextStyle{}))
	content := container.NewBorder(nil, nil, nil, right, container.NewVBox(label, detail))
	return widget.NewSimpleRenderer(container.NewStack(r.bg, container.NewPadded(content)))
}

// paint shows focus and hover on the row's frame.
func (r *identityRow) paint() {
	if r.bg == nil {
		return
	}
	switch {
	case r.focused:
		r.bg.StrokeColor = theme.Color(theme.ColorNamePrimary)
	case r.hovered:
		r.bg.StrokeColor = theme.Color(theme.ColorNameHover)
	default:
		r.bg.StrokeColor = theme.Color(theme.ColorNameInputBorder)
	}
	r.bg.Refresh()
}

// Tapped implements fyne.Tappable.
func (r *identityRow) Tapped(*fyne.PointEvent) { r.onSelect(r.id) }

// FocusGained implements fyne.Focusable.
func (r *identityRow) FocusGained() { r.focused = true; r.paint() }

// FocusLost implements fyne.Focusable.
func (r *identityRow) FocusLost() { r.focused = false; r.paint() }

// TypedRune implements fyne.Focusable.
func (r *identityRow) TypedRune(rune) {}

// TypedKey chooses the row on Enter or Space, gives the keyboard to the row above
// or below on ↑ or ↓ (staying put at either end, as a Windows list does), and
// passes Escape to the screen.
func (r *identityRow) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter, fyne.KeySpace:
		r.onSelect(r.id)
	case fyne.KeyUp:
		r.moveFocus(-1)
	case fyne.KeyDown:
		r.moveFocus(+1)
	case fyne.KeyEscape:
		r.u.pressEscape()
	}
}

// moveFocus gives the keyboard to the row step places from r in its list.
func (r *identityRow) moveFocus(step int) {
	for i, o := range r.list {
		if o != r {
			continue
		}
		if j := i + step; j >= 0 && j < len(r.list) {
			r.u.win.Canvas().Focus(r.list[j])
		}
		return
	}
}

// linkRows makes rows one list for ↑ and ↓.
func linkRows(rows []*identityRow) {
	for _, r := range rows {
		r.list = rows
	}
}

// MouseIn implements desktop.Hoverable.
func (r *identityRow) MouseIn(*desktop.MouseEvent) { r.hovered = true; r.paint() }

// MouseMoved implements desktop.Hoverable.
func (r *identityRow) MouseMoved(*desktop.MouseEvent) {}

// MouseOut implements desktop.Hoverable.
func (r *identityRow) MouseOut() { r.hovered = false; r.paint() }

// withIdentities shows title with a progress bar while the agent lists the
// certificates on this PC, then hands them to show; on failure it goes back to the
// start screen and says why.
func (u *UI) withIdentities(title string, show func(ids []*agent.Identity)) {
	u.screen(title, widget.NewProgressBarInfinite(), u.Home, nil)
	u.load(func(ctx context.Context) (any, error) {
		return u.backend.Identities(ctx)
	}, func(res any, err error) {
		if err != nil {
			u.Home()
			u.showError(err)
			return
		}
		show(res.([]*agent.Identity))
	})
}
