package web

import (
	"net/http"

	"golang.org/x/text/language"

	"github.com/inkan-dev/inkan/wire"
)

// words are the pages' own texts in one language; refusals come from
// wire.Code.Message, the agent's wording.
type words struct {
	Title, Lang, Switch                      string
	CertMethod, CertLead, CertButton         string
	CertNote                                 string
	PasswordTitle, PasswordLead, LoginID     string
	Password, LoginButton, Back              string
	HomeTitle, User, Contract, Role          string
	PreviousLogin, FirstLogin, Expiry        string
	Notices, NoNotices, RenewHint, LogoutBtn string
	LoggedOut, Forged, NotFound, ChooseAgain string
	ErrorTitle, BackToLogin, Code            string
	Roles                                    map[wire.Role]string
}

var japanese = words{
	Title: "電子証明書ログイン", Lang: "ja", Switch: "English",
	CertMethod:    "電子証明書方式のお客様",
	CertLead:      "ログインされるお客様は「電子証明書ログイン」ボタンを押してください。",
	CertButton:    "電子証明書ログイン",
	CertNote:      "電子証明書は、Inkanで取得したパソコンからのみご利用いただけます。ブラウザに電子証明書の選択画面が表示された場合は「利用者ID+金庫コード」の電子証明書を選んでください。",
	PasswordTitle: "ログインパスワードの入力", PasswordLead: "電子証明書を確認しました。ログインパスワードを入力し「ログイン」ボタンを押してください。",
	LoginID: "ログインID", Password: "ログインパスワード", LoginButton: "ログイン", Back: "戻る",
	HomeTitle: "ログイン中", User: "利用者", Contract: "ご契約", Role: "権限",
	PreviousLogin: "前回ログイン日時", FirstLogin: "今回が初めてのログインです", Expiry: "電子証明書の有効期限",
	Notices: "重要なお知らせ", NoNotices: "現在、重要なお知らせはありません。",
	RenewHint:   "電子証明書の更新はInkanで行えます。当金庫が許可している場合、Inkanが自動で更新し、ブラウザの電子証明書も入れ替えます。",
	LogoutBtn:   "ログアウト",
	LoggedOut:   "ログアウトしました。ご利用ありがとうございました。",
	Forged:      "この操作は受け付けられませんでした(画面の有効期限切れ、または別のサイトからの送信です)。ログイン画面からもう一度操作してください。",
	NotFound:    "お探しのページはありません。ログイン画面からご利用ください。",
	ChooseAgain: "別の電子証明書を選ぶには、ブラウザのウィンドウをすべて閉じてから、もう一度ログイン画面を開いてください。",
	ErrorTitle:  "ログインできませんでした", BackToLogin: "ログイン画面へ戻る", Code: "エラーコード",
	Roles: map[wire.Role]string{wire.RoleAdmin: "管理者ID", wire.RoleApprover: "承認者ID", wire.RoleGeneral: "一般者ID"},
}

var english = words{
	Title: "Certificate login", Lang: "en", Switch: "日本語",
	CertMethod:    "Customers using certificates",
	CertLead:      "Press the “Certificate login” (電子証明書ログイン) button to log in.",
	CertButton:    "Certificate login",
	CertNote:      "Certificates work only on the PC that picked them up with Inkan. When the browser asks you to choose a certificate, choose the one named “loginID+bank code”.",
	PasswordTitle: "Enter your login password", PasswordLead: "Your certificate was accepted. Enter your login password and press “Log in”.",
	LoginID: "Login ID", Password: "Login password", LoginButton: "Log in", Back: "Back",
	HomeTitle: "Logged in", User: "User", Contract: "Contract", Role: "Role",
	PreviousLogin: "Previous login", FirstLogin: "This is your first login", Expiry: "Certificate valid until",
	Notices: "Important notices", NoNotices: "There are no important notices.",
	RenewHint:   "Renew the certificate in Inkan. Where the bank allows it, Inkan renews it by itself and replaces the browser's copy.",
	LogoutBtn:   "Log out",
	LoggedOut:   "You have logged out. Thank you.",
	Forged:      "This request was not accepted (the page expired, or it was sent from another site). Start again from the login page.",
	NotFound:    "There is no such page. Start from the login page.",
	ChooseAgain: "To choose another certificate, close every browser window, then open the login page again.",
	ErrorTitle:  "Login failed", BackToLogin: "Back to the login page", Code: "Error code",
	Roles: map[wire.Role]string{wire.RoleAdmin: "Administrator (管理者ID)", wire.RoleApprover: "Approver (承認者ID)", wire.RoleGeneral: "General user (一般者ID)"},
}

var matcher = language.NewMatcher([]language.Tag{language.Japanese, language.English})

// lang is "ja" or "en": the page's switch (?lang=, then its cookie), else the
// browser's Accept-Language, else Japanese.
func lang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "ja" || l == "en" {
		return l
	}
	if c, err := r.Cookie(LanguageCookie); err == nil && (c.Value == "ja" || c.Value == "en") {
		return c.Value
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return "ja"
	}
	_, i, conf := matcher.Match(tags...)
	if i == 1 && conf != language.No {
		return "en"
	}
	return "ja"
}
