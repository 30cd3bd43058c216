package ui

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inkan-dev/inkan/agent"
)

func TestCertificateListShowsDetailsAndDeletesAfterConfirming(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	u := newTestUI(t, f)
	tap(t, u, "電子証明書の管理")
	assertTitle(t, u, "電子証明書の管理")
	test.Tap(rows(u)[1])
	assertShows(t, u, "suzuki+1376 の詳細", "5A3C0002", "フォルダー /home/yamada/.local/share/inkan",
		"serialNumber=C-0001, CN=suzuki+1376, OU=general, O=山田商事株式会社, C=JP")
	u.win.Resize(fyne.NewSize(840, 800)) // room for the details without scrolling
	test.AssertImageMatches(t, "certificates.png", u.win.Canvas().Capture())

	tap(t, u, "このパソコンから削除")
	confirmDialog(t, u, "キャンセル")
	if len(f.ids) != 2 {
		t.Fatal("deleted although the user cancelled")
	}
	tap(t, u, "このパソコンから削除")
	confirmDialog(t, u, "このパソコンから削除")
	if len(f.ids) != 1 || f.ids[0].Label != "yamada+1376" {
		t.Fatalf("after deleting suzuki+1376 the PC has %d certificates", len(f.ids))
	}
	if len(rows(u)) != 1 {
		t.Fatal("the list still shows the deleted certificate")
	}
	assertShows(t, u, "電子証明書 suzuki+1376 と秘密鍵を、このパソコンから削除しました。")
}

func TestCertificateListShowsWhyOneIsUnusableAndDeletesIt(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	f.ids[1].State = agent.StateUnusable
	f.ids[1].Problem = `key "inkan-2" in Microsoft Software Key Storage Provider: NCryptOpenKey returned 0x80070005 (ERROR_ACCESS_DENIED)`
	u := newTestUI(t, f)
	tap(t, u, "電子証明書の管理")
	test.Tap(rows(u)[1])
	assertShows(t, u, "使用不可", "使用できない理由", f.ids[1].Problem)
	tap(t, u, "このパソコンから削除")
	confirmDialog(t, u, "このパソコンから削除")
	if len(f.ids) != 1 || f.ids[0].Label != "yamada+1376" {
		t.Fatalf("after deleting the unusable suzuki+1376 the PC has %d certificates", len(f.ids))
	}
}

func TestBackupAndRestoreThroughTheirDialogs(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	u := newTestUI(t, f)
	file := filepath.Join(t.TempDir(), "backup.p12")
	tap(t, u, "電子証明書の管理")

	tap(t, u, "バックアップ")
	typeInto(t, u, true, 0, file)
	typeInto(t, u, true, 1, "short")
	typeInto(t, u, true, 2, "short")
	confirmDialog(t, u, "バックアップ")
	assertShows(t, u, "パスワードが短すぎます")
	if _, err := os.Stat(file); err == nil {
		t.Fatal("a backup was written with a refused password")
	}

	typeInto(t, u, true, 1, "Natsu-no-Umi-2026")
	typeInto(t, u, true, 2, "Natsu-no-Umi-2026")
	confirmDialog(t, u, "バックアップ")
	assertShows(t, u, "2 件の電子証明書を "+file+" にバックアップしました。")
	data, err := os.ReadFile(file)
	if err != nil || len(data) == 0 {
		t.Fatalf("no backup file: %v", err)
	}
	if len(f.backupFPs) != 2 || f.backupFPs[0] != f.ids[0].Fingerprint || f.backupFPs[1] != f.ids[1].Fingerprint {
		t.Fatalf("backed up %v, want both certificates", f.backupFPs)
	}
	if f.backupFmt != agent.BackupModern {
		t.Errorf("backed up in format %d without the 3DES box ticked, want the modern one", f.backupFmt)
	}
	confirmDialog(t, u, "OK")

	tap(t, u, "リストア")
	typeInto(t, u, true, 0, file)
	typeInto(t, u, true, 1, "wrong password")
	confirmDialog(t, u, "リストア")
	assertShows(t, u, u.message(agent.ErrWrongPassword))

	typeInto(t, u, true, 1, "Natsu-no-Umi-2026")
	confirmDialog(t, u, "リストア")
	assertShows(t, u, "取り込んだ電子証明書：restored+1376")
	if len(rows(u)) != 3 {
		t.Fatalf("the list shows %d certificates after the restore, want 3", len(rows(u)))
	}
}

func TestBackupLeavesOutKeysThatCannotBeExported(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	f.ids[1].Exportable = false
	u := newTestUI(t, f)
	tap(t, u, "電子証明書の管理")
	tap(t, u, "バックアップ")
	for _, o := range test.LaidOutObjects(u.win.Canvas().Overlays().Top()) {
		if c, ok := o.(*widget.Check); ok && c.Text != "" && c.Disabled() == c.Checked {
			t.Errorf("check %q: disabled %v but checked %v", c.Text, c.Disabled(), c.Checked)
		}
	}
	assertShows(t, u, "（書き出しできない鍵）")
}

func TestRestoreOfAMissingFileNamesIt(t *testing.T) {
	u := newTestUI(t, newFakeBackend())
	tap(t, u, "電子証明書の管理")
	tap(t, u, "リストア")
	missing := filepath.Join(t.TempDir(), "none.p12")
	typeInto(t, u, true, 0, missing)
	confirmDialog(t, u, "リストア")
	assertShows(t, u, "ファイル "+missing+" を読み書きできませんでした。")
}

func TestBackupDialogClosesOnEscape(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	u := newTestUI(t, f)
	tap(t, u, "電子証明書の管理")
	tap(t, u, "バックアップ")
	typeInto(t, u, true, 1, "Natsu")
	pressKey(u, "Escape")
	if u.dialog != nil || len(f.calls) == 0 || f.calls[len(f.calls)-1] == "Backup " {
		t.Fatal("Escape did not close the backup dialog, or it backed up")
	}
	assertTitle(t, u, "電子証明書の管理")
}

func TestRestoreSaysWhichCertificatesAreNotThisBanks(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	f.backupPW = "Natsu-no-Umi-2026"
	f.otherInBackup = []*agent.OtherCertificate{
		{Label: "tanaka+0138"},
		{Label: "e-Tax user", Certificate: &x509.Certificate{Subject: pkix.Name{CommonName: "e-Tax user"}}}, // the agent names it by its CN
	}
	file := filepath.Join(t.TempDir(), "backup.p12")
	if err := os.WriteFile(file, []byte("pkcs12"), 0o600); err != nil {
		t.Fatal(err)
	}
	u := newTestUI(t, f)
	tap(t, u, "電子証明書の管理")
	tap(t, u, "リストア")
	typeInto(t, u, true, 0, file)
	typeInto(t, u, true, 1, f.backupPW)
	confirmDialog(t, u, "リストア")
	assertShows(t, u, "取り込んだ電子証明書：restored+1376",
		"次の電子証明書も取り込みましたが、いんかん信用金庫 の電子証明書ではないため、いんかん信用金庫 へのログインには使えません（電子証明書の選択にも表示されません）：tanaka+0138, e-Tax user")
}

// TestBackupInTheOld3DESFormat: ticking 古い形式（3DES） in the backup dialog asks
// the agent for the legacy format, and the dialog says when to use it.
func TestBackupInTheOld3DESFormat(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	u := newTestUI(t, f)
	file := filepath.Join(t.TempDir(), "old-pc.pfx")
	tap(t, u, "電子証明書の管理")
	tap(t, u, "バックアップ")
	assertShows(t, u, "Windows 7・8.1・Windows Server 2016 以前")
	var legacy *check
	for _, o := range test.LaidOutObjects(u.win.Canvas().Overlays().Top()) {
		if c, ok := o.(*check); ok && c.Text == "古い形式（3DES）で書き出す" {
			legacy = c
		}
	}
	if legacy == nil {
		t.Fatal("the backup dialog has no 古い形式（3DES） check box")
	}
	test.Tap(legacy)
	typeInto(t, u, true, 0, file)
	typeInto(t, u, true, 1, "Natsu-no-Umi-2026")
	typeInto(t, u, true, 2, "Natsu-no-Umi-2026")
	confirmDialog(t, u, "バックアップ")
	assertShows(t, u, "2 件の電子証明書を "+file+" にバックアップしました。")
	if f.backupFmt != agent.BackupLegacy {
		t.Errorf("backed up in format %d with the 3DES box ticked, want agent.BackupLegacy", f.backupFmt)
	}
}

func TestEscapeClosesTheFileDialogAndThenTheDialogUnderIt(t *testing.T) {
	u := newTestUI(t, newFakeBackend().withTwoIdentities())
	tap(t, u, "電子証明書の管理")
	tap(t, u, "バックアップ")
	backup := u.dialog
	tap(t, u, "参照…")
	if u.dialog == nil || u.dialog == backup || len(u.win.Canvas().Overlays().List()) != 2 {
		t.Fatalf("参照… opened no file dialog over バックアップ (%d overlays)", len(u.win.Canvas().Overlays().List()))
	}
	pressKey(u, fyne.KeyEscape) // the keyboard is on none of Fyne's fields
	if n := len(u.win.Canvas().Overlays().List()); n != 1 || u.dialog != backup {
		t.Fatalf("after Escape %d overlays are open, want バックアップ alone", n)
	}
	assertTitle(t, u, "電子証明書の管理")
	pressKey(u, fyne.KeyEscape)
	if n := len(u.win.Canvas().Overlays().List()); n != 0 || u.dialog != nil {
		t.Fatalf("after a second Escape %d overlays are open, want none", n)
	}
	assertTitle(t, u, "電子証明書の管理")
}

// Fyne's own widgets in its file dialog (the file-name field, its buttons,
// lists and check box) answer no Escape. In the real window catchEscape hands
// an Escape pressed on any of them to escapeFromFyne (GLFW's key callback,
// which this headless driver has not: scripts/check-file-dialog-escape.sh
// presses the real key); here each is given the keyboard in turn and
// escapeFromFyne is called as that callback would: the file dialog closes,
// バックアップ under it stays. On a widget of ours it leaves Escape to the widget.
func TestEscapeFromEveryFocusOfFynesFileDialogClosesIt(t *testing.T) {
	u := newTestUI(t, newFakeBackend().withTwoIdentities())
	tap(t, u, "電子証明書の管理")
	tap(t, u, "バックアップ")
	backup := u.dialog
	u.win.Canvas().Focus(fields(u, true)[0].(fyne.Focusable))
	if u.escapeFromFyne() {
		t.Fatal("escapeFromFyne took an Escape with no file dialog open")
	}
	open := func() fyne.CanvasObject {
		t.Helper()
		tap(t, u, "参照…")
		if u.dialog == backup || len(u.win.Canvas().Overlays().List()) != 2 {
			t.Fatalf("参照… opened no file dialog over バックアップ")
		}
		return u.win.Canvas().Overlays().Top()
	}
	var foreign []fyne.Focusable
	for _, o := range test.LaidOutObjects(open()) {
		if f, ok := o.(fyne.Focusable); ok && o.Visible() {
			if _, ours := o.(passesEscape); !ours {
				foreign = append(foreign, f)
			}
		}
	}
	var sawEntry bool
	for _, f := range foreign {
		if _, ok := f.(*widget.Entry); ok {
			sawEntry = true
		}
	}
	if title := screenText(u); !strings.Contains(title, "保存先のファイル") || strings.Contains(title, "保存 ファイル") {
		t.Errorf("the file dialog's title is not 保存先のファイル:\n%s", title)
	}
	if len(foreign) < 3 || !sawEntry {
		t.Fatalf("the file dialog has %d focusable widgets of Fyne's (file-name entry: %v), want its entry, buttons and lists", len(foreign), sawEntry)
	}
	pressKey(u, fyne.KeyEscape)
	for i := range foreign {
		top := open()
		var f fyne.Focusable
		n := 0
		for _, o := range test.LaidOutObjects(top) {
			if ff, ok := o.(fyne.Focusable); ok && o.Visible() {
				if _, ours := o.(passesEscape); !ours {
					if n == i {
						f = ff
					}
					n++
				}
			}
		}
		u.win.Canvas().Focus(f)
		if u.win.Canvas().Focused() != f {
			continue // a widget that takes no keyboard (a disabled button)
		}
		f.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape}) // what Fyne does with it: nothing
		if len(u.win.Canvas().Overlays().List()) != 2 {
			t.Fatalf("%T answered Escape itself; the test's premise is gone", f)
		}
		if !u.escapeFromFyne() {
			t.Fatalf("Escape on the file dialog's %T was not taken", f)
		}
		if n := len(u.win.Canvas().Overlays().List()); n != 1 || u.dialog != backup {
			t.Fatalf("after Escape on the file dialog's %T, %d overlays are open, want バックアップ alone", f, n)
		}
	}
}

// Fyne's 新しいフォルダー form, opened from the file dialog, is closed first by
// an Escape on its own field, and the file dialog stays.
func TestEscapeInTheNewFolderFormOfTheFileDialogClosesThatForm(t *testing.T) {
	u := newTestUI(t, newFakeBackend().withTwoIdentities())
	tap(t, u, "電子証明書の管理")
	tap(t, u, "バックアップ")
	tap(t, u, "参照…")
	file := u.win.Canvas().Overlays().Top()
	var newFolder *widget.Button
	for _, o := range test.LaidOutObjects(file) {
		if b, ok := o.(*widget.Button); ok && b.Icon != nil && b.Icon.Name() == theme.FolderNewIcon().Name() {
			newFolder = b
		}
	}
	if newFolder == nil {
		t.Fatal("the file dialog has no 新しいフォルダー button")
	}
	test.Tap(newFolder)
	form := u.win.Canvas().Overlays().Top()
	if form == file {
		t.Fatal("新しいフォルダー opened no form")
	}
	for _, o := range test.LaidOutObjects(form) {
		if e, ok := o.(*widget.Entry); ok {
			u.win.Canvas().Focus(e)
		}
	}
	if _, ok := u.win.Canvas().Focused().(*widget.Entry); !ok || !u.escapeFromFyne() {
		t.Fatalf("Escape in the 新しいフォルダー field (%T) was not taken", u.win.Canvas().Focused())
	}
	if top := u.win.Canvas().Overlays().Top(); top != file || len(u.win.Canvas().Overlays().List()) != 2 {
		t.Fatalf("after Escape in the 新しいフォルダー form, %d overlays are open with %T on top, want the file dialog over バックアップ", len(u.win.Canvas().Overlays().List()), top)
	}
}

// TestFileDialogPlacesFollowTheLanguage: Fyne names the places of its file
// dialog (Home, Computer, Documents, …) in English whatever the app's
// language; the window names them in its own.
func TestFileDialogPlacesFollowTheLanguage(t *testing.T) {
	u := newTestUI(t, newFakeBackend().withTwoIdentities())
	t.Cleanup(func() { u.setLanguage("ja") })
	places := func(browse string) []string {
		t.Helper()
		tap(t, u, browse)
		if len(u.win.Canvas().Overlays().List()) != 2 {
			t.Fatalf("%s opened no file dialog over the backup dialog", browse)
		}
		u.win.Canvas().Capture() // the list makes its rows when drawn
		var names []string
		for _, l := range fileDialogLists(u.fileOverlay) {
			for _, o := range test.LaidOutObjects(l) {
				if label, ok := o.(*widget.Label); ok && label.Visible() {
					names = append(names, label.Text)
				}
			}
		}
		pressKey(u, fyne.KeyEscape)
		return names
	}
	tap(t, u, "電子証明書の管理")
	tap(t, u, "バックアップ")
	ja := places("参照…")
	if !slices.Contains(ja, "ホーム") || slices.Contains(ja, "Home") {
		t.Errorf("the file dialog's places in Japanese are %q, want ホーム and no Home", ja)
	}
	for _, name := range ja {
		if _, english := filePlaceKeys[name]; english {
			t.Errorf("the file dialog's place %q is still Fyne's English", name)
		}
	}
	pressKey(u, fyne.KeyEscape) // バックアップ
	u.setLanguage("en")
	u.Home()
	tap(t, u, "Manage certificates")
	tap(t, u, "Back up")
	if en := places("Browse…"); !slices.Contains(en, "Home") {
		t.Errorf("the file dialog's places in English are %q, want Home", en)
	}
}
