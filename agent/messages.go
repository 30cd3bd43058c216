package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
)

// Category says what kind of failure an error is, for callers that act on the kind
// (inkanctl's exit status, the GUI's icon) rather than on the text.
type Category int

// Categories, from [Classify].
const (
	CategoryNone     Category = iota // no error
	CategoryRefused                  // the server refused: the error carries a wire.Code
	CategoryNetwork                  // the server could not be reached, or TLS failed
	CategoryStore                    // the certificate store failed, or has no such certificate
	CategoryConfig                   // the configuration is missing or wrong
	CategoryInput                    // the person's input was refused locally (backup password)
	CategoryCanceled                 // the operation was canceled
	CategoryOther                    // anything else
)

// Classify says what kind of failure err is.
func Classify(err error) Category {
	var (
		cfgErr   *ConfigError
		weak     *WeakPasswordError
		notFound *certstore.NotFoundError
		exists   *certstore.AlreadyExistsError
		unavail  *certstore.UnavailableError
		netErr   net.Error
		urlErr   *url.Error
	)
	var notSaved *NotSavedError
	switch {
	case err == nil:
		return CategoryNone
	case Code(err) != "":
		return CategoryRefused
	case errors.As(err, &notSaved):
		return CategoryStore
	case errors.Is(err, context.Canceled):
		return CategoryCanceled
	case errors.As(err, &cfgErr):
		return CategoryConfig
	case errors.As(err, &weak), errors.Is(err, ErrPasswordMismatch):
		return CategoryInput
	case errors.Is(err, ErrNoIdentity), errors.As(err, &notFound), errors.As(err, &exists), errors.As(err, &unavail),
		errors.Is(err, certstore.ErrKeyNotExportable), errors.Is(err, certstore.ErrWrongPassword), errors.Is(err, certstore.ErrDamagedFile):
		return CategoryStore
	case isTLSFailure(err), errors.Is(err, ErrCAMismatch), errors.Is(err, ErrNotFromBank),
		errors.As(err, &netErr), errors.As(err, &urlErr), errors.Is(err, context.DeadlineExceeded):
		return CategoryNetwork
	}
	return CategoryOther
}

// text is one message in both languages.
type text struct{ ja, en string }

// codeMessages says, for each code the server answers with, what happened and what
// to do.
var codeMessages = map[wire.Code]text{
	wire.CodeBadRequest: {"要求の内容に誤りがあります。入力内容をご確認のうえ、もう一度お試しください。",
		"The request was malformed. Check what you entered and try again."},
	wire.CodeBadCSR: {"電子証明書の申請データが正しくありません。もう一度取得をお試しください。",
		"The certificate request was not valid. Try the pickup again."},
	wire.CodeKeyNotAllowed: {"この鍵の種類は銀行で受け付けられません。Inkanを最新版に更新してください。",
		"The bank does not accept this kind of key. Update Inkan to the latest version."},
	wire.CodeUnsupportedMedia: {"サーバーとの通信形式が合いません。Inkanを最新版に更新してください。",
		"The server did not accept the data format. Update Inkan to the latest version."},
	wire.CodeTooLarge: {"送信データが大きすぎます。Inkanを最新版に更新してください。",
		"The data sent was too large. Update Inkan to the latest version."},
	wire.CodeInvalidCredentials: {"ログインIDまたはログインパスワードが正しくありません。入力内容をご確認ください。続けて誤るとIDがロックされます。",
		"The login ID or password is wrong. Check them and try again; repeated mistakes lock the ID."},
	wire.CodeLocked: {"パスワードを続けて誤ったため、このIDはロックされています。ロックが解除されるまでは正しいパスワードでもログインできません。管理者(管理者IDは当金庫)にロック解除を依頼してください。",
		"This ID is locked after too many wrong passwords: until it is unlocked, even the right password is refused. Ask your administrator (for an admin ID, the bank) to unlock it."},
	wire.CodeUnauthenticated: {"ログインの有効期限が切れました。もう一度ログインしてください。",
		"Your session has ended. Log in again."},
	wire.CodeCertificateRequired: {"ご契約は電子証明書方式に切り替わっているため、ログインIDとパスワードだけではログインできません。電子証明書ログインをご利用ください(電子証明書をまだ取得していない場合は、先に取得してください)。",
		"Your contract now uses certificate login, so the login ID and password alone are not accepted. Log in with your certificate (pick it up first if you have not yet)."},
	wire.CodeClientCertRequired: {"電子証明書が送信されませんでした。電子証明書を選択してもう一度お試しください。",
		"No certificate was presented. Choose your certificate and try again."},
	wire.CodeUnknownIssuer: {"この電子証明書は当金庫が発行したものではありません。正しい電子証明書を選択してください。",
		"This certificate was not issued by the bank. Choose the right certificate."},
	wire.CodeCertificateRevoked: {"この電子証明書は失効しています。管理者(管理者IDは当金庫)に電子証明書の再発行を依頼してください。",
		"This certificate was revoked. Ask your administrator (for an admin ID, the bank) to reissue it."},
	wire.CodeCertificateExpired: {"電子証明書の有効期限が切れています。更新できる期間であれば更新し、過ぎていれば再発行を依頼してください。",
		"The certificate has expired. Renew it if renewal is still open; otherwise ask for a reissue."},
	wire.CodeCertificateReplaced: {"この電子証明書は新しい電子証明書に置き換えられています。新しい電子証明書でログインしてください。",
		"This certificate was replaced by a newer one. Log in with the newer certificate."},
	wire.CodeNoPickupOpen: {"このIDには取得できる電子証明書がありません。管理者(管理者IDは当金庫)に電子証明書の発行を依頼してください。",
		"No certificate is waiting to be picked up for this ID. Ask your administrator (for an admin ID, the bank) to issue one."},
	wire.CodeNoCertificate: {"このIDには失効できる電子証明書がありません(未発行か、すでに失効しています)。利用者一覧で状態をご確認ください。",
		"This ID has no certificate to act on (none was issued, or it is already revoked). Check its state in the user list."},
	wire.CodePickupLapsed: {"電子証明書の取得期限(発行から80日)を過ぎています。管理者(管理者IDは当金庫)に再発行を依頼してください。",
		"The pickup period (80 days from issue) has passed. Ask your administrator (for an admin ID, the bank) to reissue the certificate."},
	wire.CodeContractBlocked: {"管理者の電子証明書の取得期限を過ぎたため、ご契約のすべてのIDがご利用いただけません。当金庫に管理者の電子証明書の再発行を依頼してください。",
		"The administrator's certificate was not picked up in time, so every ID of the contract is blocked. Ask the bank to reissue the administrator's certificate."},
	wire.CodeNotRenewableYet: {"電子証明書の更新は有効期限の30日前からできます。期間になってからもう一度お試しください。",
		"Renewal opens 30 days before the certificate expires. Try again then."},
	wire.CodeRenewalWindowClosed: {"電子証明書の更新期間を過ぎています。管理者(管理者IDは当金庫)に再発行を依頼してください。",
		"The renewal period has passed. Ask your administrator (for an admin ID, the bank) to reissue the certificate."},
	wire.CodeRenewalNeedsNewKey: {"更新には新しい鍵が必要です。もう一度更新をお試しください。",
		"Renewal needs a new key pair. Try the renewal again."},
	wire.CodeForbidden: {"このIDではこの操作はできません。承認者・一般者IDの管理は管理者IDで行ってください。管理者IDの再発行・ロック解除は当金庫に依頼してください。",
		"This ID may not do that. Approver and general IDs are managed with an administrator ID; to reissue or unlock an administrator ID, ask the bank."},
	wire.CodeNotFound: {"指定した利用者はご契約にありません。ログインIDをご確認ください。",
		"There is no such user in your contract. Check the login ID."},
	wire.CodeAlreadyExists: {"このログインIDはすでに使われています。別のログインIDを指定してください。",
		"This login ID is already taken. Choose another."},
	wire.CodeWeakPassword: {"パスワードが規則を満たしていません。より長く、英字・数字・記号を組み合わせたパスワードにしてください。",
		"The password does not meet the policy. Use a longer password mixing letters, digits and symbols."},
	wire.CodeRateLimited: {"短時間に操作が集中しました。しばらく待ってからもう一度お試しください。",
		"Too many requests in a short time. Wait a moment and try again."},
	wire.CodeUnavailable: {"ただいまサーバーが混み合っているか停止中です。しばらく待ってからもう一度お試しください。",
		"The server is busy or down for maintenance. Wait a while and try again."},
	wire.CodeInternal: {"サーバーで障害が発生しました。当金庫にお問い合わせください。",
		"The server had a fault. Contact the bank."},
}

// Messages for errors that do not come from the server.
var (
	msgNetwork = text{"銀行のサーバーに接続できません。インターネット接続を確認し、しばらく待ってからもう一度お試しください。",
		"Cannot reach the bank's server. Check your internet connection and try again in a while."}
	msgTimeout = text{"銀行のサーバーから応答がありません。しばらく待ってからもう一度お試しください。",
		"The bank's server did not answer in time. Try again in a while."}
	msgServerNotTrusted = text{"接続先が銀行のサーバーであることを確認できませんでした。安全のため中止しました。設定ファイルが銀行から届いたものか確認し、当金庫にお問い合わせください。",
		"Could not confirm that the server is the bank's, so Inkan stopped for safety. Check that the configuration file came from your bank, and contact the bank."}
	msgClientCertRejected = text{"電子証明書がサーバーに受け付けられませんでした。正しい電子証明書を選択するか、管理者に再発行を依頼してください。",
		"The server did not accept the certificate. Choose the right certificate, or ask your administrator for a reissue."}
	msgNotFromBank = text{"受け取った電子証明書が当金庫のものとして確認できませんでした。保存せずに中止しました。当金庫にお問い合わせください。",
		"The certificate received could not be confirmed as the bank's, so it was not saved. Contact the bank."}
	msgConfig = text{"設定ファイルに誤りがあります。銀行から届いた設定ファイルをそのまま使用してください。詳細: ",
		"The configuration is wrong. Use the configuration file your bank sent, unchanged. Details: "}
	msgNotSavedPickup = text{"電子証明書は発行されましたが、このパソコンに保存できませんでした。Inkanを終了せずに、もう一度「取得」を行ってください。同じ電子証明書を受け取って保存します。再発行を依頼する必要はありません。詳細: ",
		"The certificate was issued but could not be saved on this PC. Without quitting Inkan, pick it up (取得) again: you receive the same certificate and it is saved. There is no need to ask for a reissue. Details: "}
	msgNotSavedRenewal = text{"新しい電子証明書は発行されましたが、このパソコンに保存できませんでした。Inkanを終了せずに、もう一度「更新」を行ってください。同じ電子証明書を受け取って保存します。再発行を依頼する必要はありません。詳細: ",
		"The new certificate was issued but could not be saved on this PC. Without quitting Inkan, renew (更新) again: you receive the same certificate and it is saved. There is no need to ask for a reissue. Details: "}
	msgNotSavedKeyLost = text{"電子証明書は発行されましたが、このパソコンに保存できず、鍵も残せませんでした。保存先の問題を解決してから、管理者（管理者IDの場合は当金庫）に再発行を依頼してください。詳細: ",
		"The certificate was issued but could not be saved on this PC, and its key could not be kept. Fix the certificate store, then ask your administrator (the bank, for an admin ID) for a reissue. Details: "}
	msgNoIdentity = text{"指定した電子証明書がこのパソコンにありません。一覧を更新して選び直してください。",
		"That certificate is not on this PC. Refresh the list and choose again."}
	msgStoreUnavailable = text{"証明書ストアを使用できません。パソコンの設定をご確認ください。詳細: ",
		"The certificate store cannot be used. Check the PC's settings. Details: "}
	msgStore = text{"証明書ストアで問題が発生しました。もう一度お試しください。詳細: ",
		"The certificate store failed. Try again. Details: "}
	msgNotExportable = text{"この電子証明書の秘密鍵はバックアップできない設定です。バックアップが必要な場合は再発行を依頼してください。",
		"This certificate's private key may not be exported, so it cannot be backed up. Ask for a reissue if you need a backup."}
	msgBackupWrongPassword = text{"バックアップファイルのパスワードが正しくありません。バックアップ作成時のパスワードを入力してください。",
		"The backup file's password is wrong. Enter the password used when the backup was made."}
	msgBackupDamaged = text{"バックアップファイルが壊れているか、バックアップファイルではありません。別のファイルを選んでください。",
		"The backup file is damaged or is not a backup file. Choose another file."}
	msgPasswordMismatch = text{"パスワードと確認用パスワードが一致しません。同じパスワードを2回入力してください。",
		"The password and its confirmation differ. Enter the same password twice."}
	msgPasswordShort = text{"パスワードが短すぎます。12文字以上にしてください。",
		"The password is too short. Use at least 12 characters."}
	msgPasswordOneClass = text{"パスワードが1種類の文字だけでできています。英大文字・英小文字・数字・記号のうち2種類以上を組み合わせてください。",
		"The password uses only one kind of character. Mix at least two of upper case, lower case, digits and symbols."}
	msgNoSession = text{"ログインしていません。ログインしてからもう一度お試しください。",
		"You are not logged in. Log in and try again."}
	msgCanceled = text{"操作を中止しました。", "The operation was canceled."}
	msgOther    = text{"予期しないエラーが発生しました。もう一度お試しください。解決しない場合は当金庫にお問い合わせください。詳細: ",
		"Something unexpected went wrong. Try again, and contact the bank if it persists. Details: "}
)

// Message says what happened and what to do, for a person, in lang ("ja" or "en";
// anything else means "ja"). It is the one place where errors become words.
func Message(err error, lang string) string {
	pick := func(t text) string {
		if lang == "en" {
			return t.en
		}
		return t.ja
	}
	if err == nil {
		return ""
	}
	if code := Code(err); code != "" {
		if t, ok := codeMessages[code]; ok {
			return pick(t)
		}
		return pick(msgOther) + string(code)
	}
	var (
		cfgErr   *ConfigError
		weak     *WeakPasswordError
		notFound *certstore.NotFoundError
		unavail  *certstore.UnavailableError
		alert    tls.AlertError
		netErr   net.Error
		notSaved *NotSavedError
	)
	switch {
	case errors.As(err, &notSaved):
		// Before the store's own failure: the way out is to try again, or, once
		// the key is gone, a reissue.
		if notSaved.KeyLost {
			return pick(msgNotSavedKeyLost) + notSaved.Err.Error()
		}
		if notSaved.Renewal {
			return pick(msgNotSavedRenewal) + notSaved.Err.Error()
		}
		return pick(msgNotSavedPickup) + notSaved.Err.Error()
	case errors.Is(err, context.Canceled):
		return pick(msgCanceled)
	case errors.As(err, &cfgErr):
		return pick(msgConfig) + cfgErr.Error()
	case errors.Is(err, ErrPasswordMismatch):
		return pick(msgPasswordMismatch)
	case errors.As(err, &weak):
		if weak.Reason == "short" {
			return pick(msgPasswordShort)
		}
		return pick(msgPasswordOneClass)
	case errors.Is(err, ErrNoSession):
		return pick(msgNoSession)
	case errors.Is(err, ErrNoIdentity), errors.As(err, &notFound):
		return pick(msgNoIdentity)
	case errors.Is(err, certstore.ErrKeyNotExportable):
		return pick(msgNotExportable)
	case errors.Is(err, certstore.ErrWrongPassword):
		return pick(msgBackupWrongPassword)
	case errors.Is(err, certstore.ErrDamagedFile):
		return pick(msgBackupDamaged)
	case errors.As(err, &unavail):
		return pick(msgStoreUnavailable) + unavail.Error()
	case errors.Is(err, ErrNotFromBank):
		return pick(msgNotFromBank)
	case errors.As(err, &alert):
		// The server closed the handshake: it did not take our certificate.
		return pick(msgClientCertRejected)
	case errors.Is(err, ErrCAMismatch), isTLSFailure(err):
		return pick(msgServerNotTrusted)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return pick(msgTimeout)
	case Classify(err) == CategoryNetwork:
		return pick(msgNetwork)
	case Classify(err) == CategoryStore:
		return pick(msgStore) + err.Error()
	}
	return pick(msgOther) + err.Error()
}
