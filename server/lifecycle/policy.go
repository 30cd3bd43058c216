package lifecycle

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/inkan-dev/inkan/wire"
)

// Day is the unit every rule is written in.
const Day = 24 * time.Hour

// Policy is the bank's choice of the life-cycle settings.
type Policy struct {
	BankCode string
	// PickupWindowDays is how long an issued certificate waits for pickup (80).
	PickupWindowDays int
	// ValidityDays is a certificate's lifetime (365), counted from pickup, or
	// from issuance when ValidityFromIssuance is set.
	ValidityDays         int
	ValidityFromIssuance bool
	// RenewBeforeDays and RenewAfterDays bound renewal around expiry (30, 90).
	RenewBeforeDays int
	RenewAfterDays  int
	// MaxFailedLogins wrong passwords in a row lock an ID (5).
	MaxFailedLogins int
	// SessionTTL is how long a login session lasts.
	SessionTTL time.Duration
	// RepeatGrace is how long after a pickup or a renewal the same request,
	// repeated with the same key because its answer was lost, gets the same
	// certificate again (24 hours); zero turns repeats off.
	RepeatGrace time.Duration
	Argon2      Argon2Params
	// KeyType is the key every CSR must carry, and what csrattrs asks PCs to
	// generate; empty means ECDSA P-256.
	KeyType wire.KeyType
	// BackupRoles are the roles whose keys PCs make exportable, so that they can
	// be backed up (the seeds: 管理者ID only).
	BackupRoles []wire.Role
	// LoginIDPattern is the form every new login ID must have
	// ([wire.LoginIDMatcher]); empty allows any.
	LoginIDPattern string
}

// DefaultBackupRoles is the default [Policy.BackupRoles]: the seeds have the
// admin back up certificates, nobody else.
var DefaultBackupRoles = []wire.Role{wire.RoleAdmin}

// keyType returns the policy's key type, ECDSA P-256 when unset.
func (p Policy) keyType() wire.KeyType {
	if p.KeyType == "" {
		return wire.KeyECDSAP256
	}
	return p.KeyType
}

// DefaultRepeatGrace is the default [Policy.RepeatGrace].
const DefaultRepeatGrace = 24 * time.Hour

// MaxRepeatGrace bounds [Policy.RepeatGrace]: a repeat answers a lost answer,
// it is not a second pickup window.
const MaxRepeatGrace = 7 * Day

// DefaultPolicy returns the policy of the seeds.
func DefaultPolicy(bankCode string) Policy {
	return Policy{
		BankCode:         bankCode,
		PickupWindowDays: 80,
		ValidityDays:     365,
		RenewBeforeDays:  30,
		RenewAfterDays:   90,
		MaxFailedLogins:  5,
		SessionTTL:       30 * time.Minute,
		RepeatGrace:      DefaultRepeatGrace,
		Argon2:           DefaultArgon2,
		KeyType:          wire.KeyECDSAP256,
		BackupRoles:      slices.Clone(DefaultBackupRoles),
	}
}

// Validate names the first field that is out of range.
func (p Policy) Validate() error {
	switch {
	case p.BankCode == "":
		return errors.New("bank_code: must not be empty")
	case p.PickupWindowDays < 1:
		return fmt.Errorf("pickup_window_days: %d is not a positive number of days", p.PickupWindowDays)
	case p.ValidityDays < 1:
		return fmt.Errorf("validity_days: %d is not a positive number of days", p.ValidityDays)
	case p.RenewBeforeDays < 0 || p.RenewBeforeDays > p.ValidityDays:
		return fmt.Errorf("renew_before_days: %d must be between 0 and validity_days (%d)", p.RenewBeforeDays, p.ValidityDays)
	case p.RenewAfterDays < 0:
		return fmt.Errorf("renew_after_days: %d must not be negative", p.RenewAfterDays)
	case p.MaxFailedLogins < 1:
		return fmt.Errorf("max_failed_logins: %d must be at least 1", p.MaxFailedLogins)
	case p.SessionTTL < time.Minute:
		return fmt.Errorf("session_ttl: %s is shorter than a minute", p.SessionTTL)
	case p.RepeatGrace < 0 || p.RepeatGrace > MaxRepeatGrace:
		return fmt.Errorf("repeat_grace_hours: %g must be between 0 and %g", p.RepeatGrace.Hours(), MaxRepeatGrace.Hours())
	}
	if p.KeyType != "" && !p.KeyType.Valid() {
		return fmt.Errorf("key_type: %q is not one of %v", p.KeyType, wire.KeyTypes)
	}
	for _, r := range p.BackupRoles {
		if !r.Valid() {
			return fmt.Errorf("backup_roles: %q is not a role (admin, approver, general)", r)
		}
	}
	if err := p.Argon2.Validate(); err != nil {
		return fmt.Errorf("argon2.%w", err)
	}
	if _, err := wire.LoginIDMatcher(p.LoginIDPattern); err != nil {
		return err
	}
	return nil
}

func days(n int) time.Duration { return time.Duration(n) * Day }

// RenewalWindow returns when a certificate expiring at notAfter may be renewed.
func (p Policy) RenewalWindow(notAfter time.Time) (from, until time.Time) {
	return notAfter.Add(-days(p.RenewBeforeDays)), notAfter.Add(days(p.RenewAfterDays))
}

// DaysLeft is the number of whole days from now until notAfter, negative once expired.
func DaysLeft(notAfter, now time.Time) int {
	d := notAfter.Sub(now)
	if d < 0 {
		return -int((-d + Day - 1) / Day)
	}
	return int(d / Day)
}
