package ui

import (
	"regexp"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/inkan-dev/inkan/wire"
)

// openAdmin logs in as the admin yamada and opens 利用者管理.
func openAdmin(t *testing.T, f *fakeBackend) (*UI, *userTable) {
	t.Helper()
	u := newTestUI(t, f)
	loginAs(t, u, f, 0)
	tap(t, u, "利用者管理")
	assertTitle(t, u, "利用者管理")
	return u, objectOf[*userTable](t, u)
}

// tableText is every cell of the table, row by row.
func tableText(table *userTable) string {
	var b strings.Builder
	for _, row := range table.rows {
		b.WriteString(rowText(row))
		b.WriteByte('\n')
	}
	return b.String()
}

// rowText is the cells of one row, each followed by a tab: the texts of its
// labels and badges.
func rowText(row *fyne.Container) string {
	var b strings.Builder
	for _, cell := range row.Objects[1].(*fyne.Container).Objects {
		var texts []string
		for _, o := range test.LaidOutObjects(cell) {
			switch w := o.(type) {
			case *widget.Label:
				texts = append(texts, w.Text)
			case *canvas.Text:
				// A label draws its text again as canvas.Text: take it once.
				if len(texts) == 0 || texts[len(texts)-1] != w.Text {
					texts = append(texts, w.Text)
				}
			}
		}
		b.WriteString(strings.Join(texts, " "))
		b.WriteByte('\t')
	}
	return b.String()
}

// assertTableShows fails unless some row of the table holds all of cells, in order.
func assertTableShows(t *testing.T, table *userTable, cells ...string) {
	t.Helper()
	want := strings.Join(cells, "\t") + "\t"
	if got := tableText(table); !strings.Contains(got, want) {
		t.Errorf("no row %q in the table:\n%s", want, got)
	}
}

// selectUser selects the row of loginID in the table, as a click on it would.
func selectUser(t *testing.T, u *UI, table *userTable, loginID string) {
	t.Helper()
	u.win.Canvas().Capture() // lay the rows out, so the click finds them
	for i, row := range table.rows {
		if strings.HasPrefix(rowText(row), loginID+"\t") {
			test.TapAt(table, fyne.NewPos(20, table.scroll.Position().Y+table.body.Objects[i].Position().Y-table.scroll.Offset.Y+5))
			if table.selected != i {
				t.Fatalf("clicking the row of %s selected row %d", loginID, table.selected)
			}
			return
		}
	}
	t.Fatalf("no user %s", loginID)
}

// confirmDialog presses the button labelled label in the dialog on top: the
// screen below has a button of the same name.
func confirmDialog(t *testing.T, u *UI, label string) {
	t.Helper()
	for _, o := range test.LaidOutObjects(u.win.Canvas().Overlays().Top()) {
		var b *widget.Button
		switch w := o.(type) {
		case *widget.Button:
			b = w
		case *button:
			b = &w.Button
		}
		if b != nil && b.Text == label {
			test.Tap(b)
			u.wait()
			return
		}
	}
	t.Fatalf("no dialog with a %q button", label)
}

func TestAdminRevokesAfterConfirmingAndIssues(t *testing.T) {
	f := newFakeBackend().withTwoIdentities().withUsers()
	f.users[2].Locked = true
	u, table := openAdmin(t, f)
	assertTableShows(t, table, "yamada", "山田 太郎", "管理者", "有効", "有効期限 2027年6月21日", "2026年11月20日 08:00")
	assertTableShows(t, table, "sato", "佐藤 一郎", "一般者", "取得待ち ロック中", "取得期限 2027年2月6日", "—")
	assertTableShows(t, table, "takahashi", "高橋 次郎", "一般者", "未発行", "—", "—")

	// An admin cannot revoke or delete the admin ID: only the bank can.
	selectUser(t, u, table, "yamada")
	if !findButton(t, u, "失効").Disabled() || !findButton(t, u, "利用者の削除").Disabled() {
		t.Fatal("revoke and delete are offered for the admin ID")
	}

	selectUser(t, u, table, "suzuki")
	test.AssertImageMatches(t, "admin_users.png", u.win.Canvas().Capture())
	tap(t, u, "失効")
	assertShows(t, u, "suzuki の電子証明書を失効させます。失効した電子証明書ではすぐにログインできなくなり、元に戻せません。よろしいですか。")
	if f.users[1].Certificate.State != wire.CertActive {
		t.Fatal("revoked before the user confirmed")
	}
	confirmDialog(t, u, "失効")
	if f.users[1].Certificate.State != wire.CertRevoked {
		t.Fatalf("suzuki's certificate is %s, want revoked", f.users[1].Certificate.State)
	}
	assertShows(t, u, "suzuki の電子証明書を失効させました。")
	assertTableShows(t, table, "suzuki", "鈴木 花子", "承認者", "失効", "失効日 2026年11月21日", "—")

	selectUser(t, u, table, "takahashi")
	if !findButton(t, u, "失効").Disabled() {
		t.Fatal("revoke is offered for an ID with no certificate")
	}
	tap(t, u, "電子証明書の発行")
	if f.users[3].Certificate.State != wire.CertAwaitingPickup {
		t.Fatalf("takahashi's certificate is %s, want awaiting pickup", f.users[3].Certificate.State)
	}
	assertShows(t, u, "takahashi の電子証明書を発行しました。80日以内に取得するようお伝えください。")
}

func TestAdminReissueAndDeleteAreConfirmedAndCanBeCancelled(t *testing.T) {
	f := newFakeBackend().withTwoIdentities().withUsers()
	u, table := openAdmin(t, f)
	selectUser(t, u, table, "sato")
	tap(t, u, "利用者の削除")
	tap(t, u, "キャンセル")
	if len(f.users) != 4 {
		t.Fatal("the user was deleted although the admin cancelled")
	}
	tap(t, u, "利用者の削除")
	confirmDialog(t, u, "利用者の削除")
	if len(f.users) != 3 {
		t.Fatal("the user was not deleted")
	}

	selectUser(t, u, table, "suzuki")
	tap(t, u, "再発行")
	confirmDialog(t, u, "再発行")
	if f.users[1].Certificate.State != wire.CertAwaitingPickup {
		t.Fatalf("suzuki's certificate is %s after reissue", f.users[1].Certificate.State)
	}
}

func TestAdminCreatesAUserWithACertificate(t *testing.T) {
	f := newFakeBackend().withTwoIdentities().withUsers()
	u, table := openAdmin(t, f)
	tap(t, u, "利用者の追加")
	typeInto(t, u, true, 0, "ito")
	typeInto(t, u, true, 1, "伊藤 三郎")
	typeInto(t, u, true, 3, "Shoki-Pass-2026")
	tap(t, u, "追加")
	last := f.users[len(f.users)-1]
	if last.LoginID != "ito" || last.Role != wire.RoleGeneral || last.Certificate.State != wire.CertAwaitingPickup {
		t.Fatalf("created %+v, want ito as a general user awaiting pickup", last)
	}
	assertShows(t, u, "利用者 ito を追加しました。")
	assertTableShows(t, table, "ito", "伊藤 三郎", "一般者", "取得待ち")
	if got := table.selected; got != len(f.users)-1 {
		t.Fatalf("row %d selected after adding, want the new user's row %d", got, len(f.users)-1)
	}
}

func TestAdminCreateWithAShortPasswordKeepsTheDialogAndWhatWasTyped(t *testing.T) {
	f := newFakeBackend().withTwoIdentities().withUsers()
	u, _ := openAdmin(t, f)
	tap(t, u, "利用者の追加")
	typeInto(t, u, true, 0, "ito")
	typeInto(t, u, true, 1, "伊藤 三郎")
	typeInto(t, u, true, 2, "ito@example.co.jp")
	typeInto(t, u, true, 3, "short")
	tap(t, u, "追加")
	if u.dialog == nil {
		t.Fatal("a refused password closed the dialog")
	}
	assertShows(t, u, "パスワードが規則を満たしていません。8〜128文字で、英大文字・英小文字・数字・記号のうち2種類以上を組み合わせてください。お客様IDと同じもの、よく使われるパスワードは使えません。")
	fs := fields(u, true)
	if e, ok := fs[0].(*entry); !ok || e.Text != "ito" {
		t.Fatalf("the typed ID is gone: %#v", fs[0])
	}
	if u.win.Canvas().Focused() != fs[3] {
		t.Fatal("the password field does not have the keyboard after its refusal")
	}
	typeInto(t, u, true, 3, "Shoki-Pass-2026")
	tap(t, u, "追加")
	if u.dialog != nil {
		t.Fatal("the dialog stayed open after the user was added")
	}
	if last := f.users[len(f.users)-1]; last.LoginID != "ito" || last.Email != "ito@example.co.jp" {
		t.Fatalf("created %+v, want ito with the e-mail address", last)
	}
}

func TestAdminShowsTheAgentsMessageWhenRefused(t *testing.T) {
	f := newFakeBackend().withTwoIdentities().withUsers()
	f.errs["IssueCertificate"] = refusal(wire.CodeForbidden)
	u, table := openAdmin(t, f)
	selectUser(t, u, table, "takahashi")
	tap(t, u, "電子証明書の発行")
	if got := screenText(u); !strings.Contains(got, u.message(refusal(wire.CodeForbidden))) {
		t.Fatalf("the refusal is not shown; the screen shows:\n%s", got)
	}
}

func TestAdminEscapeClosesTheConfirmationWithoutRevoking(t *testing.T) {
	f := newFakeBackend().withTwoIdentities().withUsers()
	u, table := openAdmin(t, f)
	selectUser(t, u, table, "suzuki")
	tap(t, u, "失効")
	pressKey(u, "Escape")
	if u.dialog != nil || f.users[1].Certificate.State != wire.CertActive {
		t.Fatalf("after Escape: dialog open %v, suzuki's certificate %s", u.dialog != nil, f.users[1].Certificate.State)
	}
	assertTitle(t, u, "利用者管理") // Escape closed the dialog, not the screen
}

func TestAdminCreateUserByKeyboard(t *testing.T) {
	f := newFakeBackend().withTwoIdentities().withUsers()
	u, _ := openAdmin(t, f)
	tap(t, u, "利用者の追加")
	typeFocused(t, u, "ito") // the login ID has the keyboard
	typeInto(t, u, true, 3, "Shoki-Pass-2026")
	pressKey(u, "Return")
	if last := f.users[len(f.users)-1]; last.LoginID != "ito" {
		t.Fatalf("Enter in the password did not add the user: last is %s", last.LoginID)
	}
}

func TestAdminUnlocksALockedUserAfterConfirming(t *testing.T) {
	f := newFakeBackend().withTwoIdentities().withUsers()
	f.users[2].Locked = true
	u, table := openAdmin(t, f)
	selectUser(t, u, table, "suzuki")
	if !findButton(t, u, "ロック解除").Disabled() {
		t.Fatal("unlock is offered for an ID that is not locked")
	}
	selectUser(t, u, table, "sato")
	tap(t, u, "ロック解除")
	assertShows(t, u, "sato はログインパスワードを続けて間違えたためロックされています。ロックを解除すると、またログインできるようになります。よろしいですか。")
	tap(t, u, "キャンセル")
	if !f.users[2].Locked {
		t.Fatal("unlocked although the admin cancelled")
	}
	tap(t, u, "ロック解除")
	confirmDialog(t, u, "ロック解除")
	if f.users[2].Locked {
		t.Fatal("sato is still locked")
	}
	assertShows(t, u, "sato のロックを解除しました。", "sato を：")
	assertTableShows(t, table, "sato", "佐藤 一郎", "一般者", "取得待ち", "取得期限 2027年2月6日", "—")
	if !findButton(t, u, "ロック解除").Disabled() {
		t.Fatal("unlock is still offered once sato is unlocked")
	}
}

func TestAdminSelectionFollowsTheKeyboardAndTheActionsFollowIt(t *testing.T) {
	f := newFakeBackend().withTwoIdentities().withUsers()
	u, table := openAdmin(t, f)
	if u.win.Canvas().Focused() != table {
		t.Fatal("the user table does not have the keyboard when 利用者管理 opens")
	}
	assertShows(t, u, "利用者を選んでください")
	steps := []struct {
		key  fyne.KeyName
		want string
	}{
		{fyne.KeyDown, "yamada"}, {fyne.KeyDown, "suzuki"}, {fyne.KeyEnd, "takahashi"},
		{fyne.KeyDown, "takahashi"}, {fyne.KeyUp, "sato"}, {fyne.KeyHome, "yamada"}, {fyne.KeyUp, "yamada"},
	}
	for _, s := range steps {
		pressKey(u, s.key)
		if got := f.users[table.selected].LoginID; got != s.want {
			t.Fatalf("after %s the selection is %s, want %s", s.key, got, s.want)
		}
		assertShows(t, u, s.want+" を：")
		if s.want == "yamada" { // the admin's own ID: why nothing can be done to it
			assertShows(t, u, "yamada は管理者IDです。管理者IDの電子証明書の失効・再発行と削除は当金庫が行います。")
		}
	}
	pressKey(u, fyne.KeyEnd)
	if findButton(t, u, "電子証明書の発行").Disabled() || !findButton(t, u, "失効").Disabled() {
		t.Fatal("the actions do not follow the selection to takahashi, who has no certificate")
	}
	pressKey(u, fyne.KeyEscape)
	assertTitle(t, u, "ログイン中")
}

func TestAdminEscapeFromTheRoleChoiceClosesTheCreateDialog(t *testing.T) {
	f := newFakeBackend().withTwoIdentities().withUsers()
	u, _ := openAdmin(t, f)
	tap(t, u, "利用者の追加")
	u.win.Canvas().Focus(objectOf[*choice](t, u))
	pressKey(u, fyne.KeyEscape)
	if u.dialog != nil {
		t.Fatal("Escape on the role choice left the dialog open")
	}
	assertTitle(t, u, "利用者管理")
	if len(f.users) != 4 {
		t.Fatal("Escape added a user")
	}
}

func TestAdminResetsALockedUsersPasswordAndSeesItOnceToHandOver(t *testing.T) {
	f := newFakeBackend().withTwoIdentities().withUsers()
	f.users[2].Locked = true
	u, table := openAdmin(t, f)
	selectUser(t, u, table, "yamada")
	if !findButton(t, u, "パスワード再設定").Disabled() {
		t.Fatal("a password reset is offered for the admin ID, which the bank resets")
	}
	selectUser(t, u, table, "sato")
	tap(t, u, "パスワード再設定")
	assertShows(t, u, "「sato」に新しいログインパスワードを設定します。今のパスワードは使えなくなり、ログイン中であればログアウトされます。ロック中であれば、ロックも解除されます。")
	fs := fields(u, true)
	offered := fs[0].(*entry)
	if !regexp.MustCompile(`^\w{4}-\w{4}-\w{4}$`).MatchString(offered.Text) || offered.Password {
		t.Fatalf("the dialog offers %q (hidden %v), want a readable password shown in clear", offered.Text, offered.Password)
	}
	if b, ok := u.win.Canvas().Focused().(*button); !ok || b.Text != "キャンセル" {
		t.Fatalf("focus is on %#v, want キャンセル: a stray Enter must reset nothing", u.win.Canvas().Focused())
	}
	first := offered.Text
	tap(t, u, "別のパスワードを作る")
	if offered.Text == first {
		t.Fatal("別のパスワードを作る offered the same password")
	}
	tap(t, u, "キャンセル")
	if len(f.passwords) != 0 || !f.users[2].Locked || u.dialog != nil {
		t.Fatal("cancelling reset the password or left the dialog open")
	}

	tap(t, u, "パスワード再設定")
	typeInto(t, u, true, 0, "short")
	tap(t, u, "再設定する")
	if u.dialog == nil || len(f.passwords) != 0 {
		t.Fatal("a refused password closed the dialog or was set")
	}
	assertShows(t, u, "パスワードが規則を満たしていません。8〜128文字で、英大文字・英小文字・数字・記号のうち2種類以上を組み合わせてください。お客様IDと同じもの、よく使われるパスワードは使えません。")
	if u.win.Canvas().Focused() != fields(u, true)[0] {
		t.Fatal("the password field does not have the keyboard after its refusal")
	}
	typeInto(t, u, true, 0, "Jibun-Pass-2026")
	pressKey(u, "Return") // Enter in the field resets, as the button does
	if f.passwords["sato"] != "Jibun-Pass-2026" || f.users[2].Locked {
		t.Fatalf("after 再設定する: password %q, locked %v", f.passwords["sato"], f.users[2].Locked)
	}
	assertShows(t, u, "「sato」の新しいログインパスワードです。ご本人に直接（手渡しや電話で）お伝えください。メールでは送らないでください。この画面を閉じると、パスワードは二度と表示されません。", "Jibun-Pass-2026")
	tap(t, u, "コピー")
	if got := u.app.Clipboard().Content(); got != "Jibun-Pass-2026" {
		t.Fatalf("the clipboard holds %q", got)
	}
	tap(t, u, "OK")
	if u.dialog != nil {
		t.Fatal("the hand-over dialog stayed open")
	}
	if strings.Contains(screenText(u), "Jibun-Pass-2026") {
		t.Fatal("the password is still on the screen after the hand-over dialog closed")
	}
	assertShows(t, u, "「sato」のログインパスワードを再設定しました。")
	assertTableShows(t, table, "sato", "佐藤 一郎", "一般者", "取得待ち", "取得期限 2027年2月6日", "—")
}

func TestAdminSaysWhoShouldRenewAndWhoNeedsAReissue(t *testing.T) {
	f := newFakeBackend().withTwoIdentities().withUsers()
	soon, gone := testNow.AddDate(0, 0, 12), testNow.AddDate(0, 0, -100)
	f.users[1].Certificate = wire.Certificate{State: wire.CertActive, NotAfter: &soon, Renewable: true}
	f.users[2].Certificate = wire.Certificate{State: wire.CertExpired, NotAfter: &soon, Renewable: true}
	f.users[3].Certificate = wire.Certificate{State: wire.CertExpired, NotAfter: &gone}
	_, table := openAdmin(t, f)
	assertTableShows(t, table, "yamada", "山田 太郎", "管理者", "有効", "有効期限 2027年6月21日")
	assertTableShows(t, table, "suzuki", "鈴木 花子", "承認者", "有効・更新期間中", "有効期限 2026年12月3日")
	assertTableShows(t, table, "sato", "佐藤 一郎", "一般者", "期限切れ・更新可", "有効期限 2026年12月3日")
	assertTableShows(t, table, "takahashi", "高橋 次郎", "一般者", "期限切れ・要再発行", "有効期限 2026年8月13日")
}
