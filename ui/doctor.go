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
	// Not monospace: Fyne's monospace font has no Japanese glyphs, and the
	// report is mostly Japanese (seen as boxes in inkan.exe under Wine).
	report.Wrapping = fyne.TextWrapWord
	running := widget.NewActivity()
	running.Start()
	var text string
	copyButton := u.newButton(u.inLang("報告をコピー", "Copy the report"), true, func() {
		u.app.Clipboard().SetContent(text)
	})
	copyButton.Disable()
	summary := container.NewVBox()
	back := u.showSettings
	u.screen(u.inLang("動作環境チェック", "Environment check"), container.NewVBox(
		wrapped(u.inLang(
			"電子証明書の取得とブラウザーでのログインに必要な手順を、この PC の証明書ストアで試します。試しに作った鍵と証明書は最後に削除します。失敗した手順があれば、報告をコピーして当金庫にお知らせください。",
			"This tries, in this PC's certificate store, every step a certificate pickup and a browser login take. The test key and certificate are deleted afterwards. If a step fails, copy the report and send it to the bank.")),
		running,
		summary,
		report,
		buttons(u.newButton(t("button.back"), false, back), copyButton),
	), back, nil)
	u.load(func(ctx context.Context) (any, error) {
		return d.Doctor(ctx), nil
	}, func(result any, _ error) {
		r := result.(*agent.DoctorReport)
		text = r.Text(u.lang)
		running.Stop()
		running.Hide()
		for _, o := range u.doctorSummary(r) {
			summary.Add(o)
		}
		report.SetText(text)
		copyButton.Enable()
	})
}

// doctorSummary is a line for each bank the self-check checked, then one for
// this PC: 成功, or 失敗 with the first step that failed, so that with several
// banks the user sees at once which one cannot be reached.
func (u *UI) doctorSummary(r *agent.DoctorReport) []fyne.CanvasObject {
	line := func(name string, steps []agent.DoctorStep) fyne.CanvasObject {
		l := widget.NewLabel("")
		l.Wrapping = fyne.TextWrapWord
		l.Importance = widget.SuccessImportance
		l.SetText(name + u.inLang("：成功", ": passed"))
		for _, s := range steps {
			if !s.OK && !s.Skipped {
				l.Importance = widget.DangerImportance
				l.SetText(name + u.inLang("：失敗（", ": failed (") + s.Name + u.inLang("）", ")"))
				break
			}
		}
		return l
	}
	var out []fyne.CanvasObject
	for _, b := range r.Banks {
		out = append(out, line(b.BankName+"（"+b.BankCode+"）", b.Steps))
	}
	if len(r.Banks) > 0 {
		out = append(out, line(u.inLang("この PC", "This PC"), r.Steps))
	}
	return out
}
