package ui

import (
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inkan-dev/inkan/agent"
)

// stepList shows the stages of a pickup or a renewal, each ticked off as the agent
// reports the next one, so the user sees that the work moves on while the key is
// generated and the bank issues the certificate.
type stepList struct {
	steps   []agent.Step
	icons   []*widget.Icon
	labels  []*widget.Label
	bar     *widget.ProgressBarInfinite
	current int // index of the running step; -1 before the first
}

func newStepList(steps ...agent.Step) *stepList {
	l := &stepList{steps: steps, current: -1, bar: widget.NewProgressBarInfinite()}
	for _, s := range steps {
		l.icons = append(l.icons, widget.NewIcon(theme.RadioButtonIcon()))
		l.labels = append(l.labels, widget.NewLabel(t("step."+strconv.Itoa(int(s)))))
	}
	return l
}

func (l *stepList) object() fyne.CanvasObject {
	rows := container.NewVBox()
	for i := range l.steps {
		rows.Add(container.NewHBox(l.icons[i], l.labels[i]))
	}
	return container.NewVBox(rows, l.bar)
}

// reach marks every step before s done and s running; StepDone finishes the list.
func (l *stepList) reach(s agent.Step) {
	for i, step := range l.steps {
		switch {
		case step < s:
			l.icons[i].SetResource(theme.ConfirmIcon())
			l.labels[i].TextStyle.Bold = false
		case step == s:
			l.icons[i].SetResource(theme.MediaPlayIcon())
			l.labels[i].TextStyle.Bold = true
			l.current = i
		}
		l.labels[i].Refresh()
	}
	if s == agent.StepDone {
		l.bar.Stop()
		l.bar.Hide()
	}
}

// fail marks the running step as the one that failed.
func (l *stepList) fail() {
	l.bar.Stop()
	l.bar.Hide()
	if l.current >= 0 {
		l.icons[l.current].SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
	}
}
