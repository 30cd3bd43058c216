// Command inkan is the Inkan desktop agent: the window in which office staff pick
// up, choose, renew, back up and restore the certificates they log in to their
// bank with. The screens are in package ui; this file only wires them up.
package main

import (
	"flag"

	"fyne.io/fyne/v2/app"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/ui"
)

func main() {
	// 動作環境チェック starts this program again to reopen its key in a second
	// process; that run ends here, before any window.
	certstore.RunSelfCheckChild()
	collectGarbageSooner()
	configPath := flag.String("config", "", "the bank's configuration file, as `inkan-server agent-config` writes it (default: the one chosen in 設定)")
	store := flag.String("store", "", `where certificates are kept: "windows", "keyring" or "dir:PATH" (default: the one chosen in 設定, else the OS's own)`)
	language := flag.String("lang", "", `language of the window, "ja" or "en" (default: the one chosen in 設定, else Japanese)`)
	benchStartup := flag.Bool("bench-startup", false, "print the time from process start to the first frame and the memory in use, then quit")
	flag.Parse()

	app.SetMetadata(fyneMetadata())
	a := app.NewWithID(fyneMetadata().ID)
	open := func(configPath, store string) (ui.Backend, error) {
		return openAgent(configPath, store, func(cfg *agent.Config) { ui.ApplyBrowserPreferences(a.Preferences(), cfg) })
	}
	u := ui.New(a, ui.Options{ConfigPath: *configPath, Store: *store, Language: *language, Open: open})
	if *benchStartup {
		reportStartup(a, u)
	}
	u.ShowAndRun()
}
