package main

import (
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/inkan-dev/inkan/agent"
)

// The help (inkanctl --help, inkanctl CMD --help) speaks the run's language
// like everything else inkanctl writes. The command tree is built before the
// flags are parsed, so helpLanguage reads --lang and --config from the command
// line itself, then the configuration's language, else the OS's. English is
// the text of the commands themselves; localizeHelp puts the Japanese in its
// place, cobra's own words ([flags], (default …)) included.

// helpLanguage is the language of the help for this command line: --lang, else
// the language of the configuration (--config's, else the default one), else
// the OS's, else Japanese.
func helpLanguage(args []string) string {
	if v, ok := flagValue(args, "lang"); ok {
		return v
	}
	path, ok := flagValue(args, "config")
	if !ok {
		path = defaultConfigPath()
	}
	if l := configLanguage(path); l != "" {
		return l
	}
	if l := osLanguage(); l != "" {
		return l
	}
	return "ja"
}

// flagValue is the value of the global flag --name on the command line
// (--name=V or --name V), up to "--".
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

// configLanguage is the language the configuration at path sets, as a command
// takes it (its first bank's), or "" when it sets none or cannot be read.
func configLanguage(path string) string {
	cfgs, err := agent.LoadBanks(bankDirOf(path), path)
	if err != nil || len(cfgs) == 0 {
		return ""
	}
	return cfgs[0].Language
}

// shortJa are the commands' one-line descriptions in Japanese, by command path.
var shortJa = map[string]string{
	"inkanctl":                    "当金庫の電子証明書を取得し、ログインに使い、更新し、バックアップします",
	"inkanctl admin":              "ご契約の利用者とその電子証明書を管理します（管理者ID）",
	"inkanctl admin create-user":  "承認者IDまたは一般者IDを作成します",
	"inkanctl admin delete-user":  "IDを削除します（その電子証明書は失効します）",
	"inkanctl admin issue":        "電子証明書を発行します（80日間の取得期間が始まります）",
	"inkanctl admin reissue":      "電子証明書を再発行します（今の電子証明書を失効させ、新しい取得期間を始めます）",
	"inkanctl admin revoke":       "IDの電子証明書をただちに失効させます",
	"inkanctl admin set-password": "承認者ID・一般者IDのログインパスワードを再設定します（ロックも解除し、そのIDのログイン中の画面を終了します）",
	"inkanctl admin unlock":       "パスワードを続けて誤ってロックされた承認者ID・一般者IDのロックを解除します",
	"inkanctl admin users":        "ご契約の利用者と、その電子証明書の状態を一覧します",
	"inkanctl backup":             "電子証明書を鍵とともに、パスワードで保護した1つの PKCS#12 ファイルにバックアップします",
	"inkanctl bank":               "このパソコンで使う金融機関を追加・一覧・削除します（金融機関ごとに設定ファイルが1つ）",
	"inkanctl bank add":           "金融機関を追加します：届いた設定ファイルから、またはサーバーのURLとルート証明書の拇印（SHA-256）から",
	"inkanctl bank list":          "設定した金融機関を一覧します",
	"inkanctl bank remove":        "金融機関を削除します（--delete-certificates を付けない限り、電子証明書はこのパソコンに残ります）",
	"inkanctl browser-copy":       "ブラウザー用の電子証明書の写し（NSS データベース ~/.pki/nssdb）を今すぐ最新にします",
	"inkanctl delete":             "電子証明書と鍵をこのパソコンから削除します（当金庫には伝わりません）",
	"inkanctl doctor":             "電子証明書の取得とブラウザーでのログインに要る手順を、このパソコンで確かめます（動作環境チェック）",
	"inkanctl list":               "このパソコンにある電子証明書を、金融機関ごとに、最後に使ったものから一覧します",
	"inkanctl login":              "電子証明書でログインし、当金庫からのお知らせを表示してログアウトします",
	"inkanctl pickup":             "お客様IDに発行された電子証明書を、ログインパスワードで取得します",
	"inkanctl renew":              "電子証明書を更新します（新しい鍵ペアを作り、今の電子証明書で本人を証明します）",
	"inkanctl restore":            "PKCS#12 のバックアップから電子証明書をこのパソコンに取り込みます",
	"inkanctl status":             "電子証明書の有効期限の警告を、金融機関ごとに急ぐものから表示します",
	"inkanctl uninstall":          "Inkan を削除する前に：このパソコンの電子証明書を残すか（既定）、鍵とともにすべて削除します",
}

// flagJa are the flags' descriptions in Japanese, by command path and flag
// name; the global flags are under "inkanctl".
var flagJa = map[string]string{
	"inkanctl config":                          "金融機関の設定ファイル（JSON）。$INKAN_CONFIG でも指定できます",
	"inkanctl bank":                            "金融機関を4桁の金融機関コードで指定します（複数の金融機関があるとき。既定：1つだけの金融機関、または --id の電子証明書の金融機関）",
	"inkanctl store":                           "証明書ストア：windows、keyring、dir:フォルダー、memory（既定：設定ファイルの指定、なければ OS 標準）",
	"inkanctl state-dir":                       "エージェントの状態ファイルのフォルダー（既定：ユーザーの設定フォルダーの inkan）",
	"inkanctl lang":                            "表示する言語：ja または en（既定：設定ファイルの language、なければ OS の言語、なければ ja）",
	"inkanctl json":                            "結果（とエラー）を JSON で標準出力に書きます",
	"inkanctl password-file":                   "パスワードをこのファイルから1行に1つずつ読みます",
	"inkanctl password-stdin":                  "パスワードを標準入力から1行に1つずつ読みます",
	"inkanctl timeout":                         "HTTP の各試行の制限時間（既定 30s）",
	"inkanctl browser-copy":                    "電子証明書をブラウザーの NSS データベースに写します（既定：設定ファイルの browser_copy、なければ Linux の keyring ストアで有効）",
	"inkanctl trust-bank-root":                 "ブラウザーの写しで、当金庫のルート証明書をサーバーの確認にも信頼します（同意した場合のみ）",
	"inkanctl nss-dir":                         "--browser-copy で使うブラウザーの NSS データベース（既定 ~/.pki/nssdb）",
	"inkanctl admin id":                        "ログインに使う電子証明書：拇印、その先頭8桁以上、または表示名 <お客様ID>+<金融機関コード>",
	"inkanctl admin login-id":                  "電子証明書を使わず、お客様IDとパスワードだけでログインします（ID・パスワード方式）。--bank の金融機関、またはIDの形式が合う金融機関に",
	"inkanctl admin create-user email":         "有効期限のお知らせを送るメールアドレス",
	"inkanctl admin create-user issue":         "電子証明書をすぐに発行します（80日間の取得期間が始まります）",
	"inkanctl admin create-user name":          "氏名",
	"inkanctl admin create-user role":          "approver（承認者）または general（一般者）",
	"inkanctl admin set-password generate":     "新しいパスワードをここで作り（英数字4文字×3組）、一度だけ表示します",
	"inkanctl backup id":                       "バックアップする電子証明書（複数なら繰り返して指定）",
	"inkanctl backup legacy":                   "AES-256 の代わりに 3DES・SHA-1 で書き出します。AES を読めないパソコン（Windows 7・8.1・Server 2016 以前、macOS 10.15 より前、Java 8u301 より前）に移すときだけ。保護が弱いため、取り込んだらファイルを削除してください",
	"inkanctl backup out":                      "書き出す PKCS#12 ファイル",
	"inkanctl bank add code":                   "金融機関の4桁のコード",
	"inkanctl bank add fingerprint":            "当金庫から案内されたルート証明書の拇印（SHA-256。/.well-known/est/cacerts で確かめます）",
	"inkanctl bank add name":                   "金融機関名",
	"inkanctl bank add url":                    "金融機関の Inkan サーバー（https://ホスト[:ポート]）",
	"inkanctl bank remove delete-certificates": "その金融機関の電子証明書と鍵も、このパソコンから削除します",
	"inkanctl delete id":                       "電子証明書：拇印、その先頭8桁以上、または表示名",
	"inkanctl login id":                        "電子証明書：拇印、その先頭8桁以上、または表示名 <お客様ID>+<金融機関コード>",
	"inkanctl login login-id":                  "電子証明書を使わず、お客様IDとパスワードだけでログインします（ID・パスワード方式）。--bank の金融機関、またはIDの形式が合う金融機関に",
	"inkanctl pickup login-id":                 "お客様ID。複数の金融機関があって --bank がないときは、公開しているIDの形式が合う金融機関に",
	"inkanctl renew auto":                      "当金庫が認めていれば、更新の時期が来た電子証明書をすべて更新します（タスクスケジューラー用）",
	"inkanctl renew id":                        "電子証明書：拇印、その先頭8桁以上、または表示名",
	"inkanctl uninstall ask":                   "削除するかどうかを利用者に尋ねます（Windows ではダイアログ。既定の答えは残す）",
	"inkanctl uninstall delete-certificates":   "Inkan がこのパソコンに置いた電子証明書を、鍵とともにすべて削除します",
}

// rootLongJa is inkanctl --help's introduction and exit statuses in Japanese.
const rootLongJa = `inkanctl は、画面のない Inkan エージェントです。法人インターネットバンキングに
ログインするための電子証明書（電子証明書方式）をこのパソコンの証明書ストアに保管し、
金融機関の設定ファイルにある当金庫のサーバーと通信します。

終了コード：
  0  成功
  1  コマンドの指定の誤り、またはこのパソコンで受け付けなかった入力（弱い・誤った
     バックアップのパスワード、壊れたバックアップファイル）
  2  当金庫のサーバーが断った（パスワードの誤り、失効、期間外など）
  3  ネットワークまたは TLS の失敗（サーバーに届かない、サーバーを確認できない）
  4  証明書ストアの失敗、またはその電子証明書がこのパソコンにない
  5  設定ファイルがない、または誤りがある
  6  中断された
  7  その他

パスワードはコマンドラインからは受け取りません。入力画面、--password-file（1行に
1つ）または --password-stdin（1行に1つ）から読みます。2つ要るコマンド（入力画面で
の backup は2回尋ねます。admin create-user は管理者のログインパスワード、次に新しい
利用者のパスワード）は、その順に読みます。
`

// usageTemplateJa is cobra's usage template with Japanese headings, and
// cobra's and pflag's own words put in Japanese (jaUseLine, jaFlagUsages).
const usageTemplateJa = `使い方:{{if .Runnable}}
  {{jaUseLine .}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [コマンド]{{end}}{{if .HasAvailableSubCommands}}

コマンド:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

オプション:
{{jaFlagUsages .LocalFlags | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

共通のオプション:
{{jaFlagUsages .InheritedFlags | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableSubCommands}}

各コマンドの使い方は "{{.CommandPath}} [コマンド] --help" で表示します。{{end}}
`

// jaUseLine is a command's usage line with cobra's [flags] and [command] in
// Japanese.
func jaUseLine(cmd *cobra.Command) string {
	return strings.NewReplacer("[flags]", "[オプション]", "[command]", "[コマンド]").Replace(cmd.UseLine())
}

// pflagDefault is the "(default …)" pflag appends to a flag's usage line.
var pflagDefault = regexp.MustCompile(`(?m) \(default (.+)\)$`)

// jaFlagUsages is pflag's table of flags with its "(default …)" in Japanese.
func jaFlagUsages(flags *pflag.FlagSet) string {
	return pflagDefault.ReplaceAllString(flags.FlagUsages(), "（既定：$1）")
}

// localizeHelp puts the help of root and every command under it in lang; for
// "en" it leaves the English as written.
func localizeHelp(root *cobra.Command, lang string) {
	if lang == "en" {
		return
	}
	cobra.AddTemplateFunc("jaUseLine", jaUseLine)
	cobra.AddTemplateFunc("jaFlagUsages", jaFlagUsages)
	root.InitDefaultHelpCmd()
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		path := cmd.CommandPath()
		cmd.InitDefaultHelpFlag()
		if f := cmd.Flags().Lookup("help"); f != nil {
			f.Usage = "このコマンドの使い方を表示します"
		}
		if cmd.Name() == "help" {
			cmd.Short, cmd.Long = "コマンドの使い方を表示します", ""
		}
		if ja, ok := shortJa[path]; ok {
			cmd.Short = ja
			if cmd.Long != "" {
				cmd.Long = ja // the English details are in the English help (--lang en)
			}
		}
		translate := func(f *pflag.Flag) {
			if ja, ok := flagJa[path+" "+f.Name]; ok {
				f.Usage = ja
			}
		}
		cmd.LocalNonPersistentFlags().VisitAll(translate)
		cmd.PersistentFlags().VisitAll(translate)
		cmd.SetUsageTemplate(usageTemplateJa)
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
	root.Long = rootLongJa
}
