package certstore

// The keyring, dir and memory backends all hold software keys. They share the
// Store logic below and differ only in their vault: where a key's PKCS#8 and an
// identity's record (chain, label, flags) are kept.
//
// A pending key lives only in this process until Attach; Attach then writes the
// key first and the record last, so the record is the commit point: a record
// never exists without its key, and a key written by a failed Attach or Import is
// removed again before the call returns.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
)

// vault is where a software store keeps its keys and records. Keys and records
// are both named by the certificate's fingerprint. Lookups of something absent
// answer a *NotFoundError. The softStore serialises every call.
type vault interface {
	// putKey keeps the key of r's certificate (r says what it is, for
	// vaults that show it to the user, such as the OS keyring).
	putKey(r *record, pkcs8 []byte) error
	getKey(fp Fingerprint) ([]byte, error)
	deleteKey(fp Fingerprint) error

	// putRecord must be atomic: after a failure the record is not there.
	putRecord(r *record) error
	getRecord(fp Fingerprint) (*record, error)
	listRecords() ([]*record, error)
	deleteRecord(fp Fingerprint) error
}

// record is what a vault keeps about an identity besides its key.
type record struct {
	Label      string
	AddedAt    time.Time
	Exportable bool
	Chain      []*x509.Certificate // leaf first
}

func (r *record) fingerprint() Fingerprint { return FingerprintOf(r.Chain[0]) }

// softStore implements Store over a vault.
type softStore struct {
	kind string
	v    vault
	now  func() time.Time

	mu sync.Mutex
}

func newSoftStore(kind string, v vault) *softStore {
	return &softStore{kind: kind, v: v, now: time.Now}
}

func (s *softStore) Kind() string { return s.kind }

func (s *softStore) GenerateKey(ctx context.Context, opts KeyOptions) (Key, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	if opts.Hardware {
		return nil, fmt.Errorf("generate key: the %s store cannot bind keys to a TPM: %w", s.kind, errors.ErrUnsupported)
	}
	// A vault that can be down says so now, before the caller sends a CSR for a
	// key it could not keep.
	if c, ok := s.v.(interface{ available() error }); ok {
		if err := c.available(); err != nil {
			return nil, fmt.Errorf("generate key: %w", err)
		}
	}
	signer, err := generateSoftwareKey(opts.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return &softKey{store: s, signer: signer, exportable: opts.Exportable}, nil
}

// generateSoftwareKey makes a key pair of the given algorithm in this process.
func generateSoftwareKey(alg Algorithm) (crypto.Signer, error) {
	switch alg {
	case "", ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	default:
		return nil, fmt.Errorf("unknown algorithm %q (want %s, %s, %s or %s)", alg, ECDSAP256, ECDSAP384, RSA2048, RSA3072)
	}
}

func (s *softStore) List(ctx context.Context, opts ListOptions) ([]*Identity, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list identities: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	records, err := s.v.listRecords()
	if err != nil {
		return nil, fmt.Errorf("list identities: %w", err)
	}
	var ids []*Identity
	for _, r := range records {
		if !opts.matches(r.Chain[0]) {
			continue
		}
		id, err := s.identity(r)
		var nf *NotFoundError
		if errors.As(err, &nf) {
			// A record whose key was removed behind our back (say, from the
			// keyring's own UI) is no usable identity; Delete still clears it.
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list identities: %w", err)
		}
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b *Identity) int {
		if c := a.AddedAt.Compare(b.AddedAt); c != 0 {
			return c
		}
		return strings.Compare(string(a.Fingerprint), string(b.Fingerprint))
	})
	return ids, nil
}

// matches reports whether cert passes the filters.
func (o ListOptions) matches(cert *x509.Certificate) bool {
	if o.LoginID != "" && cert.Subject.CommonName != o.LoginID {
		return false
	}
	if o.Issuer != nil && cert.CheckSignatureFrom(o.Issuer) != nil {
		return false
	}
	return true
}

// identity loads r's key and returns the identity.
func (s *softStore) identity(r *record) (*Identity, error) {
	fp := r.fingerprint()
	signer, err := s.loadKey(fp)
	if err != nil {
		return nil, err
	}
	return s.newIdentity(r, signer), nil
}

func (s *softStore) loadKey(fp Fingerprint) (crypto.Signer, error) {
	der, err := s.v.getKey(fp)
	if err != nil {
		return nil, fmt.Errorf("load key of %s: %w", fp, err)
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("load key of %s: %w", fp, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("load key of %s: unsupported key type %T", fp, key)
	}
	return signer, nil
}

func (s *softStore) Delete(ctx context.Context, fp Fingerprint) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", fp, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	if _, err := s.v.getRecord(fp); err != nil {
		return fmt.Errorf("delete %s: %w", fp, err)
	}
	// The record goes first: should the key then fail to go, what is left is a
	// key nobody lists, never a certificate without its key.
	if err := s.v.deleteRecord(fp); err != nil {
		return fmt.Errorf("delete certificate %s: %w", fp, err)
	}
	if err := s.v.deleteKey(fp); err != nil {
		var nf *NotFoundError
		if !errors.As(err, &nf) {
			return fmt.Errorf("delete key of %s (its certificate is gone): %w", fp, err)
		}
	}
	return nil
}

func (s *softStore) Export(ctx context.Context, fps []Fingerprint, password string, opts ExportOptions) ([]byte, error) {
	return s.exportPFX(ctx, fps, password, opts, true)
}

// CopyForBrowser implements [BrowserCopier]: the key is a software key of this
// user on this PC, and its copy stays on this PC for the same user.
func (s *softStore) CopyForBrowser(ctx context.Context, fp Fingerprint, password string) ([]byte, error) {
	return s.exportPFX(ctx, []Fingerprint{fp}, password, ExportOptions{}, false)
}

// exportPFX writes the identities into one PKCS#12 file; backup says whether
// the backup policy (Exportable) applies.
func (s *softStore) exportPFX(ctx context.Context, fps []Fingerprint, password string, opts ExportOptions, backup bool) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if len(fps) == 0 {
		return nil, errors.New("export: no identity named")
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	items := make([]pfxItem, 0, len(fps))
	seen := map[Fingerprint]bool{}
	for _, fp := range fps {
		if seen[fp] {
			continue
		}
		seen[fp] = true
		r, err := s.v.getRecord(fp)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", fp, err)
		}
		if backup && !r.Exportable {
			return nil, fmt.Errorf("export %q (%s): %w", r.Label, fp, ErrKeyNotExportable)
		}
		key, err := s.loadKey(fp)
		if err != nil {
			return nil, fmt.Errorf("export %q: %w", r.Label, err)
		}
		items = append(items, pfxItem{Key: key, Chain: r.Chain, FriendlyName: r.Label})
	}
	pfx, err := encodePFX(items, password, opts.Encoding)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return pfx, nil
}

func (s *softStore) Import(ctx context.Context, pfx []byte, password string, opts ImportOptions) (*ImportResult, error) {
	items, err := importItems(ctx, pfx, password, opts)
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	res := &ImportResult{}
	var added []Fingerprint
	seen := map[Fingerprint]bool{}
	for _, item := range items {
		r := &record{Label: item.FriendlyName, AddedAt: s.now(), Exportable: opts.exportable(item.Chain[0]), Chain: item.Chain}
		fp := r.fingerprint()
		if seen[fp] {
			continue
		}
		seen[fp] = true

		// An identity counts as present only with its key: a record whose key
		// went missing is repaired by writing both again.
		var nf *NotFoundError
		existing, err := s.v.getRecord(fp)
		if err == nil {
			id, err := s.identity(existing)
			if err == nil {
				res.AlreadyPresent = append(res.AlreadyPresent, id)
				continue
			}
			if !errors.As(err, &nf) {
				return nil, s.rollback(added, fmt.Errorf("import %s: %w", fp, err))
			}
		} else if !errors.As(err, &nf) {
			return nil, s.rollback(added, fmt.Errorf("import %s: %w", fp, err))
		}

		signer := item.Key
		if err := s.add(r, signer); err != nil {
			return nil, s.rollback(added, fmt.Errorf("import %q: %w", r.Label, err))
		}
		added = append(added, fp)
		res.Added = append(res.Added, s.newIdentity(r, signer))
	}
	return res, nil
}

// rollback removes the identities an Import added before failing with err.
func (s *softStore) rollback(added []Fingerprint, err error) error {
	errs := []error{err}
	for _, fp := range added {
		if derr := s.v.deleteRecord(fp); derr != nil {
			errs = append(errs, fmt.Errorf("undo import of %s: %w", fp, derr))
			continue
		}
		if derr := s.v.deleteKey(fp); derr != nil {
			errs = append(errs, fmt.Errorf("undo import of key %s: %w", fp, derr))
		}
	}
	return errors.Join(errs...)
}

// add writes key then record. If the record fails, the key is removed again.
func (s *softStore) add(r *record, key crypto.Signer) error {
	fp := r.fingerprint()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("marshal key: %w", err)
	}
	if err := s.v.putKey(r, der); err != nil {
		return fmt.Errorf("store key: %w", err)
	}
	if err := s.v.putRecord(r); err != nil {
		err = fmt.Errorf("store certificate %s: %w", fp, err)
		if derr := s.v.deleteKey(fp); derr != nil {
			return errors.Join(err, fmt.Errorf("remove its key again: %w", derr))
		}
		return err
	}
	return nil
}

func (s *softStore) newIdentity(r *record, signer crypto.Signer) *Identity {
	return &Identity{
		Label:       r.Label,
		Fingerprint: r.fingerprint(),
		Certificate: r.Chain[0],
		Chain:       slices.Clone(r.Chain[1:]),
		Signer:      signer,
		Exportable:  r.Exportable,
		AddedAt:     r.AddedAt,
	}
}

// checkLabel refuses labels that would not survive a record file or a keyring
// entry: control characters, line breaks among them.
func checkLabel(label string) error {
	if strings.IndexFunc(label, unicode.IsControl) >= 0 {
		return fmt.Errorf("label %q has a control character", label)
	}
	return nil
}

// softKey is a pending key of a softStore: in this process only, until Attach.
type softKey struct {
	store      *softStore
	signer     crypto.Signer
	exportable bool
	pending
}

func (k *softKey) Signer() crypto.Signer { return k.signer }

func (k *softKey) Attach(ctx context.Context, chain []*x509.Certificate, label string) (*Identity, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fp, err := k.checkAttach(ctx, k.signer.Public(), chain, label)
	if err != nil {
		return nil, err
	}

	s := k.store
	s.mu.Lock()
	defer s.mu.Unlock()

	if _, err := s.v.getRecord(fp); err == nil {
		return nil, fmt.Errorf("attach certificate %s: %w", fp, &AlreadyExistsError{Fingerprint: fp})
	} else if nf := (*NotFoundError)(nil); !errors.As(err, &nf) {
		return nil, fmt.Errorf("attach certificate %s: %w", fp, err)
	}
	r := &record{Label: label, AddedAt: s.now(), Exportable: k.exportable, Chain: slices.Clone(chain)}
	if err := s.add(r, k.signer); err != nil {
		return nil, fmt.Errorf("attach certificate %s: %w", fp, err)
	}
	k.attached = true
	return s.newIdentity(r, k.signer), nil
}

// Discard forgets the pending key. A soft key was never written anywhere before
// Attach, so there is nothing to delete.
func (k *softKey) Discard(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.attached {
		k.discarded = true
	}
	return nil
}
