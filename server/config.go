package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"time"

	"github.com/inkan-dev/inkan/server/lifecycle"
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
	// PublicURL is how PCs reach this server (https://host:port); the AIA and
	// CRL distribution point of every certificate point at it.
	PublicURL string `json:"public_url"`
	// MaxBodyBytes caps every request body.
	MaxBodyBytes int64        `json:"max_body_bytes"`
	Policy       PolicyConfig `json:"policy"`
	SMTP         SMTPConfig   `json:"smtp"`
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
	RepeatGraceHours int                    `json:"repeat_grace_hours"`
	Argon2           lifecycle.Argon2Params `json:"argon2"`
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
		},
		SMTP: SMTPConfig{Port: 25, From: "inkan@localhost", SweepMinutes: 60},
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
	}
}

// LoadConfig reads and validates the config file at path.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	// Fields added after a file was written keep their defaults.
	c := Config{Policy: PolicyConfig{RepeatGraceHours: int(lifecycle.DefaultRepeatGrace / time.Hour)}}
	if err := json.Unmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("parse config %s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

func writeConfig(path string, c Config) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}
