package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/server/store/postgres"
	"github.com/inkan-dev/inkan/server/store/transfer"
)

func (c *cli) dbMigrateCmd() *cobra.Command {
	var from, to, passFile string
	cmd := &cobra.Command{
		Use:   "migrate [--data DIR] [--from sqlite:PATH] --to postgres://...",
		Short: "Move every record from SQLite into an empty PostgreSQL database, checked by row counts and the CRL",
		Long: `Copies every table of the SQLite database (default: inkan.db in --data) into an
empty PostgreSQL database in one transaction, then checks the row count of
every table and the CRL's entries and number on both sides. With --data it also
signs the CRL from each database and compares them. Stop every serve on the
SQLite database first; afterwards set database.url in config.json (or pass
--db) and start the servers on PostgreSQL. The password comes from
--db-password-file, PGPASSWORD or PGPASSFILE, never from the URL.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := c.migrateSource(from)
			if err != nil {
				return err
			}
			if !postgres.IsURL(to) {
				return errors.New("--to: 移行先を postgres:// の URL で指定してください / give the target as a postgres:// URL")
			}
			if postgres.URLHasPassword(to) {
				return errors.New("--to: URL にパスワードを含めないでください / the URL must not carry the password: use --db-password-file FILE, PGPASSWORD or PGPASSFILE")
			}
			target := server.DatabaseConfig{URL: to, PasswordFile: c.dbPasswordFile}
			ctx := cmd.Context()
			var before []byte
			if c.dataDir != "" {
				if before, err = c.crlFrom(ctx, server.DatabaseConfig{}, passFile); err != nil {
					return fmt.Errorf("sign the CRL from SQLite: %w", err)
				}
			}
			rep, err := transfer.SQLiteToPostgres(ctx, path, to, postgres.Options{PasswordFile: c.dbPasswordFile})
			if err != nil {
				return fmt.Errorf("migrate %s to %s: %w", path, postgres.Redact(to), err)
			}
			var b strings.Builder
			fmt.Fprintf(&b, "migrated %s to %s\n%-14s %10s %10s\n", path, postgres.Redact(to), "TABLE", "SQLITE", "POSTGRESQL")
			for _, t := range transfer.Tables {
				fmt.Fprintf(&b, "%-14s %10d %10d\n", t, rep.Source[t], rep.Target[t])
			}
			fmt.Fprintf(&b, "CRL number %d on both; CRL entries identical\n", rep.CRLNumber)
			if c.dataDir != "" {
				after, err := c.crlFrom(ctx, target, passFile)
				if err != nil {
					return fmt.Errorf("sign the CRL from PostgreSQL: %w", err)
				}
				same, err := sameCRL(before, after)
				if err != nil {
					return err
				}
				if same {
					fmt.Fprintf(&b, "PostgreSQL serves the very CRL SQLite served, byte for byte\n")
				} else {
					fmt.Fprintf(&b, "signed CRLs from SQLite and PostgreSQL list the same certificates, the number growing on\n")
				}
			}
			fmt.Fprintf(&b, "next: set \"database\": {\"url\": %q} in config.json (or serve --db) and start the servers\n", postgres.Redact(to))
			return c.print(map[string]any{"from": path, "to": postgres.Redact(to), "source": rep.Source, "target": rep.Target, "crl_number": rep.CRLNumber}, b.String())
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "sqlite:PATH of the database to move (default inkan.db in --data)")
	cmd.Flags().StringVar(&to, "to", "", "postgres:// URL of the new, empty database")
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "file holding the CA keys' passphrase, to sign the CRLs compared with --data (else $"+passphraseEnv+" or a prompt)")
	return cmd
}

// migrateSource is the SQLite file --from names, or --data's.
func (c *cli) migrateSource(from string) (string, error) {
	if from == "" {
		if c.dataDir == "" {
			return "", errors.New("--from sqlite:PATH or --data DIR is required: the SQLite database to move")
		}
		return filepath.Join(c.dataDir, server.DatabaseFile), nil
	}
	path, ok := strings.CutPrefix(from, "sqlite:")
	if !ok || path == "" {
		return "", fmt.Errorf("--from %q: 移行元は sqlite:PATH の形で指定してください / give the source as sqlite:PATH", from)
	}
	if c.dataDir != "" && filepath.Clean(path) != filepath.Join(c.dataDir, server.DatabaseFile) {
		return "", fmt.Errorf("--from %s is not the database of --data %s: drop one of them", path, c.dataDir)
	}
	return path, nil
}

// crlFrom signs the CRL of --data's bank from database d (empty: SQLite),
// with the issuing CA key unlocked by the passphrase of passFile, the
// environment or a prompt.
func (c *cli) crlFrom(ctx context.Context, d server.DatabaseConfig, passFile string) ([]byte, error) {
	s, err := server.Open(c.dataDir, server.Options{Database: d, Passphrase: c.passphrase(passFile, false)})
	if err != nil {
		return nil, err
	}
	defer s.Shutdown(context.Background())
	if err := s.Unlock(); err != nil {
		return nil, err
	}
	return s.CRL(ctx)
}

// sameCRL compares the CRL served from SQLite before the copy with the one
// served from PostgreSQL after it: the stored CRL itself, which came across
// (same is true), or one signed afresh under a greater number (every CRL
// signed takes a new number, which the copy carried over) with the same
// entries.
func sameCRL(a, b []byte) (same bool, err error) {
	x, err := x509.ParseRevocationList(a)
	if err != nil {
		return false, err
	}
	y, err := x509.ParseRevocationList(b)
	if err != nil {
		return false, err
	}
	if y.Number.Cmp(x.Number) == 0 && bytes.Equal(a, b) {
		return true, nil
	}
	if y.Number.Cmp(x.Number) <= 0 {
		return false, fmt.Errorf("the CRL from PostgreSQL has number %s, SQLite's %s, and they differ: the CRL number did not come across", y.Number, x.Number)
	}
	if len(x.RevokedCertificateEntries) != len(y.RevokedCertificateEntries) {
		return false, fmt.Errorf("the CRL from PostgreSQL lists %d certificates, SQLite's %d", len(y.RevokedCertificateEntries), len(x.RevokedCertificateEntries))
	}
	for i, e := range x.RevokedCertificateEntries {
		f := y.RevokedCertificateEntries[i]
		if e.SerialNumber.Cmp(f.SerialNumber) != 0 || !e.RevocationTime.Equal(f.RevocationTime) || e.ReasonCode != f.ReasonCode || !bytes.Equal(e.Raw, f.Raw) {
			return false, fmt.Errorf("CRL entry %d differs: %x at %s in SQLite, %x at %s in PostgreSQL", i, e.SerialNumber, e.RevocationTime, f.SerialNumber, f.RevocationTime)
		}
	}
	return false, nil
}
