package ui

import (
	"context"
	"runtime"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// storeKinds are the certificate stores 設定 offers on this OS, in the order
// shown: the OS default, the OS's own store (the Windows certificate store on
// Windows, the Secret Service elsewhere), and a folder the user names. The
// store of another OS is not offered; a configured one stays listed, so 設定
// shows what is in use.
func storeKinds(current string) []string {
	own := "keyring"
	if runtime.GOOS == "windows" {
		own = "windows"
	}
	kinds := []string{"default", own, "dir"}
	if current != "" && current != own && current != "dir" && (current == "windows" || current == "keyring") {
		kinds = append(kinds[:2], current, "dir")
	}
	return kinds
}

// showSettings is 設定: the bank's configuration file, where certificates are kept,
// and the language. Without a usable configuration it is the first screen, and it
// says why.
func (u *UI) showSettings() {
	configPath, configRow := u.fileField(false, "", ".json")
	configPath.SetText(u.opts.ConfigPath)

	kind, dir, _ := strings.Cut(u.opts.Store, ":")
	kinds := storeKinds(kind)
	storeNames := make([]string, len(kinds))
	for i, k := range kinds {
		storeNames[i] = t("settings.store." + k)
	}
	folder := u.newEntry(t("settings.store.folder"), nil)
	store := u.newChoice(storeNames, func(name string) {
		if name == t("settings.store.dir") {
			folder.Enable()
		} else {
			folder.Disable()
		}
	})
	folder.SetText(dir)
	store.SetSelectedIndex(0)
	for i, k := range kinds {
		if k == kind {
			store.SetSelectedIndex(i)
		}
	}

	languages := []string{"日本語", "English"}
	// A drop-down rather than radio buttons: Fyne's radio items take the keyboard
	// one by one and swallow Escape, which must always back out of the screen.
	language := u.newChoice(languages, nil)
	language.SetSelectedIndex(0)
	if u.lang == "en" {
		language.SetSelectedIndex(1)
	}

	errText := errorLabel()
	if u.openErr != nil {
		u.setError(errText, u.openErr)
	}

	opening := container.NewHBox(widget.NewActivity(), widget.NewLabel(t("settings.opening")))
	opening.Hide()
	var save *button
	busy := func(on bool) {
		if on {
			save.Disable()
			opening.Show()
			opening.Objects[0].(*widget.Activity).Start()
		} else {
			opening.Objects[0].(*widget.Activity).Stop()
			opening.Hide()
			save.Enable()
		}
	}
	save = u.newButton(t("settings.save"), true, func() {
		newStore := kinds[store.SelectedIndex()]
		switch newStore {
		case "default":
			newStore = ""
		case "dir":
			newStore = "dir:" + strings.TrimSpace(folder.Text)
		}
		newLang := "ja"
		if language.Selected == languages[1] {
			newLang = "en"
		}
		u.applySettings(strings.TrimSpace(configPath.Text), newStore, newLang, errText, busy)
	})

	parts := []fyne.CanvasObject{
		wrapped(t("settings.text")),
		errText,
		widget.NewForm(
			widget.NewFormItem(t("field.configfile"), configRow),
			widget.NewFormItem(t("field.store"), store),
			widget.NewFormItem(t("settings.store.folder"), folder),
			widget.NewFormItem(t("field.language"), language),
		),
	}
	if u.backend != nil {
		parts = append(parts, u.bankSection()) // ui/banks.go
		if b := u.browserSection(); b != nil {
			parts = append(parts, b)
		}
	}
	var back func()
	row := []fyne.CanvasObject{save}
	if u.backend != nil {
		back = u.Home
		row = append([]fyne.CanvasObject{u.newButton(t("button.back"), false, back)}, row...)
		if _, ok := u.backend.(doctor); ok { // ui/doctor.go (windows engineer)
			row = append([]fyne.CanvasObject{u.newButton(u.inLang("動作環境チェック", "Environment check"), false, u.showDoctor)}, row...)
		}
	}
	parts = append(parts, buttons(append([]fyne.CanvasObject{opening}, row...)...))
	u.screen(t("settings.title"), container.NewVBox(parts...), back, configPath)
}

// applySettings opens the agent with the new configuration and store, and keeps
// them (and for the next start) only if that worked; the language applies at once.
// The opening runs off the UI thread, as at start, with busy showing it.
func (u *UI) applySettings(configPath, store, lang string, errText *errorText, busy func(bool)) {
	if configPath == u.opts.ConfigPath && store == u.opts.Store && u.backend != nil {
		u.applyLanguage(lang)
		return
	}
	if configPath == "" {
		u.setError(errText, errNoConfig)
		return
	}
	busy(true)
	screen := u.screens
	u.run(func(context.Context) (any, error) {
		return u.opts.Open(configPath, store)
	}, func(res any, err error) {
		busy(false)
		if err != nil {
			if u.screens == screen {
				u.setError(errText, err)
			} else {
				u.showError(err)
			}
			return
		}
		if u.backend != nil {
			_ = u.backend.Close() // its connections and any key kept for a retry; nothing the user can act on
		}
		u.backend, u.openErr = res.(Backend), nil
		u.opts.ConfigPath, u.opts.Store = configPath, store
		u.startAutoRenew()
		prefs := u.app.Preferences()
		prefs.SetString(prefConfig, configPath)
		prefs.SetString(prefStore, store)
		u.applyLanguage(lang)
	})
}

// applyLanguage switches the window to lang, remembers it, and goes home.
func (u *UI) applyLanguage(lang string) {
	u.app.Preferences().SetString(prefLanguage, lang)
	u.setLanguage(lang)
	u.win.SetTitle(t("app.title"))
	u.tray.rebuild()
	u.Home()
	u.refreshWarnings()
}
