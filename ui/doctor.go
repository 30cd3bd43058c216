package ui

// 設定 → 動作環境チェック: the agent's self-check (agent.Doctor), shown step by
// step with its call and status, and copied for the bank's help desk.

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/inkan-dev/inkan/agent"
)

// doctor is a backend that can run the self-check (*agent.Agent is one).
type doctor interface {
	Doctor(ctx context.Context) *agent.DoctorReport
}

// inLang picks the Japanese or the English text by the window's language.
func (u *UI) inLang(ja, en string) string {
	if u.lang == "en" {
		return en
	}
	return ja
}

// showDoctor runs the self-check and shows its report, with a button that
// copies it.
func (u *UI) showDoctor() {
	d, ok := u.backend.(doctor)
	if !ok {
		return
	}
	report := widget.NewLabel(u.inLang("確認しています…", "Checking…"))
	report.Wrapping = fyne.TextWrapWord
	report.TextStyle.Monospace = true
	running := widget.NewActivity()
	running.Start()
	var text string
	copyButton := u.newButton(u.inLang("報告をコピー", "Copy the report"), true, func() {
		u.app.Clipboard().SetContent(text)
	})
	copyButton.Disable()
	back := u.showSettings
	u.screen(u.inLang("動作環境チェック", "Environment check"), container.NewVBox(
		wrapped(u.inLang(
			"電子証明書の取得とブラウザーでのログインに必要な手順を、この PC の証明書ストアで試します。試しに作った鍵と証明書は最後に削除します。失敗した手順があれば、報告をコピーして当金庫にお知らせください。",
			"This tries, in this PC's certificate store, every step a certificate pickup and a browser login take. The test key and certificate are deleted afterwards. If a step fails, copy the report and send it to the bank.")),
		running,
		report,
		buttons(u.newButton(t("button.back"), false, back), copyButton),
	), back, nil)
	u.load(func(ctx context.Context) (any, error) {
		return d.Doctor(ctx), nil
	}, func(result any, _ error) {
		r := result.(*agent.DoctorReport)
		text = r.Text()
		running.Stop()
		running.Hide()
		report.SetText(text)
		copyButton.Enable()
	})
}
