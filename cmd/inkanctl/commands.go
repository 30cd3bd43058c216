package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/wire"
)

// stepNames are the pickup and renewal steps, in Japanese and English.
var stepNames = map[agent.Step][2]string{
	agent.StepPrepare:     {"電子証明書取得前処理中", "preparing"},
	agent.StepGenerateKey: {"この PC で鍵を生成中", "generating the key pair on this PC"},
	agent.StepIssue:       {"電子証明書発行処理中", "the bank is issuing the certificate"},
	agent.StepInstall:     {"電子証明書をインストール中", "installing the certificate"},
	agent.StepDone:        {"インストール完了", "done"},
}

// progress writes each step to stderr, so stdout stays the result.
func (c *cli) progress(s agent.Step) {
	if !c.jsonOut {
		n := stepNames[s]
		fmt.Fprintf(c.stderr, "  %s\n", c.say(n[0], n[1]))
	}
}

func (c *cli) pickupCommand() *cobra.Command {
	var loginID string
	cmd := &cobra.Command{
		Use:   "pickup --login-id ID",
		Short: "Pick up (取得) the certificate issued for a login ID, with its login password",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := c.agentForLoginID(loginID)
			if err != nil {
				return err
			}
			pw, err := c.password(c.say(loginID+" のログインパスワード", "login password for "+loginID))
			if err != nil {
				return err
			}
			id, err := c.saving(cmd.Context(), func() (*agent.Identity, error) {
				return a.Pickup(cmd.Context(), loginID, pw, c.progress)
			})
			if err != nil {
				return err
			}
			return c.show(id)
		},
	}
	cmd.Flags().StringVar(&loginID, "login-id", "", "the login ID (お客様ID); with several banks and no --bank, the bank whose published form of ID fits it")
	_ = cmd.MarkFlagRequired("login-id")
	return cmd
}

// show writes one identity as text or JSON.
func (c *cli) show(id *agent.Identity) error {
	if c.jsonOut {
		c.printJSON(toJSON(id))
	} else {
		c.printIdentity(id)
	}
	return nil
}

func (c *cli) listCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the certificates of every configured bank (or of --bank) on this PC, by bank, last used first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ids, err := c.identities(cmd.Context())
			if err != nil {
				return err
			}
			if c.jsonOut {
				c.printJSON(identitiesJSON(ids))
				return nil
			}
			for _, id := range ids {
				c.printIdentity(id)
			}
			return nil
		},
	}
}

// sessionFlags choose how a command logs in: with a certificate (--id, or the one
// usable certificate) or, with --login-id, by ID and password only.
type sessionFlags struct {
	id, loginID string
}

func (s *sessionFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&s.id, "id", "", "the certificate: fingerprint, its first 8+ digits, or label <loginID>+<bankCode>")
	fs.StringVar(&s.loginID, "login-id", "", "log in by ID (お客様ID) and password only (ID・パスワード方式), without a certificate, at --bank or the bank whose form of ID fits it")
}

// login opens a session as the flags say.
func (c *cli) login(ctx context.Context, a *agent.Agent, s sessionFlags) (*agent.Session, error) {
	if s.loginID != "" {
		if s.id != "" {
			return nil, &usageError{c.say("--id と --login-id はどちらか一方だけ指定してください", "use --id or --login-id, not both")}
		}
		pw, err := c.password(c.say(s.loginID+" のログインパスワード", "login password for "+s.loginID))
		if err != nil {
			return nil, err
		}
		return a.PasswordLogin(ctx, s.loginID, pw)
	}
	id, err := c.choose(ctx, a, s.id)
	if err != nil {
		return nil, err
	}
	pw, err := c.password(c.say(id.Label+" のログインパスワード", "login password for "+id.Label))
	if err != nil {
		return nil, err
	}
	return a.Login(ctx, id.Fingerprint, pw)
}

func (c *cli) loginCommand() *cobra.Command {
	var s sessionFlags
	cmd := &cobra.Command{
		Use:   "login [--id CERT | --login-id ID]",
		Short: "Log in (電子証明書ログイン) and show the bank's notices, then log out",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := c.sessionAgent(cmd.Context(), s)
			if err != nil {
				return err
			}
			sess, err := c.login(cmd.Context(), a, s)
			if err != nil {
				return err
			}
			if c.jsonOut {
				c.printJSON(map[string]any{
					"user": sess.User, "notices": sess.Notices, "certificate_mode": sess.CertificateMode,
					"expires_at": sess.ExpiresAt,
				})
			} else {
				fmt.Fprintf(c.stdout, c.say("%s でログインしました（%s、%s）\n", "logged in as %s (%s, %s)\n"), sess.User.LoginID, sess.User.Role, sess.User.ContractName)
				for _, n := range sess.Notices {
					fmt.Fprintf(c.stdout, "【%s】%s\n", n.Title, n.Body)
				}
			}
			return a.Logout(cmd.Context(), sess)
		},
	}
	s.register(cmd.Flags())
	return cmd
}

func (c *cli) renewCommand() *cobra.Command {
	var ref string
	var auto bool
	cmd := &cobra.Command{
		Use:   "renew [--id CERT | --auto]",
		Short: "Renew (更新) a certificate: a new key pair, proven with the current certificate",
		Long: `Renew (更新) a certificate: a new key pair, proven with the current certificate.

With --auto, renew every certificate whose renewal window is open, if the bank
allows automatic renewal, with no question asked: for a systemd timer or a
Windows scheduled task (docs/agent.md has both). It prints
「電子証明書を更新しました」 for each renewal, nothing else when nothing is due,
and fails (exit status of the first failure) when a renewal failed after its
retries; the old certificate stays until the new one is stored.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if auto {
				if ref != "" {
					return &usageError{c.say("--id と --auto はどちらか一方だけ指定してください", "use --id or --auto, not both")}
				}
				agents, err := c.selected()
				if err != nil {
					return err
				}
				// Each bank by its own policy; the first failure decides the exit status.
				var first error
				for _, a := range agents {
					if err := c.autoRenew(cmd.Context(), a); err != nil && first == nil {
						first = err
					}
				}
				return first
			}
			a, err := c.agentFor(cmd.Context(), ref)
			if err != nil {
				return err
			}
			id, err := c.choose(cmd.Context(), a, ref)
			if err != nil {
				return err
			}
			renewed, err := c.saving(cmd.Context(), func() (*agent.Identity, error) {
				return a.Renew(cmd.Context(), id.Fingerprint, c.progress)
			})
			if err != nil {
				return err
			}
			return c.show(renewed)
		},
	}
	cmd.Flags().StringVar(&ref, "id", "", "the certificate: fingerprint, its first 8+ digits, or label")
	cmd.Flags().BoolVar(&auto, "auto", false, "renew every certificate that is due, if the bank allows it (for a scheduled task)")
	return cmd
}

// autoRenew is `renew --auto`.
func (c *cli) autoRenew(ctx context.Context, a *agent.Agent) error {
	rs, err := a.AutoRenew(ctx, agent.AutoRenewOptions{})
	if errors.Is(err, agent.ErrAutoRenewOff) {
		fmt.Fprintln(c.stdout, c.say("当金庫は電子証明書の自動更新を許可していません。`inkanctl renew` で更新してください。",
			"The bank does not allow automatic renewal: renew with `inkanctl renew`."))
		return nil
	}
	if err != nil {
		return err
	}
	var first error
	for _, r := range rs {
		fmt.Fprintln(c.stdout, agent.RenewedNotice(r, c.lang))
		if r.Err != nil && first == nil {
			first = r.Err
		}
	}
	return first
}

var levelNames = map[agent.Level]string{
	agent.LevelDays30: "expires within 30 days", agent.LevelDays10: "expires within 10 days", agent.LevelExpired: "expired",
}

// levelNamesJa are levelNames in Japanese (the JSON output keeps the English ones).
var levelNamesJa = map[agent.Level]string{
	agent.LevelDays30: "有効期限まで 30 日以内", agent.LevelDays10: "有効期限まで 10 日以内", agent.LevelExpired: "有効期限切れ",
}

func (c *cli) statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show expiry warnings for the certificates of every configured bank (or of --bank), most urgent first within each bank",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			agents, err := c.selected()
			if err != nil {
				return err
			}
			var ws []agent.Warning
			for _, a := range agents {
				w, err := a.Warnings(cmd.Context(), nil)
				if err != nil {
					return err
				}
				ws = append(ws, w...)
			}
			if c.jsonOut {
				out := []map[string]any{}
				for _, w := range ws {
					out = append(out, map[string]any{"certificate": toJSON(w.Identity), "level": levelNames[w.Level],
						"days_left": w.DaysLeft, "renewable": w.Renewable})
				}
				c.printJSON(out)
				return nil
			}
			if len(ws) == 0 {
				fmt.Fprintln(c.stdout, c.say("対応の必要な電子証明書はありません", "no certificate needs attention"))
			}
			for _, w := range ws {
				action := c.say("当金庫に再発行を依頼してください", "ask for a reissue (再発行)")
				if w.Renewable {
					action = c.say("更新してください: inkanctl renew --id ", "renew it: inkanctl renew --id ") + w.Identity.Label
				}
				if c.lang == "en" {
					fmt.Fprintf(c.stdout, "%s: %s (%s): %s\n", w.Identity.Label, levelNames[w.Level], c.daysLeft(w.DaysLeft), action)
				} else {
					fmt.Fprintf(c.stdout, "%s：%s（%s）：%s\n", w.Identity.Label, levelNamesJa[w.Level], c.daysLeft(w.DaysLeft), action)
				}
			}
			return nil
		},
	}
}

func (c *cli) backupCommand() *cobra.Command {
	var refs []string
	var out string
	var legacy bool
	cmd := &cobra.Command{
		Use:   "backup --id CERT [--id CERT...] --out FILE.p12 [--legacy]",
		Short: "Back up certificates with their keys into one password-protected PKCS#12 file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var fps []agent.Fingerprint
			for _, ref := range refs {
				a, err := c.agentFor(cmd.Context(), ref)
				if err != nil {
					return err
				}
				id, err := c.choose(cmd.Context(), a, ref)
				if err != nil {
					return err
				}
				fps = append(fps, id.Fingerprint)
			}
			b, err := c.banks()
			if err != nil {
				return err
			}
			pw, confirm, err := c.newPassword("backup password")
			if err != nil {
				return err
			}
			format := agent.BackupModern
			if legacy {
				format = agent.BackupLegacy
			}
			pfx, err := b.BackupAs(cmd.Context(), fps, pw, confirm, format)
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, pfx, 0o600); err != nil {
				return fmt.Errorf("write backup: %w", err)
			}
			if c.jsonOut {
				c.printJSON(map[string]any{"file": out, "certificates": fps})
			} else {
				fmt.Fprintf(c.stdout, c.say("電子証明書 %d 件を %s にバックアップしました\n", "backed up %d certificate(s) to %s\n"), len(fps), out)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&refs, "id", nil, "a certificate to back up (repeat for several)")
	cmd.Flags().StringVar(&out, "out", "", "the PKCS#12 file to write")
	cmd.Flags().BoolVar(&legacy, "legacy", false, "3DES/SHA-1 instead of AES-256, only for a PC that cannot read AES (Windows 7, 8.1, Server 2016 or older, macOS before 10.15, Java before 8u301); weaker, so delete the file once imported")
	_ = cmd.MarkFlagRequired("id")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func (c *cli) restoreCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "restore FILE.p12",
		Short: "Restore certificates from a PKCS#12 backup onto this PC",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := c.banks()
			if err != nil {
				return err
			}
			restore := b.Restore
			if c.bank != "" {
				a, err := b.Bank(c.bank)
				if err != nil {
					return err
				}
				restore = a.Restore
			}
			pfx, err := os.ReadFile(args[0])
			if err != nil {
				return &usageError{fmt.Sprintf(c.say("バックアップファイルを読めません: %v", "read backup: %v"), err)}
			}
			pw, err := c.password(c.say("バックアップファイルのパスワード", "backup password"))
			if err != nil {
				return err
			}
			res, err := restore(cmd.Context(), pfx, pw)
			if err != nil {
				return err
			}
			if c.jsonOut {
				other := []otherJSON{}
				for _, sid := range res.Other {
					other = append(other, otherJSON{Fingerprint: sid.Fingerprint, Label: sid.Label,
						Subject: sid.Certificate.Subject.String(), Issuer: sid.Certificate.Issuer.String(), NotAfter: sid.Certificate.NotAfter})
				}
				c.printJSON(map[string]any{"added": identitiesJSON(res.Added), "already_present": identitiesJSON(res.AlreadyPresent),
					"other": other, "revoked": identitiesJSON(res.Revoked)})
				c.printRestoreNotes(res)
				return nil
			}
			for _, id := range res.Added {
				fmt.Fprint(c.stdout, c.say("追加     ", "added    "))
				c.printIdentity(id)
			}
			for _, id := range res.AlreadyPresent {
				fmt.Fprint(c.stdout, c.say("登録済み ", "present  "))
				c.printIdentity(id)
			}
			for _, sid := range res.Other {
				fmt.Fprintf(c.stdout, c.say("その他   %-24s 復元しましたが、この PC に設定された金融機関のものではありません（発行者 %s）  %s\n",
					"other    %-24s restored, but from no bank configured here (issued by %s)  %s\n"),
					sid.Label, sid.Certificate.Issuer.CommonName, sid.Fingerprint)
			}
			c.printRestoreNotes(res)
			return nil
		},
	}
}

// printRestoreNotes says on stderr which restored certificates the bank has
// revoked, and whether that could not be checked.
func (c *cli) printRestoreNotes(res *agent.RestoreResult) {
	var revoked []string
	for _, id := range res.Revoked {
		revoked = append(revoked, id.Label)
	}
	if note := agent.RestoredRevokedNote(revoked, c.lang); note != "" {
		fmt.Fprintln(c.stderr, note)
	}
	if res.CheckErr != nil {
		fmt.Fprintf(c.stderr, "%s\n", agent.Message(res.CheckErr, c.lang))
	}
	if note := agent.MissingBankNote(res.Other, c.lang); note != "" {
		fmt.Fprintln(c.stderr, note)
	}
}

// otherJSON is how restore --json writes a certificate that is not this bank's.
type otherJSON struct {
	Fingerprint agent.Fingerprint `json:"fingerprint"`
	Label       string            `json:"label"`
	Subject     string            `json:"subject"`
	Issuer      string            `json:"issuer"`
	NotAfter    time.Time         `json:"not_after"`
}

func (c *cli) browserCopyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "browser-copy",
		Short: "Bring the browser's copy of the certificates (the NSS database ~/.pki/nssdb) up to date now",
		Long: `Bring the browser's copy of the certificates up to date now: every certificate
of this bank in the store, under <loginID>+<bankCode>, in the NSS database that
Chromium reads on Linux. Pickup, renewal, delete and restore do this by
themselves; run it after fixing what their warning named (libnss3-tools
missing, a primary password on the database).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := c.agent()
			if err != nil {
				return err
			}
			dir := a.BrowserCopyDir()
			if dir == "" {
				return &usageError{c.say("ブラウザ用の電子証明書のコピーは無効です。--browser-copy（または設定の \"browser_copy\": true）で有効にしてください",
					"the browser copy is off for this store: turn it on with --browser-copy (or \"browser_copy\": true)")}
			}
			if err := a.SyncBrowser(cmd.Context()); err != nil {
				return err
			}
			if c.lang == "en" {
				fmt.Fprintf(c.stdout, "The browser's copy in %s is up to date.\n", dir)
			} else {
				fmt.Fprintf(c.stdout, "ブラウザ用の電子証明書(%s)を最新の状態にしました。\n", dir)
			}
			return nil
		},
	}
}

func (c *cli) deleteCommand() *cobra.Command {
	var ref string
	cmd := &cobra.Command{
		Use:   "delete --id CERT",
		Short: "Delete a certificate and its key from this PC (the bank is not told)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := c.agentFor(cmd.Context(), ref)
			if err != nil {
				return err
			}
			id, err := c.choose(cmd.Context(), a, ref)
			if err != nil {
				return err
			}
			if err := a.Delete(cmd.Context(), id.Fingerprint); err != nil {
				return err
			}
			if c.jsonOut {
				c.printJSON(map[string]any{"deleted": id.Fingerprint})
			} else {
				fmt.Fprintf(c.stdout, c.say("%s を削除しました（拇印 %s）\n", "deleted %s (%s)\n"), id.Label, id.Fingerprint)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&ref, "id", "", "the certificate: fingerprint, its first 8+ digits, or label")
	_ = cmd.MarkFlagRequired("id")
	return cmd
}

func (c *cli) adminCommand() *cobra.Command {
	var s sessionFlags
	admin := &cobra.Command{
		Use:   "admin",
		Short: "Manage the contract's users and their certificates (管理者ID)",
	}
	s.register(admin.PersistentFlags())

	// withSession logs in, runs do, and logs out whatever happened.
	withSession := func(do func(ctx context.Context, a *agent.Agent, sess *agent.Session) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, _ []string) (err error) {
			a, err := c.sessionAgent(cmd.Context(), s)
			if err != nil {
				return err
			}
			sess, err := c.login(cmd.Context(), a, s)
			if err != nil {
				return err
			}
			defer func() {
				if lerr := a.Logout(context.WithoutCancel(cmd.Context()), sess); err == nil {
					err = lerr
				}
			}()
			return do(cmd.Context(), a, sess)
		}
	}
	showUser := func(u *wire.User) {
		if c.jsonOut {
			c.printJSON(u)
			return
		}
		c.printUser(*u)
	}

	users := &cobra.Command{
		Use: "users", Short: "List the contract's users with the state of their certificates", Args: cobra.NoArgs,
		RunE: withSession(func(ctx context.Context, a *agent.Agent, sess *agent.Session) error {
			us, err := a.Users(ctx, sess)
			if err != nil {
				return err
			}
			if c.jsonOut {
				c.printJSON(us)
				return nil
			}
			for _, u := range us {
				c.printUser(u)
			}
			return nil
		}),
	}

	var req wire.CreateUserRequest
	var role string
	create := &cobra.Command{
		Use: "create-user LOGIN_ID --role approver|general", Short: "Create an approver (承認者) or general (一般者) ID",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.LoginID, req.Role = args[0], wire.Role(role)
			return withSession(func(ctx context.Context, a *agent.Agent, sess *agent.Session) error {
				pw, err := c.password(c.say(req.LoginID+" の初期ログインパスワード", "initial login password for "+req.LoginID))
				if err != nil {
					return err
				}
				req.Password = pw
				u, err := a.CreateUser(ctx, sess, req)
				if err != nil {
					return err
				}
				showUser(u)
				return nil
			})(cmd, args)
		},
	}
	create.Flags().StringVar(&role, "role", string(wire.RoleGeneral), "approver or general")
	create.Flags().StringVar(&req.DisplayName, "name", "", "display name")
	create.Flags().StringVar(&req.Email, "email", "", "e-mail address for expiry notices")
	create.Flags().BoolVar(&req.IssueCertificate, "issue", false, "issue the certificate at once (opens the 80-day pickup window)")

	var generate bool
	setPassword := &cobra.Command{
		Use:   "set-password LOGIN_ID [--generate]",
		Short: "Reset (パスワード再設定) an approver's or general ID's login password: it also unlocks the ID and ends its sessions",
		Long: `Reset the login password of an approver or general ID of the contract. The
new password comes after the admin's own (from the prompt, --password-file or
--password-stdin), or, with --generate, is made here and printed once: hand it
to its user in person or by telephone, never by e-mail. The ID is unlocked and
its sessions end. An admin ID's password is reset by the bank.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			return withSession(func(ctx context.Context, a *agent.Agent, sess *agent.Session) error {
				var pw string
				var err error
				if generate {
					pw, err = agent.NewPassword()
				} else {
					pw, err = c.password(c.say(id+" の新しいログインパスワード", "new login password for "+id))
				}
				if err != nil {
					return err
				}
				u, err := a.SetPassword(ctx, sess, id, pw)
				if err != nil {
					return err
				}
				switch {
				case c.jsonOut && generate:
					c.printJSON(map[string]any{"user": u, "password": pw})
				case c.jsonOut:
					c.printJSON(u)
				default:
					c.printUser(*u)
					if generate {
						fmt.Fprintf(c.stdout, c.say("新しいログインパスワード: %s\n（ご本人に直接、手渡しや電話でお伝えください。メールでは送らないでください。）\n",
							"new login password: %s\n(give it to them in person or by telephone, never by e-mail)\n"), pw)
					}
				}
				return nil
			})(cmd, args)
		},
	}
	setPassword.Flags().BoolVar(&generate, "generate", false, "make the new password here (three groups of four letters and digits) and print it once")

	perUser := func(use, short string, act func(context.Context, *agent.Agent, *agent.Session, string) (*wire.User, error)) *cobra.Command {
		return &cobra.Command{
			Use: use + " LOGIN_ID", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withSession(func(ctx context.Context, a *agent.Agent, sess *agent.Session) error {
					u, err := act(ctx, a, sess, args[0])
					if err != nil {
						return err
					}
					if u != nil {
						showUser(u)
					} else if c.jsonOut {
						c.printJSON(map[string]any{"deleted": args[0]})
					} else {
						fmt.Fprintf(c.stdout, c.say("%s を削除しました\n", "deleted %s\n"), args[0])
					}
					return nil
				})(cmd, args)
			},
		}
	}
	admin.AddCommand(users, create,
		perUser("delete-user", "Delete an ID (its certificate is revoked)", func(ctx context.Context, a *agent.Agent, s *agent.Session, id string) (*wire.User, error) {
			return nil, a.DeleteUser(ctx, s, id)
		}),
		perUser("issue", "Issue (発行) a certificate: opens an 80-day pickup window", func(ctx context.Context, a *agent.Agent, s *agent.Session, id string) (*wire.User, error) {
			return a.IssueCertificate(ctx, s, id)
		}),
		perUser("revoke", "Revoke (失効) an ID's certificate at once", func(ctx context.Context, a *agent.Agent, s *agent.Session, id string) (*wire.User, error) {
			return a.RevokeCertificate(ctx, s, id)
		}),
		perUser("reissue", "Reissue (再発行): revoke what exists and open a new pickup window", func(ctx context.Context, a *agent.Agent, s *agent.Session, id string) (*wire.User, error) {
			return a.ReissueCertificate(ctx, s, id)
		}),
		perUser("unlock", "Unlock (ロック解除) an approver or general ID locked after wrong passwords", func(ctx context.Context, a *agent.Agent, s *agent.Session, id string) (*wire.User, error) {
			return a.UnlockUser(ctx, s, id)
		}),
		setPassword,
	)
	return admin
}

// printUser writes one user as a line of text.
func (c *cli) printUser(u wire.User) {
	line := fmt.Sprintf("%-16s %-9s %-12s", u.LoginID, u.Role, u.Certificate.State)
	if u.Certificate.NotAfter != nil {
		line += c.say(" 有効期限 ", " expires ") + u.Certificate.NotAfter.Local().Format("2006-01-02")
	}
	if u.Certificate.PickupDeadline != nil && u.Certificate.State == wire.CertAwaitingPickup {
		line += c.say(" 取得期限 ", " pick up by ") + u.Certificate.PickupDeadline.Local().Format("2006-01-02")
	}
	if u.Locked {
		line += c.say(" ロック中", " LOCKED")
	}
	fmt.Fprintln(c.stdout, line)
}

// saveRetries is how often a command tries again to save a certificate that was
// issued but not saved, and saveRetryWait how long it waits first: the agent keeps
// the key only while this process runs, so the command retries before it ends.
var (
	saveRetries   = 2
	saveRetryWait = time.Second
)

// saving runs a pickup or renewal; when the certificate was issued but not saved,
// it tries again with the kept key, and when that keeps failing it reports the
// key as lost, since it ends with this process.
func (c *cli) saving(ctx context.Context, enroll func() (*agent.Identity, error)) (*agent.Identity, error) {
	for try := 0; ; try++ {
		id, err := enroll()
		var notSaved *agent.NotSavedError
		if !errors.As(err, &notSaved) {
			return id, err
		}
		if try == saveRetries {
			lost := *notSaved
			lost.KeyLost = true
			return nil, &lost
		}
		fmt.Fprintf(c.stderr, c.say("inkanctl: 電子証明書を保存できませんでした。もう一度保存します（再試行 %[2]d/%[3]d）。詳細: %[1]s\n", "inkanctl: %s (retrying, %d/%d)\n"), err, try+1, saveRetries)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(saveRetryWait):
		}
	}
}

func (c *cli) doctorCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check every step a pickup and a browser login take on this PC (動作環境チェック)",
		Long: `doctor runs, with throw-away keys and certificates that it removes again, every
step a pickup and a browser login take in this PC's certificate store, with the
key type the bank asks for: on Windows creating a persisted CNG key, signing,
reopening it by name, finding it the way Edge and Chrome do
(CryptAcquireCertificatePrivateKey) and signing, importing a key the way
restore does, and deleting; elsewhere the store's key and the browser's NSS
copy. Before that it checks each configured bank's server (or only --bank's):
that this PC reaches it, that its TLS certificate is from the bank's own CA,
that the CA it publishes is the configured one and in validity, and which key
the bank asks for. Each step prints 成功 or 失敗 with the call and its status,
under a heading for each bank; copy the report for the bank's help desk. The
exit status is 4 when a step failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := c.banks()
			if err != nil {
				return err
			}
			var r *agent.DoctorReport
			if c.bank != "" {
				a, err := b.Bank(c.bank)
				if err != nil {
					return err
				}
				r = a.Doctor(cmd.Context())
			} else {
				r = b.Doctor(cmd.Context())
			}
			if c.jsonOut {
				c.printJSON(r)
			} else {
				fmt.Fprint(c.stdout, r.Text(c.lang))
			}
			if !r.OK() {
				return agent.ErrSelfCheckFailed
			}
			return nil
		},
	}
}
