package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/inkan-dev/inkan/server"
)

// errNeedsAttention ends status (exit 1) when something needs the operator,
// so that a monitoring job can run it.
var errNeedsAttention = errors.New("the data directory needs the operator's attention (対応が必要です): see above")

func (c *cli) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status --data DIR",
		Short: "Check what will lapse (root CRL, issuing CA, TLS certificate) and what an older data directory lacks; exit 1 when something needs the operator",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if c.dataDir == "" {
				return errors.New("--data is required")
			}
			h, err := server.CheckHealth(c.dataDir, time.Now())
			if err != nil {
				return fmt.Errorf("check %s: %w", c.dataDir, err)
			}
			var b strings.Builder
			for _, i := range h.Items {
				mark := map[string]string{server.HealthOK: "OK  ", server.HealthWarn: "WARN", server.HealthError: "ERR "}[i.Level]
				fmt.Fprintf(&b, "%s %s\n     %s\n", mark, i.Ja, i.En)
				if i.Fix != "" {
					fmt.Fprintf(&b, "     → %s\n", i.Fix)
				}
			}
			if err := c.print(h, b.String()); err != nil {
				return err
			}
			if len(h.Problems()) > 0 {
				return errNeedsAttention
			}
			return nil
		},
	}
}

func (c *cli) upgradeCmd() *cobra.Command {
	var opts server.UpgradeOptions
	var passFile string
	cmd := &cobra.Command{
		Use:   "upgrade --data DIR [--apply] [--revocation-url http://HOST[:PORT]] [--policy-oid OID] [--rollover] [--root-key PATH]",
		Short: "Bring a data directory made by an older inkan-server up to date: shows what it lacks and what you must decide; --apply does it",
		Long: `upgrade finds what a data directory made by an older inkan-server init lacks
(revocation_url and http_addr, certificate_policy_oid, the defaults of newer settings,
tls.pem, encrypted CA keys, a root CRL, an issuing CA that names the root CRL), says what
each means and what only the bank can decide, and with --apply does what it was given.
Without --apply it changes nothing. Start serve again afterwards: a running serve goes
on with what it loaded.
config.json is kept as config.json.before-upgrade-TIME.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if c.dataDir == "" {
				return errors.New("--data is required")
			}
			if c.passphraseAtHand(passFile) {
				pass := c.passphrase(passFile, false)
				opts.Passphrase = func() ([]byte, error) {
					p, err := pass()
					if err == nil && len(p) < minPassphrase {
						return nil, fmt.Errorf("the CA key passphrase is %d characters: give at least %d (パスフレーズが短すぎます)", len(p), minPassphrase)
					}
					return p, err
				}
			}
			steps, err := server.Upgrade(c.dataDir, opts)
			if err != nil {
				return err
			}
			return c.printUpgrade(steps, opts.Apply)
		},
	}
	cmd.Flags().BoolVar(&opts.Apply, "apply", false, "do the steps (without it, upgrade only says what it would do)")
	cmd.Flags().StringVar(&opts.RevocationURL, "revocation-url", "", "the public http:// base URL of CRL, OCSP and CA certificates, written into every certificate from now on")
	cmd.Flags().StringVar(&opts.HTTPAddr, "http-addr", "", "where serve's plain-HTTP revocation listener listens (default the revocation URL's port)")
	cmd.Flags().StringVar(&opts.PolicyOID, "policy-oid", "", "the OID of the bank's certificate policy, written into every certificate from now on")
	cmd.Flags().BoolVar(&opts.Demo, "demo", false, "a demo directory: allows a loopback revocation URL (default http://"+server.DemoHTTPAddr+") and an example policy OID")
	cmd.Flags().BoolVar(&opts.Rollover, "rollover", false, "make a new issuing CA when the current one is of the old kind (needs the root key)")
	cmd.Flags().StringVar(&opts.RootKeyPath, "root-key", "", "the root CA key (default DIR/offline/root-ca.key)")
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "file holding the CA key passphrase: encrypts keys still in clear, opens an encrypted root key (else $"+passphraseEnv+" or a prompt)")
	return cmd
}

// passphraseAtHand reports whether a passphrase can be had: from file, the
// environment or a prompt on the terminal.
func (c *cli) passphraseAtHand(file string) bool {
	if file != "" || os.Getenv(passphraseEnv) != "" {
		return true
	}
	f, ok := c.in.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (c *cli) printUpgrade(steps []server.UpgradeStep, applied bool) error {
	var b strings.Builder
	pending := server.Pending(steps)
	switch {
	case len(steps) == 0:
		b.WriteString("このデータディレクトリは最新です。何もしませんでした。\nThe data directory is up to date: nothing to do.\n")
	default:
		for _, s := range steps {
			mark := "TODO"
			switch {
			case s.Done:
				mark = "DONE"
			case s.Needs == "" && !applied:
				mark = "PLAN" // --apply does it
			}
			fmt.Fprintf(&b, "[%s] %s\n       %s\n", mark, s.Ja, s.En)
			if s.Needs != "" {
				fmt.Fprintf(&b, "       needs: %s\n", s.Needs)
			}
		}
		switch {
		case !applied:
			b.WriteString("\n何も変更していません。PLAN の項目は --apply で行います。TODO の項目には needs の指定が必要です。\nNothing was changed: --apply does the PLAN steps; each TODO needs what it says.\n")
		case len(pending) > 0:
			fmt.Fprintf(&b, "\n%d件が残っています（needs を指定してもう一度 upgrade --apply）。serve を起動し直してください。\n%d steps remain: give what they need and run upgrade --apply again. Start serve again.\n", len(pending), len(pending))
		default:
			b.WriteString("\nアップグレードが終わりました。serve を起動し直してください。ルート鍵はオフラインの保管場所へ移してください。\nThe upgrade is done. Start serve again; move the root key to offline storage.\n")
		}
	}
	if err := c.print(map[string]any{"applied": applied, "steps": steps, "pending": len(pending)}, b.String()); err != nil {
		return err
	}
	if applied && len(pending) > 0 {
		return fmt.Errorf("%d upgrade steps remain (残りがあります)", len(pending))
	}
	return nil
}
