package agent

import (
	"context"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/inkan-dev/inkan/certstore"
)

// MinBackupPasswordLength is the shortest backup password accepted.
const MinBackupPasswordLength = 12

// CheckBackupPassword checks a new backup password and its confirmation: they must
// be equal ([ErrPasswordMismatch]), at least [MinBackupPasswordLength] characters
// long, and not all of one kind (lower case, upper case, digits, symbols)
// ([*WeakPasswordError]).
func CheckBackupPassword(password, confirm string) error {
	if password != confirm {
		return ErrPasswordMismatch
	}
	if utf8.RuneCountInString(password) < MinBackupPasswordLength {
		return &WeakPasswordError{Reason: "short"}
	}
	classes := map[int]bool{}
	for _, r := range password {
		switch {
		case unicode.IsLower(r):
			classes[0] = true
		case unicode.IsUpper(r):
			classes[1] = true
		case unicode.IsDigit(r):
			classes[2] = true
		default:
			classes[3] = true
		}
	}
	if len(classes) < 2 {
		return &WeakPasswordError{Reason: "one_class"}
	}
	return nil
}

// Backup writes the certificates fps, with their keys, into one PKCS#12 file
// protected by password (AES-256, PBKDF2), after [CheckBackupPassword]. A key the
// store may not export fails the backup, naming it.
func (a *Agent) Backup(ctx context.Context, fps []certstore.Fingerprint, password, confirm string) ([]byte, error) {
	if err := CheckBackupPassword(password, confirm); err != nil {
		return nil, fmt.Errorf("back up certificates: %w", err)
	}
	if len(fps) == 0 {
		return nil, fmt.Errorf("back up certificates: %w", ErrNoIdentity)
	}
	for _, fp := range fps {
		if _, _, err := a.identity(ctx, fp); err != nil {
			return nil, fmt.Errorf("back up certificates: %w", err)
		}
	}
	pfx, err := a.store.Export(ctx, fps, password, certstore.ExportOptions{Encoding: certstore.PKCS12Modern})
	if err != nil {
		return nil, fmt.Errorf("back up certificates: %w", err)
	}
	return pfx, nil
}

// Restore adds the certificates of a PKCS#12 backup to the store, on this PC or
// another. Keys stay exportable so the admin can back them up again. Every
// certificate of the backup is restored; those not from this bank are reported
// apart, in [RestoreResult.Other], since the chooser will not offer them.
func (a *Agent) Restore(ctx context.Context, pfx []byte, password string) (*RestoreResult, error) {
	ca, err := a.bankCA(ctx)
	if err != nil {
		return nil, fmt.Errorf("restore certificates: %w", err)
	}
	res, err := a.store.Import(ctx, pfx, password, certstore.ImportOptions{Exportable: true})
	if err != nil {
		return nil, fmt.Errorf("restore certificates: %w", err)
	}
	st, err := a.state.snapshot()
	if err != nil {
		return nil, fmt.Errorf("restore certificates: %w", err)
	}
	out := &RestoreResult{}
	for _, sid := range res.Added {
		if id, ok := a.describe(ca, sid, st[sid.Fingerprint]); ok {
			out.Added = append(out.Added, id)
		} else {
			out.Other = append(out.Other, sid)
		}
	}
	for _, sid := range res.AlreadyPresent {
		if id, ok := a.describe(ca, sid, st[sid.Fingerprint]); ok {
			out.AlreadyPresent = append(out.AlreadyPresent, id)
		} else {
			out.Other = append(out.Other, sid)
		}
	}
	a.syncBrowserAfter(ctx)
	return out, nil
}
