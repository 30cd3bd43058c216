package agent

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/ocsp"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
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

// BackupFormat is the encryption of a backup file.
type BackupFormat int

// Backup formats.
const (
	// BackupModern is AES-256-CBC with PBKDF2-HMAC-SHA256 and a SHA-256 MAC: read
	// by Windows 10 and Server 2019 or later, current macOS, OpenSSL 1.1 and 3,
	// and Java 8u301 or later. Use it unless the file must go to an older reader.
	BackupModern BackupFormat = iota
	// BackupLegacy is 3DES with SHA-1 (pbeWithSHAAnd3-KeyTripleDES-CBC), for the
	// readers that cannot decrypt AES: Windows 7, 8.1 and Server 2016 or older,
	// macOS before 10.15 and Java before 8u301. It is weaker: keep such a file
	// only as long as the move to the old PC takes.
	BackupLegacy
)

// Backup is [Agent.BackupAs] in [BackupModern], the format for every current reader.
func (a *Agent) Backup(ctx context.Context, fps []Fingerprint, password, confirm string) ([]byte, error) {
	return a.BackupAs(ctx, fps, password, confirm, BackupModern)
}

// BackupAs writes the certificates fps, with their keys, into one PKCS#12 file
// protected by password in format, after [CheckBackupPassword]. A key the store
// may not export fails the backup, naming it.
func (a *Agent) BackupAs(ctx context.Context, fps []Fingerprint, password, confirm string, format BackupFormat) ([]byte, error) {
	return a.backupAs(ctx, fps, password, confirm, format, func(context.Context, Fingerprint) (*Agent, error) { return a, nil })
}

// backupAs is BackupAs with each certificate checked by the agent of its bank.
func (a *Agent) backupAs(ctx context.Context, fps []Fingerprint, password, confirm string, format BackupFormat,
	owner func(context.Context, Fingerprint) (*Agent, error)) ([]byte, error) {
	enc := certstore.PKCS12Modern
	switch format {
	case BackupModern:
	case BackupLegacy:
		enc = certstore.PKCS12Legacy
	default:
		return nil, fmt.Errorf("back up certificates: unknown format %d", format)
	}
	if err := CheckBackupPassword(password, confirm); err != nil {
		return nil, fmt.Errorf("back up certificates: %w", err)
	}
	if len(fps) == 0 {
		return nil, fmt.Errorf("back up certificates: %w", ErrNoIdentity)
	}
	inStore := make([]certstore.Fingerprint, 0, len(fps))
	for _, fp := range fps {
		bank, err := owner(ctx, fp)
		if err != nil {
			return nil, fmt.Errorf("back up certificates: %w", err)
		}
		id, sid, err := bank.identity(ctx, fp.inStore())
		if err != nil {
			return nil, fmt.Errorf("back up certificates: %w", err)
		}
		if !sid.Exportable {
			return nil, fmt.Errorf("back up certificates: %w", &NotExportableError{Label: id.Label, BackupRoles: bank.backupRoles(ctx)})
		}
		inStore = append(inStore, fp.inStore())
	}
	pfx, err := a.store.Export(ctx, inStore, password, certstore.ExportOptions{Encoding: enc})
	if err != nil {
		return nil, fmt.Errorf("back up certificates: %w", err)
	}
	return pfx, nil
}

// backupRoles are the roles whose keys the bank lets PCs back up, as its
// csrattrs says; when the bank cannot be asked (a restore on a PC that is
// offline), the seeds' rule: 管理者ID only.
func (a *Agent) backupRoles(ctx context.Context) []wire.Role {
	c, err := a.client(ctx, nil)
	if err != nil {
		return []wire.Role{wire.RoleAdmin}
	}
	attrs, err := csrAttrs(ctx, c, "", "")
	if err != nil {
		return []wire.Role{wire.RoleAdmin}
	}
	return attrs.BackupRoles
}

// Restore adds the certificates of a PKCS#12 backup to the store, on this PC or
// another. Keys are exportable again where the bank lets the identity's role back up. Every
// certificate of the backup is restored; those not from this bank are reported
// apart, in [RestoreResult.Other], since the chooser will not offer them.
//
// The backup may come from another tool: a certificate of this bank is stored
// with the bank's CA chain even when the file lacks it, and labelled
// "<loginID>+<bankCode>" whatever friendlyName the file gives it. The bank's
// server is then asked (OCSP) whether each of them is still valid: one it has
// revoked is listed in [RestoreResult.Revoked] and shows as revoked.
func (a *Agent) Restore(ctx context.Context, pfx []byte, password string) (*RestoreResult, error) {
	ca, err := a.bankCA(ctx)
	if err != nil {
		return nil, fmt.Errorf("restore certificates: %w", err)
	}
	inter, err := a.intermediates(ctx)
	if err != nil {
		return nil, fmt.Errorf("restore certificates: %w", err)
	}
	cas := append(slices.Clone(inter), ca)
	label := func(leaf *x509.Certificate) string {
		if !issuedBy(ca, leaf, cas) {
			return ""
		}
		subj, err := wire.SubjectOf(leaf)
		if err != nil || subj.BankCode != a.cfg.BankCode {
			return ""
		}
		return subj.Label()
	}
	// A key is exportable again where the bank lets the identity's role back up.
	roles := a.backupRoles(ctx)
	exportable := func(leaf *x509.Certificate) bool {
		subj, err := wire.SubjectOf(leaf)
		return label(leaf) != "" && err == nil && slices.Contains(roles, subj.Role)
	}
	res, err := a.store.Import(ctx, pfx, password, certstore.ImportOptions{ExportableFor: exportable, CACerts: cas, Label: label})
	if err != nil {
		return nil, fmt.Errorf("restore certificates: %w", err)
	}

	var revoked []certstore.Fingerprint
	var checkErrs []error
	for _, sid := range append(slices.Clone(res.Added), res.AlreadyPresent...) {
		if label(sid.Certificate) == "" {
			continue
		}
		status, err := a.ocspStatus(ctx, ca, sid)
		if err != nil {
			checkErrs = append(checkErrs, fmt.Errorf("%s: %w", sid.Label, err))
			continue
		}
		if status == ocsp.Revoked {
			revoked = append(revoked, sid.Fingerprint)
		}
	}
	if len(revoked) > 0 {
		now := a.now()
		if err := a.state.update(func(m map[certstore.Fingerprint]certState) {
			for _, fp := range revoked {
				st := m[fp]
				st.RevokedSeen = now
				m[fp] = st
			}
		}); err != nil {
			return nil, fmt.Errorf("restore certificates: %w", err)
		}
	}

	st, err := a.state.snapshot()
	if err != nil {
		return nil, fmt.Errorf("restore certificates: %w", err)
	}
	out := &RestoreResult{CheckErr: errors.Join(checkErrs...)}
	classify := func(sids []*certstore.Identity, into *[]*Identity) {
		for _, sid := range sids {
			id, ok := a.describe(ca, sid, st[sid.Fingerprint])
			if !ok {
				out.Other = append(out.Other, otherCertificate(sid))
				continue
			}
			*into = append(*into, id)
			if slices.Contains(revoked, sid.Fingerprint) {
				out.Revoked = append(out.Revoked, id)
			}
		}
	}
	classify(res.Added, &out.Added)
	classify(res.AlreadyPresent, &out.AlreadyPresent)
	a.syncBrowserAfter(ctx)
	return out, nil
}

// ocspStatus asks the bank's server whether sid's certificate is good, revoked or
// unknown (ocsp.Good, ocsp.Revoked, ocsp.Unknown), checking the answer's signature.
func (a *Agent) ocspStatus(ctx context.Context, ca *x509.Certificate, sid *certstore.Identity) (int, error) {
	issuer := ca
	if len(sid.Chain) > 0 {
		issuer = sid.Chain[0]
	}
	req, err := ocsp.CreateRequest(sid.Certificate, issuer, nil)
	if err != nil {
		return 0, fmt.Errorf("ask whether the certificate is revoked: %w", err)
	}
	resp, err := a.anonClient(ca).R().SetContext(ctx).
		SetHeader("Content-Type", "application/ocsp-request").SetBody(req).Post(pathOCSP)
	if err != nil {
		return 0, fmt.Errorf("ask whether the certificate is revoked: %w", err)
	}
	if resp.IsError() {
		return 0, fmt.Errorf("ask whether the certificate is revoked: %w", refusal(resp))
	}
	answer, err := ocsp.ParseResponseForCert(resp.Body(), sid.Certificate, issuer)
	if err != nil {
		return 0, fmt.Errorf("ask whether the certificate is revoked: the server's answer: %w", err)
	}
	return answer.Status, nil
}
