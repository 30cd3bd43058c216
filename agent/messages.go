package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/certstore/nssdb"
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
		sysErr   *certstore.SystemError
		unsup    *certstore.UnsupportedKeyError
		netErr   net.Error
		urlErr   *url.Error
	)
	var notSaved *NotSavedError
	var browser *BrowserCopyError
	var form *LoginIDFormError
	switch {
	case err == nil:
		return CategoryNone
	case errors.As(err, &browser):
		return CategoryStore
	case Code(err) != "":
		return CategoryRefused
	case errors.As(err, &notSaved):
		return CategoryStore
	case errors.Is(err, context.Canceled):
		return CategoryCanceled
	case errors.As(err, &cfgErr):
		return CategoryConfig
	case errors.As(err, &weak), errors.Is(err, ErrPasswordMismatch), errors.As(err, &form), errors.Is(err, ErrNoBankForID),
		// A backup file's wrong password or damaged content is the user's input, not
		// the store failing: nothing on this PC changed, and typing again may fix it.
		errors.Is(err, certstore.ErrWrongPassword), errors.Is(err, certstore.ErrDamagedFile):
		return CategoryInput
	case errors.Is(err, ErrNoIdentity), errors.Is(err, ErrKeyUnusable), errors.As(err, &notFound), errors.As(err, &exists), errors.As(err, &unavail),
		errors.As(err, &sysErr), errors.As(err, &unsup), errors.Is(err, ErrSelfCheckFailed),
		errors.Is(err, certstore.ErrKeyNotExportable):
		return CategoryStore
	case isTLSFailure(err), errors.Is(err, ErrCAMismatch), errors.Is(err, ErrNotFromBank),
		errors.As(err, &netErr), errors.As(err, &urlErr), errors.Is(err, context.DeadlineExceeded):
		return CategoryNetwork
	}
	return CategoryOther
}

// text is one message in both languages.
type text struct{ ja, en string }

// Messages for errors that do not come from the server.
var (
	msgNetwork = text{"当金庫のサーバーに接続できません。インターネット接続を確認し、しばらく待ってからもう一度お試しください。",
		"Cannot reach the bank's server. Check your internet connection and try again in a while."}
	msgTimeout = text{"当金庫のサーバーから応答がありません。しばらく待ってからもう一度お試しください。",
		"The bank's server did not answer in time. Try again in a while."}
	msgServerNotTrusted = text{"接続先が当金庫のサーバーであることを確認できませんでした。安全のため中止しました。設定ファイルが当金庫から届いたものか確認し、当金庫にお問い合わせください。",
		"Could not confirm that the server is the bank's, so Inkan stopped for safety. Check that the configuration file came from your bank, and contact the bank."}
	msgClientCertRejected = text{"電子証明書がサーバーに受け付けられませんでした。正しい電子証明書を選択するか、管理者に再発行を依頼してください。",
		"The server did not accept the certificate. Choose the right certificate, or ask your administrator for a reissue."}
	msgNotFromBank = text{"受け取った電子証明書が当金庫のものとして確認できませんでした。保存せずに中止しました。当金庫にお問い合わせください。",
		"The certificate received could not be confirmed as the bank's, so it was not saved. Contact the bank."}
	msgConfig = text{"設定ファイルに誤りがあります。当金庫から届いた設定ファイルをそのまま使用してください。詳細：",
		"The configuration is wrong. Use the configuration file your bank sent, unchanged. Details: "}
	msgNotSavedPickup = text{"電子証明書は発行されましたが、このパソコンに保存できませんでした。Inkanを終了せずに、もう一度「取得」を行ってください。同じ電子証明書を受け取って保存します。再発行を依頼する必要はありません。詳細：",
		"The certificate was issued but could not be saved on this PC. Without quitting Inkan, pick it up (取得) again: you receive the same certificate and it is saved. There is no need to ask for a reissue. Details: "}
	msgNotSavedRenewal = text{"新しい電子証明書は発行されましたが、このパソコンに保存できませんでした。Inkanを終了せずに、もう一度「更新」を行ってください。同じ電子証明書を受け取って保存します。再発行を依頼する必要はありません。詳細：",
		"The new certificate was issued but could not be saved on this PC. Without quitting Inkan, renew (更新) again: you receive the same certificate and it is saved. There is no need to ask for a reissue. Details: "}
	msgNotSavedKeyLost = text{"電子証明書は発行されましたが、このパソコンに保存できず、鍵も残せませんでした。保存先の問題を解決してから、管理者（管理者IDの場合は当金庫）に再発行を依頼してください。詳細：",
		"The certificate was issued but could not be saved on this PC, and its key could not be kept. Fix the certificate store, then ask your administrator (the bank, for an admin ID) for a reissue. Details: "}
	msgNoIdentity = text{"指定した電子証明書がこのパソコンにありません。一覧を更新して選び直してください。",
		"That certificate is not on this PC. Refresh the list and choose again."}
	msgKeyUnusable = text{"この電子証明書の秘密鍵をこのパソコンで開けないため、使用できません。「電子証明書の管理」で削除し、管理者（管理者IDの場合は当金庫）に再発行を依頼してください。",
		"This certificate's private key cannot be opened on this PC, so the certificate cannot be used. Delete it in Manage certificates and ask your administrator (the bank, for an admin ID) for a reissue (再発行)."}
	msgStoreUnavailable = text{"証明書ストアを使用できません。パソコンの設定をご確認ください。詳細：",
		"The certificate store cannot be used. Check the PC's settings. Details: "}
	msgSystemStore = text{"この PC の証明書ストアで操作が失敗しました（Windows が要求を拒否しました）。もう一度お試しください。解決しない場合は「設定」の「動作環境チェック」の結果を当金庫にお知らせください。詳細：",
		"This PC's certificate store refused the operation. Try again; if it persists, send the bank the result of 動作環境チェック (Environment check) in Settings. Details: "}
	msgStore = text{"証明書ストアで問題が発生しました。もう一度お試しください。詳細：",
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
	msgBrowserToolsMissing = text{"電子証明書は保存しましたが、ブラウザ（Chromium・Chrome）用のコピーを作れませんでした。NSSのツール（Debian/Ubuntuでは libnss3-tools）をインストールしてから、もう一度お試しください。",
		"The certificate is saved, but its copy for the browser (Chromium, Chrome) could not be made. Install the NSS tools (libnss3-tools on Debian/Ubuntu), then try again."}
	msgBrowserLocked = text{"電子証明書は保存しましたが、ブラウザの証明書データベースにマスターパスワードが設定されているため、ブラウザ用のコピーを作れませんでした。ブラウザの設定でマスターパスワードを外すか、設定でブラウザへのコピーをオフにしてください。詳細：",
		"The certificate is saved, but the browser's certificate database has a primary password, so the browser's copy could not be made. Remove the primary password in the browser's settings, or switch the browser copy off in Settings. Details: "}
	msgBrowserOther = text{"電子証明書は保存しましたが、ブラウザ用のコピーを更新できませんでした。ブラウザでログインできない場合は、もう一度お試しください。詳細：",
		"The certificate is saved, but the browser's copy could not be updated. If the browser cannot log in, try again. Details: "}
	msgCanceled = text{"操作を中止しました。", "The operation was canceled."}
	msgOther    = text{"予期しないエラーが発生しました。もう一度お試しください。解決しない場合は当金庫にお問い合わせください。詳細：",
		"Something unexpected went wrong. Try again, and contact the bank if it persists. Details: "}
)

var (
	msgChooseBank = text{"複数の金融機関が設定されています。電子証明書取得・ID・パスワード方式のログインは、金融機関を指定して行ってください（inkanctl --bank 金融機関コード）。",
		"Several banks are configured: say which bank to pick up or log in at (inkanctl --bank CODE)."}
	msgNoBankForID = text{"このお客様IDは、このパソコンに設定されたどの金融機関の形式とも合いません。お客様IDを確かめてください。正しければ、その金融機関から届いた設定ファイルを追加してください（設定 → 金融機関の追加、または inkanctl bank add）。",
		"This login ID does not have the form of any bank configured on this PC. Check the ID; if it is right, add the configuration file its bank sent (Settings → add a bank, or inkanctl bank add)."}
	msgUnknownBank = text{"その金融機関はこのパソコンに設定されていません。金融機関から届いた設定ファイルを追加してください（inkanctl bank add）。",
		"That bank is not configured on this PC. Add the configuration file the bank sent (inkanctl bank add)."}
)

var msgRestoredRevoked = text{"次の電子証明書は当金庫で失効済みのため、ログインには使用できません。再発行を管理者にご依頼ください（管理者IDの場合は当金庫にお問い合わせください）：",
	"The bank has revoked these certificates, so they cannot log in. Ask your administrator for a reissue (for an administrator ID, contact the bank): "}

// RestoredRevokedNote says, in lang ("ja" or "en"), that the restored
// certificates labels are revoked and what to do; "" when labels is empty.
func RestoredRevokedNote(labels []string, lang string) string {
	if len(labels) == 0 {
		return ""
	}
	t := msgRestoredRevoked.ja
	sep := "、"
	if lang == "en" {
		t, sep = msgRestoredRevoked.en, ", "
	}
	return t + strings.Join(labels, sep)
}

// roleNames are the seeds' names of the roles, in both languages.
var roleNames = map[wire.Role]text{
	wire.RoleAdmin:    {"管理者ID", "admin IDs"},
	wire.RoleApprover: {"承認者ID", "approver IDs"},
	wire.RoleGeneral:  {"一般者ID", "general IDs"},
}

// notExportableMessage says which certificate cannot be backed up and whose can.
func notExportableMessage(e *NotExportableError) text {
	if len(e.BackupRoles) == 0 {
		return text{
			fmt.Sprintf("「%s」はバックアップできません。当金庫の方針では、電子証明書の秘密鍵はどの ID もこの PC から持ち出せません。PC を替えるときは再発行を依頼してください。", e.Label),
			fmt.Sprintf("%s cannot be backed up: the bank's policy keeps every ID's private key on its PC. Ask for a reissue when you replace the PC.", e.Label),
		}
	}
	var ja, en []string
	for _, r := range e.BackupRoles {
		ja, en = append(ja, roleNames[r].ja), append(en, roleNames[r].en)
	}
	return text{
		fmt.Sprintf("「%s」はバックアップできません。当金庫の方針でバックアップできるのは%sの電子証明書だけで、それ以外の秘密鍵はこの PC から持ち出せない設定で作られています。PC を替えるときは再発行を依頼してください。", e.Label, strings.Join(ja, "・")),
		fmt.Sprintf("%s cannot be backed up: the bank lets only %s back up their certificates, and other keys are made so that they cannot leave this PC. Ask for a reissue when you replace the PC.", e.Label, strings.Join(en, " and ")),
	}
}

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
		if m := code.Message(lang); m != "" {
			return m
		}
		return pick(msgOther) + string(code)
	}
	var (
		cfgErr      *ConfigError
		weak        *WeakPasswordError
		notFound    *certstore.NotFoundError
		unavail     *certstore.UnavailableError
		alert       tls.AlertError
		netErr      net.Error
		notSaved    *NotSavedError
		notExp      *NotExportableError
		unsupported *certstore.UnsupportedKeyError
		sysErr      *certstore.SystemError
		form        *LoginIDFormError
	)
	var browser *BrowserCopyError
	switch {
	case errors.As(err, &browser):
		// Before the store's own failures: the agent's certificate is fine.
		switch {
		case errors.Is(err, nssdb.ErrToolsMissing):
			return pick(msgBrowserToolsMissing)
		case errors.Is(err, nssdb.ErrLocked):
			return pick(msgBrowserLocked) + browser.Dir
		}
		return pick(msgBrowserOther) + browser.Err.Error()
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
	case errors.Is(err, ErrChooseBank):
		return pick(msgChooseBank)
	case errors.Is(err, ErrNoBankForID):
		return pick(msgNoBankForID)
	case errors.As(err, &form):
		return pick(text{
			fmt.Sprintf("このお客様ID（%s）は、%sのお客様IDの形式と合いません。お客様IDと金融機関を確かめてください。パスワードは送っていません。", form.LoginID, form.BankName),
			fmt.Sprintf("The login ID %s does not have the form of %s's login IDs. Check the ID and the bank. The password was not sent.", form.LoginID, form.BankName),
		})
	case errors.Is(err, ErrUnknownBank):
		return pick(msgUnknownBank)
	case errors.Is(err, ErrKeyUnusable):
		return pick(msgKeyUnusable)
	case errors.Is(err, ErrNoIdentity), errors.As(err, &notFound):
		return pick(msgNoIdentity)
	case errors.As(err, &notExp):
		return pick(notExportableMessage(notExp))
	case errors.Is(err, certstore.ErrKeyNotExportable):
		return pick(msgNotExportable)
	case errors.As(err, &unsupported):
		return pick(text{
			fmt.Sprintf("この PC の証明書ストアでは、当金庫が指定する種類の鍵（%s）を作れません。Windows の場合は「設定」の「動作環境チェック」の結果を当金庫にお知らせください。詳細：", unsupported.Algorithm),
			fmt.Sprintf("This PC's certificate store cannot make the kind of key the bank asks for (%s). On Windows, send the bank the result of 動作環境チェック (Environment check) in Settings. Details: ", unsupported.Algorithm),
		}) + unsupported.Err.Error()
	case errors.As(err, &sysErr):
		return pick(msgSystemStore) + sysErr.Error()
	case errors.Is(err, ErrSelfCheckFailed):
		return pick(text{"動作環境チェックで失敗した手順があります。上の報告をコピーして当金庫にお知らせください。",
			"A step of the environment check failed. Copy the report above and send it to the bank."})
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
