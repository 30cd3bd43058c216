// Package ui is the Inkan desktop agent's window: the bank's login screen, the
// pickup wizard, the certificate chooser, the logged-in screen with its 重要なお知らせ
// and 利用者管理, the certificate list with backup and restore, the settings, and the
// system-tray icon that warns before a certificate expires.
//
// It holds no HTTP and no cryptography: every action goes to a [Backend], which in
// the program is the agent. It does not import fyne.io/fyne/v2/app either, so its
// tests run under Fyne's headless test driver without cgo or a display; cmd/inkan
// creates the application and hands it to [New].
//
// # Threads
//
// Work that waits on the network or the key store runs on its own goroutine, so the
// window never freezes; its result reaches the widgets through fyne.Do (FyneApp.toml
// enables the fyneDo migration, so the driver checks this).
package ui

import (
	"context"
	"errors"
	"slices"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/assets"
)

// Options configure [New].
type Options struct {
	// ConfigPath is the bank's configuration file (inkan-server agent-config writes
	// it). Empty means the one saved in the preferences by 設定.
	ConfigPath string
	// Store is the certificate store kind ("windows", "keyring", "dir:PATH"); empty
	// means the saved one, or the configuration's, or the OS default.
	Store string
	// Language is "ja" or "en"; empty means the saved choice, or the configuration's,
	// or Japanese.
	Language string
	// Open opens the agent for a configuration file and a store kind. The window
	// calls it at start and again when 設定 changes either.
	Open func(configPath, store string) (Backend, error)
}

// Preference keys, saved by 設定 so the next start needs no flags.
const (
	prefConfig   = "config"
	prefStore    = "store"
	prefLanguage = "language"
)

// UI is the agent's main window and tray icon.
type UI struct {
	app     fyne.App
	win     fyne.Window
	opts    Options
	backend Backend // nil while no configuration could be opened
	openErr error   // why the configuration could not be opened
	lang    string

	session *agent.Session
	// title is the current screen's heading.
	title string
	// screens counts the screens shown, so a load that lands after the user has
	// moved on is dropped (see load).
	screens int
	// escape is what the Escape key does on the current screen (cancel, back).
	escape func()
	// dialog is the dialog open over the screen, which Escape closes first;
	// under are the dialogs beneath it (a file dialog over バックアップ), the
	// last one next.
	dialog dialog.Dialog
	under  []dialog.Dialog
	// fileOverlay is the overlay of the last file dialog shown, whose Escape
	// escapeFromFyne catches; escapeCaught says catchEscape is in place.
	fileOverlay  fyne.CanvasObject
	escapeCaught bool

	ctx    context.Context // cancelled when the window is closed for good
	cancel context.CancelFunc
	// work counts background jobs, so tests can wait for them to land.
	work sync.WaitGroup
	// landing lets one result of run at a time touch the widgets. The real driver
	// runs fyne.Do on its one UI thread anyway; the test driver runs it on the
	// calling goroutine, where two results could otherwise land at once.
	landing sync.Mutex

	tray *tray
	// renewal is the silent renewal of the current backend (banks.go).
	renewal autoRenew
	// pickupBank is the bank chosen for the pickup under way ("" with one bank).
	pickupBank string
}

// New builds the window of a. It opens the configuration through opts.Open and
// shows the start screen, or 設定 when there is no usable configuration yet.
func New(a fyne.App, opts Options) *UI {
	prefs := a.Preferences()
	if opts.ConfigPath == "" {
		opts.ConfigPath = prefs.String(prefConfig)
	}
	if opts.Store == "" {
		opts.Store = prefs.String(prefStore)
	}
	u := &UI{app: a, opts: opts}
	u.ctx, u.cancel = context.WithCancel(context.Background())
	a.SetIcon(assets.Icon)
	a.Settings().SetTheme(NewTheme())

	// Until the configuration is open only the flag and the saved choice can name
	// the language; connect looks again at the configuration's.
	u.setLanguage(u.chooseLanguage())

	u.win = a.NewWindow(t("app.title"))
	u.win.SetIcon(assets.Icon)
	// The window can be resized; it opens at a size that fits the smallest screens
	// it is made for, 1024×640 at 100 % and 1366×768 at 150 % (910×512 device-
	// independent pixels, less the taskbar), and every screen scrolls rather than
	// push anything off the window when it is made smaller still.
	u.win.Resize(windowSize)
	u.win.SetMaster()
	u.win.Canvas().SetOnTypedKey(func(ev *fyne.KeyEvent) {
		if ev.Name == fyne.KeyEscape {
			u.pressEscape()
		}
	})
	u.tray = newTray(u)
	u.connect()
	return u
}

// connect opens the configuration and the store on a goroutine of their own and
// shows 接続中… meanwhile: a key store may take its time (the Secret Service
// asking for its password, a slow D-Bus), and the window must not freeze. Without
// a configuration file it goes straight to 設定.
func (u *UI) connect() {
	if u.opts.ConfigPath == "" || u.opts.Open == nil {
		u.openErr = errNoConfig
		u.Home()
		return
	}
	u.screen(t("connect.title"), container.NewVBox(wrapped(t("connect.text")), widget.NewProgressBarInfinite()), nil, nil)
	configPath, store := u.opts.ConfigPath, u.opts.Store
	u.run(func(context.Context) (any, error) {
		return u.opts.Open(configPath, store)
	}, func(res any, err error) {
		if err != nil {
			u.openErr = err
		} else {
			u.backend = res.(Backend)
		}
		u.setLanguage(u.chooseLanguage())
		u.win.SetTitle(t("app.title"))
		u.tray.rebuild()
		u.startAutoRenew()
		u.Home()
		if u.tray.running {
			u.refreshWarnings()
		}
	})
}

// windowSize is the size the window opens at, in Fyne's device-independent units.
var windowSize = fyne.NewSize(800, 460)

// Window is the main window.
func (u *UI) Window() fyne.Window { return u.win }

// ShowAndRun shows the window, starts the expiry checks and runs the application
// until it quits.
func (u *UI) ShowAndRun() {
	u.win.Show()
	u.tray.start()
	u.app.Run()
	u.cancel()
	if u.backend != nil {
		_ = u.backend.Close() // idle connections and any key kept for a retry; the process ends
	}
}

// quit ends the application, from the tray's 終了 (the window may be hidden):
// the background work stops at once, and ShowAndRun lets go of the agent.
func (u *UI) quit() {
	u.cancel()
	u.app.Quit()
}

// Home shows the start screen, or 設定 when no configuration is open.
func (u *UI) Home() {
	if u.backend == nil {
		u.showSettings()
		return
	}
	u.showStart()
}

// errNoConfig says that no configuration file was given yet.
var errNoConfig = errors.New("no configuration file")

// chooseLanguage picks the language: the flag, the saved choice, the bank's
// configuration, then Japanese.
func (u *UI) chooseLanguage() string {
	for _, l := range []string{u.opts.Language, u.app.Preferences().String(prefLanguage), u.configLanguage()} {
		if l == "ja" || l == "en" {
			return l
		}
	}
	return "ja"
}

func (u *UI) configLanguage() string {
	if u.backend == nil {
		return ""
	}
	return u.backend.Config().Language
}

// bankName is the bank's name as the configuration gives it.
func (u *UI) bankName() string {
	if u.backend == nil {
		return t("app.name")
	}
	return u.backend.Config().BankName
}

// screen replaces the window's content with a titled screen: the bank's header,
// the title, and body. escape is what Escape does there (nil: nothing), and focus,
// when not nil, receives the keyboard so the user can type at once.
func (u *UI) screen(title string, body fyne.CanvasObject, escape func(), focus fyne.Focusable) {
	u.title, u.escape = title, escape
	u.screens++
	seal := canvas.NewImageFromImage(sealImage())
	seal.FillMode = canvas.ImageFillContain
	seal.SetMinSize(fyne.NewSquareSize(40))
	bank := widget.NewLabelWithStyle(u.bankName(), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	bank.SizeName = theme.SizeNameSubHeadingText
	heading := canvas.NewText(title, theme.Color(theme.ColorNamePrimary))
	heading.TextSize = theme.TextHeadingSize()
	heading.TextStyle.Bold = true
	header := container.NewBorder(nil, nil, seal, widget.NewLabel(t("app.name")), bank)
	top := container.NewVBox(header, widget.NewSeparator(), container.NewPadded(heading))
	// Scroll both ways: a body wider than the window (a long table, a narrow window)
	// scrolls sideways instead of widening the window past the screen; text that
	// wraps still fills the window's width.
	u.win.SetContent(container.New(settledLayout{}, container.NewBorder(top, nil, nil, nil, container.NewScroll(container.NewPadded(body)))))
	if focus != nil {
		u.win.Canvas().Focus(focus)
	}
}

// settledLayout is the layout of the window's content: it lays the screen out
// at the window's size, then once more. Text that wraps knows its height only
// once it has its width, and Fyne's containers read a child's height before
// they give it its width: after the window or a box took a new width, a
// paragraph kept the height of its old width (a banner box 5 px too tall, or
// a line cut off) until some later layout. The second pass, at the same
// widths, reads the heights the first one settled.
type settledLayout struct{}

// MinSize implements fyne.Layout.
func (settledLayout) MinSize(objects []fyne.CanvasObject) fyne.Size {
	var min fyne.Size
	for _, o := range objects {
		min = min.Max(o.MinSize())
	}
	return min
}

// Layout implements fyne.Layout.
func (settledLayout) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objects {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
		o.Refresh() // lays every container out again, with the settled heights
	}
}

// relayout settles the screen after part of it changed on its own (a banner
// or a list that a background load filled in): the box that changed laid
// itself out, but the boxes around it still hold their old heights.
func (u *UI) relayout() { settle(u.win.Content()) }

// settle lays out again the window of o, and the dialogs over it, so that the
// boxes around o make room for what o now holds (or close up after it).
func settle(o fyne.CanvasObject) {
	c := fyne.CurrentApp().Driver().CanvasForObject(o)
	if c == nil {
		return // not on screen yet: it is laid out when it is
	}
	if root, ok := c.Content().(*fyne.Container); ok {
		for _, o := range root.Objects {
			o.Refresh()
		}
	}
	for _, o := range c.Overlays().List() {
		o.Refresh()
	}
}

// pressEscape closes the open dialog (as its cancel button would), or else runs
// the current screen's Escape action. Fyne's dialogs do not answer Escape.
func (u *UI) pressEscape() {
	if u.dialog != nil {
		u.dialog.Hide()
		return
	}
	if u.escape != nil {
		u.escape()
	}
}

// showDialog shows d and lets Escape close it while it is open.
func (u *UI) showDialog(d dialog.Dialog, width float32) {
	u.opened(d)
	d.Resize(fyne.NewSize(width, 0))
	d.Show()
	// Its paragraphs broke their lines at the dialog's width only as it was
	// shown: size it again for the height they now need.
	d.Resize(fyne.NewSize(width, 0))
}

// showFileDialog shows one of Fyne's file dialogs so that Escape closes it,
// and the dialog under it stays open. Fyne's own widgets in it answer no
// Escape: in the real window catchEscape hands it to escapeFromFyne wherever
// the keyboard is in the dialog. The keyboard starts on none of them (Tab
// reaches the file name), so that Escape works at once even without that
// (the tests' driver).
func (u *UI) showFileDialog(d *dialog.FileDialog) {
	u.opened(d)
	d.Show()
	u.fileOverlay = u.win.Canvas().Overlays().Top()
	translateFilePlaces(u.fileOverlay)
	u.win.Canvas().Unfocus()
	u.catchEscape()
}

// passesEscape is a widget of ours that answers Escape itself (keys.go).
type passesEscape interface{ passesEscape() }

// escapeFromFyne answers an Escape pressed while one of Fyne's own widgets
// has the keyboard in a file dialog (its file-name field, its buttons, lists
// and check box), as our own widgets would: the file dialog closes as キャンセル
// would, the dialog under it stays; Fyne's form over it (新しいフォルダー)
// closes first. It reports whether it answered: not while no file dialog is
// open, nor for a widget of ours, nor for no widget (the canvas's key handler
// has it then), nor for a menu, which closes itself on Escape.
func (u *UI) escapeFromFyne() bool {
	c := u.win.Canvas()
	if u.fileOverlay == nil || !slices.Contains(c.Overlays().List(), u.fileOverlay) {
		return false
	}
	focused := c.Focused()
	if _, ours := focused.(passesEscape); ours || focused == nil {
		return false
	}
	top := c.Overlays().Top()
	if _, menu := top.(*widget.PopUpMenu); menu {
		return false
	}
	if top == u.fileOverlay {
		u.pressEscape()
	} else {
		top.Hide()
	}
	return true
}

// opened makes d the dialog Escape closes until d is closed; the one it
// covers is next.
func (u *UI) opened(d dialog.Dialog) {
	if u.dialog != nil {
		u.under = append(u.under, u.dialog)
	}
	u.dialog = d
	d.SetOnClosed(func() {
		if u.dialog == d {
			u.dialog = nil
			if n := len(u.under); n > 0 {
				u.dialog, u.under = u.under[n-1], u.under[:n-1]
			}
			return
		}
		u.under = slices.DeleteFunc(u.under, func(o dialog.Dialog) bool { return o == d })
	})
}

// run does work on its own goroutine and hands its result to done on the UI
// thread. The context is the window's, so closing the application cancels it.
func (u *UI) run(work func(ctx context.Context) (any, error), done func(result any, err error)) {
	u.work.Add(1)
	go func() {
		result, err := work(u.ctx)
		fyne.Do(func() {
			defer u.work.Done()
			u.landing.Lock()
			defer u.landing.Unlock()
			done(result, err)
		})
	}()
}

// load is run for work that fills in the current screen: when the user has left
// the screen by the time the result arrives (Escape during a slow network), the
// result is dropped instead of pulling them back.
func (u *UI) load(work func(ctx context.Context) (any, error), done func(result any, err error)) {
	screen := u.screens
	u.run(work, func(result any, err error) {
		if u.screens == screen {
			done(result, err)
		}
	})
}

// wait blocks until every background job started by run has landed. Tests use it.
func (u *UI) wait() { u.work.Wait() }

// section frames a group of controls under a heading, like the boxes of the bank's
// own login page.
func section(title string, content ...fyne.CanvasObject) fyne.CanvasObject {
	heading := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	heading.SizeName = theme.SizeNameSubHeadingText
	box := container.NewVBox(append([]fyne.CanvasObject{heading, widget.NewSeparator()}, content...)...)
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = theme.InputRadiusSize()
	bg.StrokeColor = theme.Color(theme.ColorNameInputBorder)
	bg.StrokeWidth = 1
	return container.NewStack(bg, container.NewPadded(box))
}

// wrapped is a paragraph that wraps at the window's width by the rules of
// Japanese line breaking, for sentences.
func wrapped(text string) *paragraph { return newParagraph(text) }

// buttons lays out a row of buttons at the trailing edge, as dialogs do.
func buttons(objs ...fyne.CanvasObject) fyne.CanvasObject {
	return container.NewHBox(append([]fyne.CanvasObject{layout.NewSpacer()}, objs...)...)
}
