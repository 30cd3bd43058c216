package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/inkan-dev/inkan/server/ca"
	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/server/store/postgres"
	"github.com/inkan-dev/inkan/wire"
)

// ConfigFile is the name of the configuration file inside the data directory.
const ConfigFile = "config.json"

// DatabaseFile is the name of the SQLite database inside the data directory.
const DatabaseFile = "inkan.db"

// Config is the server's configuration file: who the bank is, where the server
// is reached, and the policy defaults `inkan-server init` wrote.
type Config struct {
	BankCode string `json:"bank_code"`
	BankName string `json:"bank_name"`
	// PublicURL is how PCs reach this server (https://host:port).
	PublicURL string `json:"public_url"`
	// RevocationURL is the plain-HTTP base URL (http://host[:port]) where relying
	// parties fetch CRLs, OCSP and the CA certificates: every certificate's AIA and
	// CRL distribution point start with it. Empty in a config written before it
	// existed: those certificates point at PublicURL as they always did.
	RevocationURL string `json:"revocation_url,omitempty"`
	// HTTPAddr is the address serve's plain-HTTP listener for the revocation
	// routes listens on (serve --http-addr overrides it); empty means none.
	HTTPAddr string `json:"http_addr,omitempty"`
	// CertificatePolicyOID is the bank's certificate policy (its CP/CPS), written
	// into the certificatePolicies of the issuing CA and of every client
	// certificate. Empty in a config written before it existed: none is written.
	CertificatePolicyOID string `json:"certificate_policy_oid,omitempty"`
	// CAKey is where the issuing CA's key lives: empty for the file
	// issuing-ca.key, or a pkcs11: URI (RFC 7512) naming the token and key.
	CAKey string `json:"ca_key,omitempty"`
	// MaxBodyBytes caps every request body.
	MaxBodyBytes int64        `json:"max_body_bytes"`
	Policy       PolicyConfig `json:"policy"`
	Limits       LimitsConfig `json:"limits"`
	SMTP         SMTPConfig   `json:"smtp"`
	// Database is where the records are kept; empty means SQLite, inkan.db in
	// the data directory.
	Database DatabaseConfig `json:"database,omitzero"`
}

// DatabaseConfig names a PostgreSQL database that several servers share.
type DatabaseConfig struct {
	// URL is a postgres:// URL (libpq's form: host, port, dbname, user,
	// sslmode=verify-full and sslrootcert= for TLS). Leave the password out:
	// PasswordFile, the PGPASSWORD environment variable or a PGPASSFILE supply it.
	URL string `json:"url,omitempty"`
	// PasswordFile is a file whose first line is the database password.
	PasswordFile string `json:"password_file,omitempty"`
}

// Validate checks that the URL, when set, is a PostgreSQL one.
func (d DatabaseConfig) Validate() error {
	if d.URL != "" && !postgres.IsURL(d.URL) {
		return fmt.Errorf("database.url: %q is not a postgres:// URL (leave it empty for SQLite in the data directory)", postgres.Redact(d.URL))
	}
	if d.URL == "" && d.PasswordFile != "" {
		return errors.New("database.password_file: set without database.url")
	}
	return nil
}

// LimitsConfig bounds the work that requests checking a password (login,
// pickup) can cause before anyone is authenticated.
type LimitsConfig struct {
	// PasswordChecks is how many password checks run at once; 0 means twice
	// the number of CPUs. Each holds argon2id's memory (policy.argon2.memory_kib).
	PasswordChecks int `json:"password_checks"`
	// PasswordCheckWaitMS is how long a request waits for a free check before it
	// is answered 503 unavailable with Retry-After.
	PasswordCheckWaitMS int `json:"password_check_wait_ms"`
	// WrongPasswordsPerMinute and WrongPasswordBurst bound the wrong passwords
	// (and unknown IDs) one remote IP address may send: a burst at once, then so
	// many a minute; beyond, 429 rate_limited with Retry-After.
	WrongPasswordsPerMinute int `json:"wrong_passwords_per_minute"`
	WrongPasswordBurst      int `json:"wrong_password_burst"`
	// MaxConnections is how many client connections the HTTPS listener holds
	// open at once; further clients wait in the kernel's backlog until one closes.
	MaxConnections int `json:"max_connections"`
}

// defaultLimits are the limits of a config file that names none.
func defaultLimits() LimitsConfig {
	return LimitsConfig{
		PasswordCheckWaitMS:     int(lifecycle.DefaultCheckWait / time.Millisecond),
		WrongPasswordsPerMinute: 30,
		WrongPasswordBurst:      20,
		MaxConnections:          1024,
	}
}

// Validate names the first limit out of range.
func (l LimitsConfig) Validate() error {
	switch {
	case l.PasswordChecks < 0 || l.PasswordChecks > 1024:
		return fmt.Errorf("limits.password_checks: %d is not between 0 (twice the CPUs) and 1024", l.PasswordChecks)
	case l.PasswordCheckWaitMS < 1 || l.PasswordCheckWaitMS > 60_000:
		return fmt.Errorf("limits.password_check_wait_ms: %d is not between 1 and 60000", l.PasswordCheckWaitMS)
	case l.WrongPasswordsPerMinute < 1 || l.WrongPasswordsPerMinute > 60_000:
		return fmt.Errorf("limits.wrong_passwords_per_minute: %d is not between 1 and 60000", l.WrongPasswordsPerMinute)
	case l.WrongPasswordBurst < 1 || l.WrongPasswordBurst > 100_000:
		return fmt.Errorf("limits.wrong_password_burst: %d is not between 1 and 100000", l.WrongPasswordBurst)
	case l.MaxConnections < 1 || l.MaxConnections > 1_000_000:
		return fmt.Errorf("limits.max_connections: %d is not between 1 and 1000000", l.MaxConnections)
	}
	return nil
}

// passwordChecks is the number of password-check slots the limits ask for.
func (l LimitsConfig) passwordChecks() int {
	if l.PasswordChecks == 0 {
		return lifecycle.DefaultCheckSlots()
	}
	return l.PasswordChecks
}

// PolicyConfig is the life-cycle policy as written in the config file.
type PolicyConfig struct {
	PickupWindowDays int `json:"pickup_window_days"`
	ValidityDays     int `json:"validity_days"`
	// ValidityFrom is "pickup" (the default) or "issuance".
	ValidityFrom    string `json:"validity_from"`
	RenewBeforeDays int    `json:"renew_before_days"`
	RenewAfterDays  int    `json:"renew_after_days"`
	NoticeDays      []int  `json:"notice_days"`
	MaxFailedLogins int    `json:"max_failed_logins"`
	SessionMinutes  int    `json:"session_minutes"`
	// RepeatGraceHours is how long after a pickup or renewal a request repeated
	// with the same key (its answer was lost) gets the same certificate again; 0
	// turns repeats off. A file written before the field existed gets the default.
	RepeatGraceHours int `json:"repeat_grace_hours"`
	// AutoRenew lets agents renew by themselves, with no user action, from the
	// day the renewal window opens (GET /api/v1/policy tells them). Absent
	// means true; false leaves renewal to the user.
	AutoRenew *bool                  `json:"auto_renew,omitempty"`
	Argon2    lifecycle.Argon2Params `json:"argon2"`
	// KeyType is the key PCs generate (csrattrs says so) and every CSR must
	// carry: ecdsa-p256 (the default), ecdsa-p384, rsa-2048 or rsa-3072.
	KeyType wire.KeyType `json:"key_type"`
	// BackupRoles are the roles whose keys are made exportable so that they can
	// be backed up; default ["admin"], [] for nobody.
	BackupRoles []wire.Role `json:"backup_roles"`
	// LoginIDPattern is the form of every login ID this bank issues, a regular
	// expression the whole ID must match (e.g. "[0-9]{10}"): IDs of another
	// form are refused, and the agent configuration carries it so that a PC
	// with several banks knows which bank an ID typed at pickup belongs to.
	// Empty: any ID the syntax allows.
	LoginIDPattern string `json:"login_id_pattern,omitempty"`
}

// SMTPConfig says where expiry notices are sent from. An empty Host turns
// e-mail off.
type SMTPConfig struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	From string `json:"from"`
	// SweepMinutes is how often serve looks for certificates to warn about.
	SweepMinutes int `json:"sweep_minutes"`
}

// defaultConfig is what init writes before the caller's choices.
func defaultConfig(bankCode, bankName string) Config {
	p := lifecycle.DefaultPolicy(bankCode)
	return Config{
		BankCode:     bankCode,
		BankName:     bankName,
		PublicURL:    "https://127.0.0.1:8443",
		MaxBodyBytes: 64 << 10,
		Policy: PolicyConfig{
			PickupWindowDays: p.PickupWindowDays,
			ValidityDays:     p.ValidityDays,
			ValidityFrom:     "pickup",
			RenewBeforeDays:  p.RenewBeforeDays,
			RenewAfterDays:   p.RenewAfterDays,
			NoticeDays:       []int{30, 10},
			MaxFailedLogins:  p.MaxFailedLogins,
			SessionMinutes:   int(p.SessionTTL / time.Minute),
			RepeatGraceHours: int(p.RepeatGrace / time.Hour),
			Argon2:           p.Argon2,
			KeyType:          p.KeyType,
			BackupRoles:      p.BackupRoles,
		},
		Limits: defaultLimits(),
		SMTP:   SMTPConfig{Port: 25, From: "inkan@localhost", SweepMinutes: 60},
	}
}

var bankCodePattern = regexp.MustCompile(`^[0-9]{4}$`)

// Validate names the first field of the file that is wrong.
func (c Config) Validate() error {
	if !bankCodePattern.MatchString(c.BankCode) {
		return fmt.Errorf("bank_code: %q is not a four-digit bank code", c.BankCode)
	}
	if c.BankName == "" {
		return errors.New("bank_name: must not be empty")
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("public_url: %q is not an https://host[:port] URL", c.PublicURL)
	}
	if c.RevocationURL != "" {
		if err := ca.CheckBaseURL(c.RevocationURL); err != nil {
			return fmt.Errorf("revocation_url: %w", err)
		}
	}
	if c.HTTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
			return fmt.Errorf("http_addr: %q is not a host:port address (%v)", c.HTTPAddr, err)
		}
	}
	if c.CertificatePolicyOID != "" {
		if _, err := ca.ParsePolicyOID(c.CertificatePolicyOID); err != nil {
			return fmt.Errorf("certificate_policy_oid: %w", err)
		}
	}
	if c.CAKey != "" && !strings.HasPrefix(c.CAKey, "pkcs11:") {
		return fmt.Errorf("ca_key: %q is neither empty (the key file) nor a pkcs11: URI", c.CAKey)
	}
	if c.MaxBodyBytes < 4096 {
		return fmt.Errorf("max_body_bytes: %d is below 4096", c.MaxBodyBytes)
	}
	if c.Policy.ValidityFrom != "pickup" && c.Policy.ValidityFrom != "issuance" {
		return fmt.Errorf("policy.validity_from: %q is neither \"pickup\" nor \"issuance\"", c.Policy.ValidityFrom)
	}
	for _, d := range c.Policy.NoticeDays {
		if d < 1 || d > c.Policy.ValidityDays {
			return fmt.Errorf("policy.notice_days: %d is not between 1 and validity_days", d)
		}
	}
	if err := c.lifecyclePolicy().Validate(); err != nil {
		return fmt.Errorf("policy.%w", err)
	}
	if err := c.Database.Validate(); err != nil {
		return err
	}
	if err := c.Limits.Validate(); err != nil {
		return err
	}
	if c.SMTP.Host != "" {
		if c.SMTP.Port < 1 || c.SMTP.Port > 65535 {
			return fmt.Errorf("smtp.port: %d is not a TCP port", c.SMTP.Port)
		}
		if c.SMTP.From == "" {
			return errors.New("smtp.from: must not be empty when smtp.host is set")
		}
		if c.SMTP.SweepMinutes < 1 {
			return fmt.Errorf("smtp.sweep_minutes: %d must be at least 1", c.SMTP.SweepMinutes)
		}
	}
	return nil
}

func (c Config) lifecyclePolicy() lifecycle.Policy {
	return lifecycle.Policy{
		BankCode:             c.BankCode,
		PickupWindowDays:     c.Policy.PickupWindowDays,
		ValidityDays:         c.Policy.ValidityDays,
		ValidityFromIssuance: c.Policy.ValidityFrom == "issuance",
		RenewBeforeDays:      c.Policy.RenewBeforeDays,
		RenewAfterDays:       c.Policy.RenewAfterDays,
		MaxFailedLogins:      c.Policy.MaxFailedLogins,
		SessionTTL:           time.Duration(c.Policy.SessionMinutes) * time.Minute,
		RepeatGrace:          time.Duration(c.Policy.RepeatGraceHours) * time.Hour,
		Argon2:               c.Policy.Argon2,
		KeyType:              c.Policy.KeyType,
		BackupRoles:          c.Policy.BackupRoles,
		LoginIDPattern:       c.Policy.LoginIDPattern,
	}
}

// LoadConfig reads and validates the config file at path.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	// Fields added after a file was written keep their defaults.
	// A copy of the default roles: json.Unmarshal decodes backup_roles into the
	// slice's own array, which would rewrite lifecycle.DefaultBackupRoles for
	// every caller (a data race when two servers load their configs at once).
	c := Config{Policy: PolicyConfig{RepeatGraceHours: int(lifecycle.DefaultRepeatGrace / time.Hour), KeyType: wire.KeyECDSAP256, BackupRoles: slices.Clone(lifecycle.DefaultBackupRoles)}, Limits: defaultLimits()}
	if err := json.Unmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("parse config %s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

func writeConfig(path string, c Config) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // a database URL's '&' stays readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// SetCAKey records in dir's config.json where the issuing CA key is: a pkcs11:
// URI, or empty for issuing-ca.key. The file is replaced by one rename, so a
// crash leaves the old config or the new one.
func SetCAKey(dir, uri string) error {
	path := filepath.Join(dir, ConfigFile)
	c, err := LoadConfig(path)
	if err != nil {
		return err
	}
	c.CAKey = uri
	if err := c.Validate(); err != nil {
		return fmt.Errorf("ca_key: %w", err)
	}
	if err := writeConfig(path+".next", c); err != nil {
		return err
	}
	if err := os.Rename(path+".next", path); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// SetAutoRenew records in dir's config.json whether agents renew by
// themselves (policy.auto_renew), replacing the file by one rename as
// SetCAKey does. The next serve tells agents.
func SetAutoRenew(dir string, on bool) error {
	path := filepath.Join(dir, ConfigFile)
	c, err := LoadConfig(path)
	if err != nil {
		return err
	}
	c.Policy.AutoRenew = &on
	if err := writeConfig(path+".next", c); err != nil {
		return err
	}
	if err := os.Rename(path+".next", path); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}
