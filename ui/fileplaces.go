package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// filePlaceKeys are the names Fyne 2.7 gives the places in its file dialog's
// side list (dialog/file.go, file_unix.go, file_xdg.go, file_windows.go), with
// the translation keys of ours that replace them: Fyne shows them as they are,
// in English, whatever the app's language. Drive letters (C:) and App Files
// (which this app has not) stay.
var filePlaceKeys = map[string]string{
	"Home":      "file.place.home",
	"Computer":  "file.place.computer",
	"Desktop":   "file.place.desktop",
	"Documents": "file.place.documents",
	"Downloads": "file.place.downloads",
	"Music":     "file.place.music",
	"Pictures":  "file.place.pictures",
	"Videos":    "file.place.videos",
}

// translateFilePlaces names the places of Fyne's file dialog shown in o (its
// pop-up) in the app's language. Fyne fills each row of that list from its own
// names on every update (an icon and a label in a box), so the list's update
// function is wrapped: Fyne's runs, then the label gets our word. The list is
// found through the dialog's public parts (the pop-up's content, the split's
// sides, containers' objects); a row of any other shape, and any name not in
// filePlaceKeys, is left as Fyne made it.
func translateFilePlaces(o fyne.CanvasObject) {
	for _, l := range fileDialogLists(o) {
		update := l.UpdateItem
		if update == nil {
			continue
		}
		l.UpdateItem = func(id widget.ListItemID, item fyne.CanvasObject) {
			update(id, item)
			row, ok := item.(*fyne.Container)
			if !ok || len(row.Objects) != 2 {
				return
			}
			if label, ok := row.Objects[1].(*widget.Label); ok {
				if key, ok := filePlaceKeys[label.Text]; ok {
					label.SetText(t(key))
				}
			}
		}
		l.Refresh()
	}
}

// fileDialogLists are the lists in o's tree of containers, as far as Fyne's
// file dialog nests them: a pop-up, borders, splits and scrolls.
func fileDialogLists(o fyne.CanvasObject) []*widget.List {
	switch w := o.(type) {
	case *widget.List:
		return []*widget.List{w}
	case *widget.PopUp:
		return fileDialogLists(w.Content)
	case *container.Split:
		return append(fileDialogLists(w.Leading), fileDialogLists(w.Trailing)...)
	case *container.Scroll:
		return fileDialogLists(w.Content)
	case *fyne.Container:
		var out []*widget.List
		for _, c := range w.Objects {
			out = append(out, fileDialogLists(c)...)
		}
		return out
	}
	return nil
}
