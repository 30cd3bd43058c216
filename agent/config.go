package agent

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
)

// Default renewal window, when the bank's configuration does not say: from 30 days
// before expiry until 90 days after it.
const (
	DefaultRenewBeforeDays = 30
	DefaultRenewAfterDays  = 90
)

// LoadConfig reads the configuration at path (the bank's JSON file, optionally with
// the user's "store" and "language") and validates it.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, &ConfigError{Problem: fmt.Sprintf("the file %s does not exist", path),
			Fix: "install the configuration file your bank sent, or give its path"}
	}
	if err != nil {
		return Config{}, fmt.Errorf("read configuration: %w", err)
	}
	return parseConfig(path, data)
}

// parseConfig decodes and validates the configuration file named name, whose
// bytes are data: they come from wherever the file came from, so every field is
// checked and nothing unknown is accepted.
func parseConfig(name string, data []byte) (Config, error) {
	var cfg Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, &ConfigError{Problem: fmt.Sprintf("%s is not a valid configuration file: %v", name, err),
			Fix: "use the file your bank sent, unchanged"}
	}
	if dec.More() {
		return Config{}, &ConfigError{Problem: fmt.Sprintf("%s holds more than one JSON value", name),
			Fix: "use the file your bank sent, unchanged"}
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	return cfg, nil
}

// Validate checks every field and reports each one that is missing or wrong as a
// [*ConfigError] (several are joined with errors.Join).
func (c Config) Validate() error {
	var errs []error
	bad := func(field, problem, fix string) {
		errs = append(errs, &ConfigError{Field: field, Problem: problem, Fix: fix})
	}
	const askBank = "use the configuration file your bank sent"

	if c.ServerURL == "" {
		bad("server_url", "is missing", askBank)
	} else if u, err := url.Parse(c.ServerURL); err != nil {
		bad("server_url", fmt.Sprintf("%q is not a URL", c.ServerURL), askBank)
	} else if u.Scheme != "https" {
		bad("server_url", fmt.Sprintf("%q must start with https://", c.ServerURL), askBank)
	} else if u.Host == "" {
		bad("server_url", fmt.Sprintf("%q has no host", c.ServerURL), askBank)
	} else if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		bad("server_url", fmt.Sprintf("%q must be https://host[:port] with no path", c.ServerURL), askBank)
	}

	if len(c.BankCode) != 4 || strings.Trim(c.BankCode, "0123456789") != "" {
		bad("bank_code", fmt.Sprintf("%q is not a four-digit bank code", c.BankCode), askBank)
	}
	if strings.TrimSpace(c.BankName) == "" {
		bad("bank_name", "is missing", askBank)
	}

	var ca *x509.Certificate
	if c.CACertPEM != "" {
		var err error
		if ca, err = parseCA(c.CACertPEM); err != nil {
			bad("ca_cert_pem", err.Error(), askBank)
		}
	}
	fp, fpErr := normalizeFingerprint(c.CAFingerprint)
	switch {
	case c.CAFingerprint != "" && fpErr != nil:
		bad("ca_fingerprint", fpErr.Error(), askBank)
	case c.CACertPEM == "" && c.CAFingerprint == "":
		bad("ca_cert_pem", "neither ca_cert_pem nor ca_fingerprint is set: the agent would not know which CA to trust", askBank)
	case ca != nil && fp != "" && certstore.FingerprintOf(ca) != fp:
		bad("ca_fingerprint", "does not match the certificate in ca_cert_pem", askBank)
	}

	if c.RenewBeforeDays < 0 {
		bad("renew_before_days", fmt.Sprintf("%d is negative", c.RenewBeforeDays), "leave it out for the default of 30")
	}
	if c.RenewAfterDays < 0 {
		bad("renew_after_days", fmt.Sprintf("%d is negative", c.RenewAfterDays), "leave it out for the default of 90")
	}
	if _, err := wire.LoginIDMatcher(c.LoginIDPattern); err != nil {
		bad("login_id_pattern", err.Error(), askBank)
	}
	switch c.Language {
	case "", "ja", "en":
	default:
		bad("language", fmt.Sprintf("%q is not supported", c.Language), `use "ja" or "en"`)
	}
	return errors.Join(errs...)
}

// renewBefore and renewAfter return the renewal window with defaults applied.
func (c Config) renewBefore() int {
	if c.RenewBeforeDays == 0 {
		return DefaultRenewBeforeDays
	}
	return c.RenewBeforeDays
}

func (c Config) renewAfter() int {
	if c.RenewAfterDays == 0 {
		return DefaultRenewAfterDays
	}
	return c.RenewAfterDays
}

// parseCA reads the one CA certificate in a PEM text.
func parseCA(s string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("holds no PEM CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("does not parse: %w", err)
	}
	if !cert.IsCA {
		return nil, errors.New("is not a CA certificate")
	}
	return cert, nil
}

// normalizeFingerprint accepts a SHA-256 fingerprint in hex, upper or lower case,
// with or without colons.
func normalizeFingerprint(s string) (certstore.Fingerprint, error) {
	if s == "" {
		return "", nil
	}
	h := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	if b, err := hex.DecodeString(h); err != nil || len(b) != 32 {
		return "", fmt.Errorf("%q is not a SHA-256 fingerprint (64 hex digits)", s)
	}
	return certstore.Fingerprint(h), nil
}
