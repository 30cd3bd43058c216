package main

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/server/ca"
	"github.com/inkan-dev/inkan/server/store/postgres"
)

// cli carries what every command shares: the streams, --data and --json.
type cli struct {
	in       io.Reader
	out, err io.Writer
	dataDir  string
	json     bool
	// db and dbPasswordFile are --db and --db-password-file.
	db, dbPasswordFile string
	// closers end what a command opened, such as the HSM session.
	closers []func() error
	// shiftDays is --demo-shift-days: a demo data directory's clock, that many
	// days from today (see demoClock).
	shiftDays int
}

func newRoot(in io.Reader, out, errOut io.Writer) *cobra.Command {
	c := &cli{in: in, out: out, err: errOut}
	root := &cobra.Command{
		Use:           "inkan-server",
		Short:         "The bank's Inkan certificate server and its operator CLI",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	root.PersistentFlags().StringVar(&c.dataDir, "data", "", "the server's data directory (CA, config.json, inkan.db)")
	root.PersistentFlags().BoolVar(&c.json, "json", false, "print results as JSON")
	root.PersistentFlags().StringVar(&c.db, "db", "", "a postgres:// URL to use instead of the config file's database (the password from --db-password-file, PGPASSWORD or PGPASSFILE, never in the URL)")
	root.PersistentFlags().StringVar(&c.dbPasswordFile, "db-password-file", "", "a file whose first line is the PostgreSQL password")
	root.PersistentFlags().IntVar(&c.shiftDays, "demo-shift-days", 0, "demo data directories only (init --demo): act as if today were this many days from now (negative: in the past), so that a demo can hold certificates picked up long ago (scripts/run.sh --scenario all-states)")
	root.PersistentPostRunE = func(*cobra.Command, []string) error { return c.close() }
	root.AddCommand(c.initCmd(), c.serveCmd(), c.contractCmd(), c.userCmd(), c.certCmd(), c.demoCmd(), c.agentConfigCmd(), c.tlsCmd(), c.dbCmd(), c.caCmd(), c.statusCmd(), c.upgradeCmd())
	return root
}

// open opens the data directory for an operator command.
func (c *cli) open() (*server.Server, error) {
	if c.dataDir == "" {
		return nil, errors.New("--data is required")
	}
	return c.openWith(server.Options{})
}

// openWith opens the data directory with opts and the database --db names.
func (c *cli) openWith(opts server.Options) (*server.Server, error) {
	d, err := c.database()
	if err != nil {
		return nil, err
	}
	opts.Database = d
	if c.shiftDays != 0 {
		if opts.Now, err = c.demoClock(); err != nil {
			return nil, err
		}
	}
	if opts.IssuingSigner == nil {
		key, err := c.openIssuingKey()
		if err != nil {
			return nil, err
		}
		if key != nil {
			opts.IssuingSigner = key
		}
	}
	if opts.RetiredSigner == nil {
		opts.RetiredSigner = func(uri string) (crypto.Signer, error) { return c.openKey(uri) }
	}
	return server.Open(c.dataDir, opts)
}

// demoClock is the clock --demo-shift-days asks for: today moved by that many
// days. A bank's server never runs on a shifted clock, so it is refused unless
// the data directory is a demo's: one whose certificates name a revocation URL
// on this machine, which only init --demo allows.
func (c *cli) demoClock() (func() time.Time, error) {
	cfg, err := server.LoadConfig(filepath.Join(c.dataDir, server.ConfigFile))
	if err != nil {
		return nil, err
	}
	if !ca.IsLoopback(cfg.RevocationURL) {
		return nil, fmt.Errorf("--demo-shift-days: %s is not a demo data directory (init --demo): a bank's server runs on the real clock / デモ用のデータディレクトリ以外では時計をずらせません", c.dataDir)
	}
	return shiftedClock(c.shiftDays), nil
}

// shiftedClock is the wall clock moved by days.
func shiftedClock(days int) func() time.Time {
	shift := time.Duration(days) * 24 * time.Hour
	return func() time.Time { return time.Now().Add(shift) }
}

// database is what --db and --db-password-file ask for; a password in the
// URL is refused, since every user of the machine can read a command line.
func (c *cli) database() (server.DatabaseConfig, error) {
	if c.db == "" {
		if c.dbPasswordFile != "" {
			return server.DatabaseConfig{}, errors.New("--db-password-file needs --db with a postgres:// URL")
		}
		return server.DatabaseConfig{}, nil
	}
	if !postgres.IsURL(c.db) {
		return server.DatabaseConfig{}, fmt.Errorf("--db %q: データベースは postgres:// の URL で指定してください / give a postgres:// URL; SQLite needs no --db, it is inkan.db in --data", postgres.Redact(c.db))
	}
	if postgres.URLHasPassword(c.db) {
		return server.DatabaseConfig{}, errors.New("--db: URL にパスワードを含めないでください / the URL must not carry the password, which any user of this machine could read on the command line: use --db-password-file FILE, PGPASSWORD or PGPASSFILE")
	}
	return server.DatabaseConfig{URL: c.db, PasswordFile: c.dbPasswordFile}, nil
}

// withServer opens the data directory, runs fn and closes it.
func (c *cli) withServer(fn func(*server.Server) error) error {
	s, err := c.open()
	if err != nil {
		return err
	}
	return errors.Join(fn(s), s.Shutdown(context.Background()))
}

// print writes v as JSON with --json, else the human text.
func (c *cli) print(v any, human string) error {
	if c.json {
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := io.WriteString(c.out, human)
	return err
}

// readPassword takes a password from --password-file, from stdin with
// --password-stdin, or from a prompt on the terminal; never from argv.
func (c *cli) readPassword(file string, fromStdin bool) (string, error) {
	switch {
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read password file: %w", err)
		}
		return strings.TrimRight(string(data), "\r\n"), nil
	case fromStdin:
		data, err := io.ReadAll(io.LimitReader(c.in, 4096))
		if err != nil {
			return "", fmt.Errorf("read password from stdin: %w", err)
		}
		return strings.TrimRight(string(data), "\r\n"), nil
	}
	f, ok := c.in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("no password: use --password-file FILE, --password-stdin, or run on a terminal to be prompted")
	}
	fmt.Fprint(c.err, "Password: ")
	first, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.err)
	if err != nil {
		return "", err
	}
	fmt.Fprint(c.err, "Again: ")
	second, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.err)
	if err != nil {
		return "", err
	}
	if string(first) != string(second) {
		return "", errors.New("the two passwords differ")
	}
	return string(first), nil
}
