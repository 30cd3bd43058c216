package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
)

// Exit statuses, as "inkanctl --help" and docs/agent.md list them.
const (
	exitOK       = 0
	exitUsage    = 1 // bad command line or input refused locally (e.g. a weak backup password)
	exitRefused  = 2 // the bank's server refused (wrong password, revoked, outside a window...)
	exitNetwork  = 3 // the server could not be reached, or TLS failed
	exitStore    = 4 // the certificate store failed, or has no such certificate
	exitConfig   = 5 // the configuration file is missing or wrong
	exitCanceled = 6 // interrupted
	exitOther    = 7 // anything else
)

const exitHelp = `Exit status:
  0  success
  1  usage error, or input refused on this PC (a weak or wrong backup password,
     a damaged backup file)
  2  refused by the bank's server (wrong password, revoked, outside a window, ...)
  3  network or TLS failure (server unreachable or not trusted)
  4  certificate store failure, or no such certificate on this PC
  5  configuration missing or wrong
  6  interrupted
  7  anything else

Passwords are never taken from the command line: they come from a prompt, from
--password-file (one password per line) or from --password-stdin (one per line).
Commands that need two (backup on a prompt asks twice; admin create-user takes
the admin's login password, then the new user's) read them in that order.
`

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// cli holds the global flags and the streams of one run.
type cli struct {
	configPath    string
	storeKind     string
	stateDir      string
	lang          string
	jsonOut       bool
	passwordFile  string
	passwordStdin bool
	timeout       time.Duration
	browserCopy   bool
	trustRoot     bool
	nssDir        string

	stdin          io.Reader
	stdout, stderr io.Writer
	passwords      []string // lines of --password-file, or read from stdin, in order
	passwordsRead  bool
	stdinLines     *bufio.Reader
	started        *agent.Banks // the agents the command started, closed when it ends
	bank           string       // --bank
	flags          *pflag.FlagSet
}

// flagSet reports whether the global flag name was given on the command line.
func (c *cli) flagSet(name string) bool {
	return c.flags != nil && c.flags.Changed(name)
}

// run executes one inkanctl command line and returns its exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr}
	root := c.rootCommand()
	localizeHelp(root, helpLanguage(args))
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if c.started != nil {
		// The browser's copy never fails a command: its problem is a warning.
		var copyErr *agent.BrowserCopyError
		for _, a := range c.started.All() {
			if problem := a.BrowserCopyProblem(); problem != nil && !errors.As(err, &copyErr) {
				fmt.Fprintf(c.stderr, "inkanctl: %s\n", agent.Message(problem, c.lang))
			}
		}
		_ = c.started.Close() // idle connections, and any key kept for a retry this command did not make
	}
	if err == nil {
		return exitOK
	}
	return c.fail(err)
}

// fail reports err in the chosen language (and as JSON with --json) and returns
// its exit status.
func (c *cli) fail(err error) int {
	var ue *usageError
	status := exitOther
	if c.lang == "" {
		// A command line refused before it reached the configuration.
		c.lang = configLanguage(c.configPath)
	}
	c.resolveLanguage()
	lang := c.lang
	msg := ""
	switch {
	case isFlagError(err):
		// cobra's own words are English: a Japanese run says what to do around them.
		status, msg = exitUsage, c.say("コマンドの指定が正しくありません（"+err.Error()+"）。inkanctl --help で使い方を確認してください", err.Error())
	case errors.As(err, &ue):
		status, msg = exitUsage, err.Error()
	default:
		msg = agent.Message(err, lang)
		switch agent.Classify(err) {
		case agent.CategoryRefused:
			status = exitRefused
		case agent.CategoryNetwork:
			status = exitNetwork
		case agent.CategoryStore:
			status = exitStore
		case agent.CategoryConfig:
			status = exitConfig
		case agent.CategoryInput:
			status = exitUsage
		case agent.CategoryCanceled:
			status = exitCanceled
		}
	}
	if c.jsonOut {
		c.printJSON(map[string]any{"error": map[string]any{
			"code": agent.Code(err), "exit_status": status, "message": msg, "detail": err.Error(),
		}})
	}
	fmt.Fprintf(c.stderr, "inkanctl: %s\n", msg)
	if !strings.Contains(msg, err.Error()) {
		fmt.Fprintf(c.stderr, "inkanctl: (%s)\n", err)
	}
	return status
}

// isFlagError recognises cobra's own complaints about the command line.
func isFlagError(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.HasPrefix(s, "unknown flag") ||
		strings.HasPrefix(s, "unknown shorthand flag") || strings.Contains(s, "flag needs an argument") ||
		strings.HasPrefix(s, "invalid argument") || strings.HasPrefix(s, "required flag") ||
		strings.HasPrefix(s, "accepts ") || strings.HasPrefix(s, "requires at least")
}

func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "inkanctl",
		Short: "Pick up, use, renew and back up your bank's login certificates (電子証明書)",
		Long: `inkanctl is the Inkan agent without a GUI. It keeps the client certificates
you log in to your bank's corporate internet banking with (電子証明書方式) in this
PC's certificate store, and talks to the bank's server named in the bank's
configuration file.

` + exitHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	// cobra adds --help only once it runs the command it has found; finding
	// it, it would take `--help --lang en` as a --help with a value and en
	// for a command. Known from the start, --help takes no value.
	root.InitDefaultHelpFlag()
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })
	f := root.PersistentFlags()
	c.flags = f
	f.StringVar(&c.configPath, "config", defaultConfigPath(), "the bank's configuration file (JSON); $INKAN_CONFIG")
	f.StringVar(&c.bank, "bank", "", "the bank, by its four-digit code, when several are configured (default: the only one, or the one of --id's certificate)")
	f.StringVar(&c.storeKind, "store", "", `certificate store: windows, keyring, dir:PATH or memory (default: the configuration's, else the OS default)`)
	f.StringVar(&c.stateDir, "state-dir", "", "directory of the agent's state file (default: inkan under the user's config directory)")
	f.StringVar(&c.lang, "lang", "", `language of progress, results and errors: ja or en (default: the configuration's "language", else the OS's: LC_ALL, LC_MESSAGES or LANG on Unix, the display language on Windows; else ja)`)
	f.BoolVar(&c.jsonOut, "json", false, "write results (and errors) as JSON on stdout")
	f.StringVar(&c.passwordFile, "password-file", "", "read passwords from this file, one per line")
	f.BoolVar(&c.passwordStdin, "password-stdin", false, "read passwords from standard input, one per line")
	f.DurationVar(&c.timeout, "timeout", 0, "timeout of each HTTP attempt (default 30s)")
	f.BoolVar(&c.browserCopy, "browser-copy", false, "copy certificates into the browser's NSS database (default: the configuration's browser_copy, else on for the keyring store on Linux)")
	f.BoolVar(&c.trustRoot, "trust-bank-root", false, "in the browser's copy, also trust the bank's root CA for TLS servers (only if you agree to)")
	f.StringVar(&c.nssDir, "nss-dir", "", "the browser's NSS database for --browser-copy (default ~/.pki/nssdb)")
	root.AddCommand(c.pickupCommand(), c.listCommand(), c.loginCommand(), c.renewCommand(), c.statusCommand(),
		c.backupCommand(), c.restoreCommand(), c.deleteCommand(), c.browserCopyCommand(), c.adminCommand(), c.doctorCommand(), c.bankCommand(), c.uninstallCommand())
	return root
}

// defaultConfigPath is $INKAN_CONFIG, else inkan/bank.json under the user's config directory.
func defaultConfigPath() string {
	if p := os.Getenv("INKAN_CONFIG"); p != "" {
		return p
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "bank.json"
	}
	return filepath.Join(dir, "inkan", "bank.json")
}

// bankDir is where the bank configurations live: banks/ beside the
// configuration file (~/.config/inkan/banks by default).
func (c *cli) bankDir() string { return bankDirOf(c.configPath) }

// bankDirOf is the banks/ folder beside the configuration file path.
func bankDirOf(path string) string { return filepath.Join(filepath.Dir(path), "banks") }

// banks loads every bank configuration (banks/*.json, and the single
// configuration file of earlier versions), opens the store and starts the agent
// of each bank.
func (c *cli) banks() (*agent.Banks, error) {
	if c.started != nil {
		return c.started, nil
	}
	if c.lang != "" && c.lang != "ja" && c.lang != "en" {
		return nil, &usageError{fmt.Sprintf("--lang %q: ja または en を指定してください (use ja or en)", c.lang)}
	}
	cfgs, err := agent.LoadBanks(c.bankDir(), c.configPath)
	if err != nil {
		return nil, err
	}
	if len(cfgs) == 0 {
		// No bank: say so as for the single configuration file of old, which is missing.
		if _, err := agent.LoadConfig(c.configPath); err != nil {
			return nil, err
		}
		return nil, &agent.ConfigError{Problem: "no bank is configured", Fix: "add the configuration file your bank sent: inkanctl bank add FILE"}
	}
	first := cfgs[0]
	if c.lang == "" {
		c.lang = first.Language
	}
	c.resolveLanguage()
	kind := c.storeKind
	if kind == "" {
		kind = first.Store
	}
	if kind == "" {
		kind = certstore.DefaultKind()
	}
	store, err := certstore.Open(kind)
	if err != nil {
		return nil, fmt.Errorf("open certificate store: %w", err)
	}
	for i := range cfgs {
		if c.flagSet("browser-copy") {
			cfgs[i].BrowserCopy = &c.browserCopy
		}
		if c.flagSet("trust-bank-root") {
			cfgs[i].TrustBankRoot = c.trustRoot
		}
	}
	b, err := agent.NewBanks(cfgs, store, agent.Options{StateDir: c.stateDir, HTTPTimeout: c.timeout, NSSDir: c.nssDir})
	if err != nil {
		return nil, err
	}
	c.started = b
	return b, nil
}

// agent is the agent of the bank the command is for: --bank, else the only
// bank configured.
func (c *cli) agent() (*agent.Agent, error) {
	return c.agentFor(context.Background(), "")
}

// agentFor is the agent of the bank of the certificate ref (a label
// <loginID>+<bankCode> or a fingerprint) when --bank is not given and several
// banks are configured.
func (c *cli) agentFor(ctx context.Context, ref string) (*agent.Agent, error) {
	b, err := c.banks()
	if err != nil {
		return nil, err
	}
	if c.bank != "" || len(b.All()) == 1 {
		return b.Bank(c.bank)
	}
	if i := strings.LastIndex(ref, "+"); i >= 0 {
		return b.Bank(ref[i+1:])
	}
	if ref != "" {
		for _, a := range b.All() {
			if _, err := c.choose(ctx, a, ref); err == nil {
				return a, nil
			}
		}
		return nil, fmt.Errorf("certificate %q: %w", ref, agent.ErrNoIdentity)
	}
	_, err = b.Bank("")
	return nil, &usageError{err.Error() + c.say("：--bank で金融機関コードを指定してください", ": use --bank CODE")}
}

// agentForLoginID is the agent of --bank, else of the bank loginID belongs to:
// the only bank, or the only one whose form of login ID fits it
// (agent.Banks.ForLoginID). The password then goes to that bank alone.
func (c *cli) agentForLoginID(loginID string) (*agent.Agent, error) {
	b, err := c.banks()
	if err != nil {
		return nil, err
	}
	if c.bank != "" {
		return b.Bank(c.bank)
	}
	a, err := b.ForLoginID(loginID)
	switch {
	case errors.Is(err, agent.ErrChooseBank):
		return nil, &usageError{err.Error() + c.say("：--bank で金融機関コードを指定してください", ": use --bank CODE")}
	case errors.Is(err, agent.ErrNoBankForID):
		return nil, &usageError{err.Error() + c.say("：お客様IDを確かめるか、--bank で金融機関コードを指定してください", ": check the login ID, or use --bank CODE")}
	}
	return a, err
}

// sessionAgent is the agent a session of s opens at: by the certificate
// (agentFor), or by the login ID for ID・パスワード方式.
func (c *cli) sessionAgent(ctx context.Context, s sessionFlags) (*agent.Agent, error) {
	if s.loginID != "" && s.id == "" {
		return c.agentForLoginID(s.loginID)
	}
	return c.agentFor(ctx, s.id)
}

// password returns the next password: the next line of --password-file or
// --password-stdin, or what the person types at a prompt without echo.
func (c *cli) password(prompt string) (string, error) {
	switch {
	case c.passwordFile != "" && c.passwordStdin:
		return "", &usageError{c.say("--password-file と --password-stdin はどちらか一方だけ指定してください", "use --password-file or --password-stdin, not both")}
	case c.passwordFile != "":
		if !c.passwordsRead {
			data, err := os.ReadFile(c.passwordFile)
			if err != nil {
				return "", &usageError{fmt.Sprintf(c.say("--password-file を読めません: %v", "--password-file: %v"), err)}
			}
			c.passwords = strings.Split(strings.TrimRight(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n"), "\n")
			c.passwordsRead = true
		}
		if len(c.passwords) == 0 {
			return "", &usageError{fmt.Sprintf(c.say("--password-file %s の行が足りません（%s）", "--password-file %s: not enough lines (%s)"), c.passwordFile, prompt)}
		}
		p := c.passwords[0]
		c.passwords = c.passwords[1:]
		return p, nil
	case c.passwordStdin:
		if c.stdinLines == nil {
			c.stdinLines = bufio.NewReader(c.stdin)
		}
		line, err := c.stdinLines.ReadString('\n')
		if line == "" && err != nil {
			return "", &usageError{fmt.Sprintf(c.say("--password-stdin: %s の行がありません", "--password-stdin: no line for %s"), prompt)}
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	f, ok := c.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", &usageError{fmt.Sprintf(c.say("%s: 端末ではないため入力できません。--password-file または --password-stdin を使ってください", "%s: not a terminal; use --password-file or --password-stdin"), prompt)}
	}
	fmt.Fprintf(c.stderr, "%s: ", prompt)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(b), nil
}

// newPassword asks for a new password and its confirmation: twice at a prompt,
// once from a file or stdin.
func (c *cli) newPassword(prompt string) (string, string, error) {
	p, err := c.password(prompt)
	if err != nil || c.passwordFile != "" || c.passwordStdin {
		return p, p, err
	}
	confirm, err := c.password(prompt + c.say("（確認のためもう一度）", " (again)"))
	return p, confirm, err
}

// printJSON writes v as indented JSON on stdout.
func (c *cli) printJSON(v any) {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// choose finds the identity the person named with --id (a fingerprint, a prefix of
// one of at least 8 digits, or a label "<loginID>+<bankCode>"), or the one usable
// identity when they named none.
func (c *cli) choose(ctx context.Context, a *agent.Agent, ref string) (*agent.Identity, error) {
	ids, err := a.Identities(ctx)
	if err != nil {
		return nil, err
	}
	if ref == "" {
		if id, ok := agent.AutoChoice(ids); ok {
			return id, nil
		}
		var labels []string
		for _, id := range ids {
			labels = append(labels, fmt.Sprintf("%s (%s, %s)", id.Label, id.State, shortFP(id.Fingerprint)))
		}
		if len(labels) == 0 {
			return nil, fmt.Errorf("choose a certificate: %w", agent.ErrNoIdentity)
		}
		return nil, &usageError{c.say("--id で電子証明書を選んでください: ", "choose a certificate with --id: ") + strings.Join(labels, ", ")}
	}
	var found []*agent.Identity
	for _, id := range ids {
		fp := string(id.Fingerprint)
		if id.Label == ref || fp == strings.ToLower(ref) || (len(ref) >= 8 && strings.HasPrefix(fp, strings.ToLower(ref))) {
			found = append(found, id)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("certificate %q: %w", ref, agent.ErrNoIdentity)
	case 1:
		return found[0], nil
	}
	return nil, &usageError{fmt.Sprintf(c.say("--id %q に当てはまる電子証明書が %d 件あります。拇印で指定してください", "--id %q names %d certificates: give the fingerprint"), ref, len(found))}
}

func shortFP(fp agent.Fingerprint) string {
	if len(fp) > 16 {
		return string(fp[:16])
	}
	return string(fp)
}

// identityJSON is how a certificate is written with --json.
type identityJSON struct {
	Fingerprint  agent.Fingerprint `json:"fingerprint"`
	Label        string            `json:"label"`
	LoginID      string            `json:"login_id"`
	Role         wire.Role         `json:"role"`
	ContractID   string            `json:"contract_id"`
	ContractName string            `json:"contract_name"`
	NotAfter     time.Time         `json:"not_after"`
	DaysLeft     int               `json:"days_left"`
	State        agent.State       `json:"state"`
	LastUsed     *time.Time        `json:"last_used,omitempty"`
	Exportable   bool              `json:"exportable"`
}

func toJSON(id *agent.Identity) identityJSON {
	out := identityJSON{
		Fingerprint: id.Fingerprint, Label: id.Label, LoginID: id.Subject.LoginID, Role: id.Subject.Role,
		ContractID: id.Subject.ContractID, ContractName: id.Subject.ContractName,
		NotAfter: id.NotAfter, DaysLeft: id.DaysLeft, State: id.State, Exportable: id.Exportable,
	}
	if !id.LastUsed.IsZero() {
		lu := id.LastUsed
		out.LastUsed = &lu
	}
	return out
}

func identitiesJSON(ids []*agent.Identity) []identityJSON {
	out := []identityJSON{}
	for _, id := range ids {
		out = append(out, toJSON(id))
	}
	return out
}

// printIdentity writes one certificate as a line of text.
func (c *cli) printIdentity(id *agent.Identity) {
	fmt.Fprintf(c.stdout, c.say("%-24s %-9s %-16s 有効期限 %s（%s）  %s  %s\n", "%-24s %-9s %-16s expires %s (%s)  %s  %s\n"),
		id.Label, id.Subject.Role, id.Subject.ContractName, id.NotAfter.Local().Format("2006-01-02"),
		c.daysLeft(id.DaysLeft), id.State, id.Fingerprint)
}

// daysLeft says how long a certificate has left, or since when it has expired
// (DaysLeft is negative once notAfter has passed).
func (c *cli) daysLeft(days int) string {
	if days < 0 {
		return fmt.Sprintf(c.say("%d 日前に期限切れ", "expired %d days ago"), -days)
	}
	return fmt.Sprintf(c.say("あと %d 日", "%d days left"), days)
}
