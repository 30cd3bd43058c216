// Package nssdb keeps identities in a user's NSS database (the sql: cert9.db and
// key4.db under ~/.pki/nssdb), where Chromium on Linux looks for client
// certificates.
//
// It drives NSS's own tools, certutil and pk12util (Debian libnss3-tools), as
// mkcert's truststore_nss.go does, rather than loading NSS's softoken through a
// PKCS#11 binding: the tools take NSS's own locks on a database a running
// browser has open, need no cgo (the agent still cross-compiles for Windows),
// and a PKCS#12 import is one call that stores key, certificate and chain with
// the nickname NSS uses. The price is parsing certutil's listing, kept to one
// function here.
//
// # What it is not
//
// It decides nothing: which identities belong in the database is the agent's
// business (agent/browser.go). It does not trust any CA unless told to.
package nssdb

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Problems the agent tells the user about; each error of this package that
// the user can fix wraps one of them.
var (
	// ErrToolsMissing: certutil or pk12util is not installed.
	ErrToolsMissing = errors.New("NSS tools (certutil, pk12util) are not installed")
	// ErrLocked: the database is protected by a primary password.
	ErrLocked = errors.New("the NSS database is protected by a primary password")
	// ErrUnusable: the database is missing and cannot be made, or is damaged.
	ErrUnusable = errors.New("the NSS database cannot be used")
)

// DB is one NSS database directory.
type DB struct {
	// Dir is the directory holding cert9.db and key4.db.
	Dir string
}

// DefaultDir is the per-user database that Chromium reads: ~/.pki/nssdb.
func DefaultDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the NSS database: %w", err)
	}
	return filepath.Join(home, ".pki", "nssdb"), nil
}

func (db DB) spec() string { return "sql:" + db.Dir }

// run runs an NSS tool with no terminal to prompt on, and classifies its failure.
func (db DB) run(ctx context.Context, tool string, args ...string) ([]byte, error) {
	path, err := exec.LookPath(tool)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (install libnss3-tools)", tool, ErrToolsMissing)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin = bytes.NewReader(nil)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String() + " " + string(out))
		switch {
		case strings.Contains(msg, "SEC_ERROR_BAD_PASSWORD"), strings.Contains(msg, "Incorrect password"):
			return out, fmt.Errorf("%s %s: %w", tool, db.Dir, ErrLocked)
		case strings.Contains(msg, "SEC_ERROR_BAD_DATABASE"), strings.Contains(msg, "SEC_ERROR_READ_ONLY"):
			return out, fmt.Errorf("%s %s: %w: %s", tool, db.Dir, ErrUnusable, msg)
		}
		return out, fmt.Errorf("%s %s: %v: %s", tool, strings.Join(args[:1], " "), err, msg)
	}
	return out, nil
}

// Ensure makes the database usable: it creates an empty one (no primary
// password, as Chromium would on its first start) when the directory holds
// none, and fails with ErrLocked when it has a primary password.
func (db DB) Ensure(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(db.Dir, "cert9.db")); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(db.Dir, 0o700); err != nil {
			return fmt.Errorf("create the NSS database %s: %w: %v", db.Dir, ErrUnusable, err)
		}
		if _, err := db.run(ctx, "certutil", "-N", "-d", db.spec(), "--empty-password"); err != nil {
			return fmt.Errorf("create the NSS database: %w", err)
		}
	}
	// A database with a primary password refuses the empty one.
	if _, err := db.run(ctx, "certutil", "-K", "-d", db.spec(), "-f", os.DevNull); err != nil {
		if errors.Is(err, ErrLocked) || errors.Is(err, ErrToolsMissing) || errors.Is(err, ErrUnusable) {
			return err
		}
		// "no keys found" is a failure status for certutil -K, and fine.
		if !strings.Contains(err.Error(), "no keys found") {
			return fmt.Errorf("check the NSS database: %w", err)
		}
	}
	return nil
}

// Entry is one line of the database's listing.
type Entry struct {
	Nickname string
	Trust    string // certutil's trust flags: "u,u,u" for an identity, "C,," for a trusted CA
}

// List lists the database's certificates by nickname.
func (db DB) List(ctx context.Context) ([]Entry, error) {
	out, err := db.run(ctx, "certutil", "-L", "-d", db.spec())
	if err != nil {
		return nil, fmt.Errorf("list the NSS database: %w", err)
	}
	return parseListing(out), nil
}

// parseListing reads `certutil -L`: two header lines, a blank line, then one
// line per certificate, the nickname padded to a column, then the trust flags.
func parseListing(out []byte) []Entry {
	var entries []Entry
	for i, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if i < 3 || len(fields) < 2 {
			continue
		}
		trust := fields[len(fields)-1]
		name := strings.TrimSpace(strings.TrimSuffix(strings.TrimRight(line, " "), trust))
		if name != "" {
			entries = append(entries, Entry{Nickname: name, Trust: trust})
		}
	}
	return entries
}

// Certificates returns every certificate stored under nickname (NSS keeps
// several with one nickname when they share a subject); none when there is none.
func (db DB) Certificates(ctx context.Context, nickname string) ([]*x509.Certificate, error) {
	out, err := db.run(ctx, "certutil", "-L", "-d", db.spec(), "-n", nickname, "-a")
	if err != nil {
		if strings.Contains(err.Error(), "Could not find cert") {
			return nil, nil
		}
		return nil, fmt.Errorf("read %q from the NSS database: %w", nickname, err)
	}
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		b, out = pem.Decode(out)
		if b == nil {
			return certs, nil
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("read %q from the NSS database: %w", nickname, err)
		}
		certs = append(certs, c)
	}
}

// ImportPKCS12 adds the identities of a PKCS#12 file (key, certificate and
// chain; each takes its friendlyName as nickname). The file goes through a
// private temporary file, removed at once.
func (db DB) ImportPKCS12(ctx context.Context, pfx []byte, password string) error {
	f, err := os.CreateTemp("", "inkan-nss-*.p12")
	if err != nil {
		return fmt.Errorf("import into the NSS database: %w", err)
	}
	defer os.Remove(f.Name())
	_, werr := f.Write(pfx)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("import into the NSS database: %w", werr)
	}
	if _, err := db.run(ctx, "pk12util", "-i", f.Name(), "-d", db.spec(), "-W", password, "-K", ""); err != nil {
		return fmt.Errorf("import into the NSS database: %w", err)
	}
	return nil
}

// Remove deletes every certificate stored under nickname with its private
// key. A nickname with nothing under it is not an error.
func (db DB) Remove(ctx context.Context, nickname string) error {
	for range 16 { // one certificate per call; NSS keeps a few at most under one nickname
		certs, err := db.Certificates(ctx, nickname)
		if err != nil {
			return err
		}
		if len(certs) == 0 {
			return nil
		}
		if _, err := db.run(ctx, "certutil", "-F", "-d", db.spec(), "-n", nickname, "-f", os.DevNull); err != nil {
			// A certificate without a key (left by hand) goes with -D.
			if _, derr := db.run(ctx, "certutil", "-D", "-d", db.spec(), "-n", nickname); derr != nil {
				return fmt.Errorf("remove %q from the NSS database: %w", nickname, err)
			}
		}
	}
	return fmt.Errorf("remove %q from the NSS database: certificates remain after 16 deletions", nickname)
}

// AddCA stores a CA certificate under nickname. trustTLS marks it trusted to
// issue TLS server certificates ("C,,"); without it the certificate is only
// there to build the chain (",,").
func (db DB) AddCA(ctx context.Context, nickname string, cert *x509.Certificate, trustTLS bool) error {
	trust := ",,"
	if trustTLS {
		trust = "C,,"
	}
	cmd := []string{"-A", "-d", db.spec(), "-n", nickname, "-t", trust, "-a", "-i"}
	f, err := os.CreateTemp("", "inkan-nss-*.pem")
	if err != nil {
		return fmt.Errorf("add CA %q to the NSS database: %w", nickname, err)
	}
	defer os.Remove(f.Name())
	_, werr := f.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("add CA %q to the NSS database: %w", nickname, werr)
	}
	if _, err := db.run(ctx, "certutil", append(cmd, f.Name())...); err != nil {
		return fmt.Errorf("add CA %q to the NSS database: %w", nickname, err)
	}
	return nil
}
