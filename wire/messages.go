package wire

// text is one message in both languages.
type text struct{ ja, en string }

// codeMessages says, for each code the server answers with, what happened and what
// to do. The agent and the bank's browser pages both show these.
var codeMessages = map[Code]text{
	CodeBadRequest: {"要求の内容に誤りがあります。入力内容をご確認のうえ、もう一度お試しください。",
		"The request was malformed. Check what you entered and try again."},
	CodeBadCSR: {"電子証明書の申請データが正しくありません。もう一度取得をお試しください。",
		"The certificate request was not valid. Try the pickup again."},
	CodeKeyNotAllowed: {"この鍵の種類は当金庫で受け付けられません。Inkanを最新版に更新してください。",
		"The bank does not accept this kind of key. Update Inkan to the latest version."},
	CodeUnsupportedMedia: {"サーバーとの通信形式が合いません。Inkanを最新版に更新してください。",
		"The server did not accept the data format. Update Inkan to the latest version."},
	CodeTooLarge: {"送信データが大きすぎます。Inkanを最新版に更新してください。",
		"The data sent was too large. Update Inkan to the latest version."},
	CodeInvalidCredentials: {"お客様IDまたはログインパスワードが正しくありません。入力内容をご確認ください。続けて誤るとIDがロックされます。",
		"The login ID or password is wrong. Check them and try again; repeated mistakes lock the ID."},
	CodeLocked: {"パスワードを続けて誤ったため、このIDはロックされています。ロックが解除されるまでは正しいパスワードでもログインできません。管理者（管理者IDは当金庫）にロック解除を依頼してください。",
		"This ID is locked after too many wrong passwords: until it is unlocked, even the right password is refused. Ask your administrator (for an admin ID, the bank) to unlock it."},
	CodeUnauthenticated: {"ログインの有効期限が切れました。もう一度ログインしてください。",
		"Your session has ended. Log in again."},
	CodeCertificateRequired: {"ご契約は電子証明書方式に切り替わっているため、お客様IDとパスワードだけではログインできません。電子証明書ログインをご利用ください（電子証明書をまだ取得していない場合は、先に取得してください）。",
		"Your contract now uses certificate login, so the login ID and password alone are not accepted. Log in with your certificate (pick it up first if you have not yet)."},
	CodeClientCertRequired: {"電子証明書が送信されませんでした。電子証明書を選択してもう一度お試しください。",
		"No certificate was presented. Choose your certificate and try again."},
	CodeUnknownIssuer: {"この電子証明書は当金庫が発行したものではありません。正しい電子証明書を選択してください。",
		"This certificate was not issued by the bank. Choose the right certificate."},
	CodeCertificateRevoked: {"この電子証明書は失効しています。管理者（管理者IDは当金庫）に電子証明書の再発行を依頼してください。",
		"This certificate was revoked. Ask your administrator (for an admin ID, the bank) to reissue it."},
	CodeCertificateExpired: {"電子証明書の有効期限が切れています。更新できる期間であれば更新し、過ぎていれば再発行を依頼してください。",
		"The certificate has expired. Renew it if renewal is still open; otherwise ask for a reissue."},
	CodeCertificateReplaced: {"この電子証明書は新しい電子証明書に置き換えられています。新しい電子証明書でログインしてください。新しい電子証明書をまだ取得していない場合は、「電子証明書取得」から取得してください。",
		"This certificate was replaced by a newer one. Log in with the newer certificate; if you have not picked it up yet, pick it up first (電子証明書取得)."},
	CodeNoPickupOpen: {"このIDには取得できる電子証明書がありません。管理者（管理者IDは当金庫）に電子証明書の発行を依頼してください。",
		"No certificate is waiting to be picked up for this ID. Ask your administrator (for an admin ID, the bank) to issue one."},
	CodeNoCertificate: {"このIDには失効できる電子証明書がありません（未発行か、すでに失効しています）。利用者一覧で状態をご確認ください。",
		"This ID has no certificate to act on (none was issued, or it is already revoked). Check its state in the user list."},
	CodePickupLapsed: {"電子証明書の取得期限（発行から80日）を過ぎています。管理者（管理者IDは当金庫）に再発行を依頼してください。",
		"The pickup period (80 days from issue) has passed. Ask your administrator (for an admin ID, the bank) to reissue the certificate."},
	CodeContractBlocked: {"管理者の電子証明書の取得期限を過ぎたため、ご契約のすべてのIDがご利用いただけません。当金庫に管理者の電子証明書の再発行を依頼してください。",
		"The administrator's certificate was not picked up in time, so every ID of the contract is blocked. Ask the bank to reissue the administrator's certificate."},
	CodeNotRenewableYet: {"電子証明書の更新は有効期限の30日前からできます。期間になってからもう一度お試しください。",
		"Renewal opens 30 days before the certificate expires. Try again then."},
	CodeRenewalWindowClosed: {"電子証明書の更新期間を過ぎています。管理者（管理者IDは当金庫）に再発行を依頼してください。",
		"The renewal period has passed. Ask your administrator (for an admin ID, the bank) to reissue the certificate."},
	CodeRenewalNeedsNewKey: {"更新には新しい鍵が必要です。もう一度更新をお試しください。",
		"Renewal needs a new key pair. Try the renewal again."},
	CodeForbidden: {"このIDではこの操作はできません。承認者・一般者IDの管理は管理者IDで行ってください。管理者IDの再発行・ロック解除・パスワード再設定は当金庫に依頼してください。",
		"This ID may not do that. Approver and general IDs are managed with an administrator ID; to reissue, unlock or reset the password of an administrator ID, ask the bank."},
	CodeNotFound: {"指定した利用者はご契約にありません。お客様IDをご確認ください。",
		"There is no such user in your contract. Check the login ID."},
	CodeAlreadyExists: {"このお客様IDはすでに使われています。別のお客様IDを指定してください。",
		"This login ID is already taken. Choose another."},
	CodeWeakPassword: {"パスワードが規則を満たしていません。8〜128文字で、英大文字・英小文字・数字・記号のうち2種類以上を組み合わせてください。お客様IDと同じもの、よく使われるパスワードは使えません。",
		"The password does not meet the policy. Use 8 to 128 characters mixing at least two of upper case, lower case, digits and symbols; the login ID itself and common passwords are refused."},
	CodeRateLimited: {"短時間に操作が集中しました。しばらく待ってからもう一度お試しください。",
		"Too many requests in a short time. Wait a moment and try again."},
	CodeUnavailable: {"ただいまサーバーが混み合っているか停止中です。しばらく待ってからもう一度お試しください。",
		"The server is busy or down for maintenance. Wait a while and try again."},
	CodeInternal: {"サーバーで障害が発生しました。当金庫にお問い合わせください。",
		"The server had a fault. Contact the bank."},
}

// Message says, for a person, what c means and what to do, in lang ("en", or
// anything else for Japanese); "" for a code without a message.
func (c Code) Message(lang string) string {
	t, ok := codeMessages[c]
	if !ok {
		return ""
	}
	if lang == "en" {
		return t.en
	}
	return t.ja
}
