package main

import "fyne.io/fyne/v2"

// fyneMetadata is FyneApp.toml's [Details] and [Migrations], for app.SetMetadata.
// `fyne build` would compile them in; `go build` (make build, build-windows.sh)
// does not, and Fyne reads FyneApp.toml itself only when the program runs from
// its source tree. An installed inkan or inkan.exe would otherwise run with no
// metadata: version 0.0.1 and, above all, without the fyneDo migration that the
// window is written for (every widget change from a background job goes
// through fyne.Do), so it would run in Fyne's older threading mode, which no
// test runs. TestMetadataIsFyneAppToml keeps the two the same. The icon is
// left out: the window sets its own (ui.New), and Fyne would decode the
// 512×512 PNG a second time for nothing.
func fyneMetadata() fyne.AppMetadata {
	return fyne.AppMetadata{
		ID:         "dev.inkan.agent",
		Name:       "Inkan",
		Version:    "0.1.0",
		Build:      1,
		Migrations: map[string]bool{"fyneDo": true},
	}
}
