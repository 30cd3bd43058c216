package certstore

// The Windows store: private keys in CNG, certificates in CurrentUser\MY linked
// to them, so that Edge and Chrome offer the certificate in their chooser and
// sign with the key through CNG like any other client certificate.
//
// Which certificates are Inkan's: those in MY whose CERT_KEY_PROV_INFO_PROP_ID
// points into a CNG provider (dwProvType 0) at a container whose name begins
// with containerPrefix. Inkan makes every container name itself, so the prefix
// marks its identities without a private property (Wine does not keep those).
//
// The raw calls live in cng_windows.go and crypt32_windows.go; this file holds
// the rules. docs/certstore-windows.md says what runs under Wine and what only
// on Windows.

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/inkan-dev/inkan/certstore/internal/cngblob"
)

// containerPrefix begins the name of every CNG key Inkan makes.
const containerPrefix = "inkan-"

// windowsStore is the Store over CNG and CurrentUser\MY.
type windowsStore struct {
	prefix string           // container-name prefix of this store's keys
	now    func() time.Time // when an identity enters the store

	// mu serialises the changes this process makes to MY, CA and the keys, so a
	// check-then-add cannot race another goroutine's.
	mu sync.Mutex
}

// openWindows opens the Windows store, after checking that the Software Key
// Storage Provider and CurrentUser\MY answer.
func openWindows() (Store, error) {
	return newWindowsStore(containerPrefix)
}

func newWindowsStore(prefix string) (*windowsStore, error) {
	if _, err := provider(providerSoftware); err != nil {
		return nil, &UnavailableError{Kind: KindWindows, Reason: "CNG has no Microsoft Software Key Storage Provider", Err: err}
	}
	h, err := openSystemStore(storeMY)
	if err != nil {
		return nil, &UnavailableError{Kind: KindWindows, Reason: "the CurrentUser\\MY certificate store does not open", Err: err}
	}
	if err := closeStore(h, storeMY); err != nil {
		return nil, &UnavailableError{Kind: KindWindows, Reason: "the CurrentUser\\MY certificate store does not close", Err: err}
	}
	return &windowsStore{prefix: prefix, now: time.Now}, nil
}

// Kind implements Store.
func (s *windowsStore) Kind() string { return KindWindows }

// GenerateKey implements Store. The key is a persisted CNG key under a fresh
// container name; it is exportable only with opts.Exportable, and never when
// opts.Hardware puts it in the TPM.
func (s *windowsStore) GenerateKey(ctx context.Context, opts KeyOptions) (Key, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	alg := opts.Algorithm
	if alg == "" {
		alg = ECDSAP256
	}
	cngAlg, bits, err := cngAlgorithm(alg)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	provName := providerSoftware
	if opts.Hardware {
		provName = providerPlatform
	}
	prov, err := provider(provName)
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	container, err := s.newContainerName()
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	exportable := opts.Exportable && !opts.Hardware

	s.mu.Lock()
	defer s.mu.Unlock()
	h, err := createPersistedKey(prov.handle, cngAlg, container)
	if isStatus(err, nteNotSupported) {
		return nil, fmt.Errorf("generate %s key in %s: %w", alg, provName, &UnsupportedKeyError{Kind: KindWindows, Algorithm: alg, Err: err})
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key in %s: %w", alg, provName, err)
	}
	if err := setupKey(h, bits, exportable, !opts.Hardware); err != nil {
		return nil, errors.Join(fmt.Errorf("generate %s key in %s: %w", alg, provName, err), freeObject(h))
	}
	if err := finalizeKey(h); err != nil {
		return nil, errors.Join(fmt.Errorf("generate %s key in %s: %w", alg, provName, err), freeObject(h))
	}
	key, err := newCNGKey(prov, container, h)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("generate %s key in %s: %w", alg, provName, err), removeKeyHandle(prov, h))
	}
	return &windowsKey{store: s, key: key, exportable: exportable, hardware: opts.Hardware}, nil
}

// cngAlgorithm maps an Algorithm to the CNG algorithm and, for RSA, the modulus size.
func cngAlgorithm(alg Algorithm) (string, uint32, error) {
	switch alg {
	case ECDSAP256:
		return algECDSAP256, 0, nil
	case ECDSAP384:
		return algECDSAP384, 0, nil
	case RSA2048:
		return algRSA, 2048, nil
	case RSA3072:
		return algRSA, 3072, nil
	default:
		return "", 0, fmt.Errorf("unknown algorithm %q (want %s, %s, %s or %s)", alg, ECDSAP256, ECDSAP384, RSA2048, RSA3072)
	}
}

// setupKey sets a created, not yet finalized key's properties: the RSA modulus
// size, signing as its only use, and, where the provider lets a caller choose
// (not the TPM, whose keys never leave it), the export policy.
func setupKey(h uintptr, bits uint32, exportable, setExportPolicy bool) error {
	if bits != 0 {
		if err := setPropertyUint32(h, propLength, bits, 0); err != nil {
			return err
		}
	}
	if err := setPropertyUint32(h, propKeyUsage, ncryptAllowSigningFlag, ncryptPersistFlag); err != nil {
		return err
	}
	if !setExportPolicy {
		return nil
	}
	// The policy is always written, 0 included, so that reading it back tells
	// exportable keys from others on every provider (Wine reports no policy at
	// all for a key that was never given one).
	var policy uint32
	if exportable {
		policy = ncryptAllowExportFlag | ncryptAllowPlaintextExportFlag
	}
	return setPropertyUint32(h, propExportPolicy, policy, ncryptPersistFlag)
}

// newContainerName returns a CNG key name no other key has: the store's prefix
// and 128 random bits.
func (s *windowsStore) newContainerName() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make a key container name: %w", err)
	}
	return s.prefix + hex.EncodeToString(b[:]), nil
}

// List implements Store.
func (s *windowsStore) List(ctx context.Context, opts ListOptions) ([]*Identity, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list identities: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ids, err := s.identities(func(sc *storeCert) bool { return opts.matches(sc.Cert) })
	if err != nil {
		return nil, fmt.Errorf("list identities: %w", err)
	}
	return ids, nil
}

// identities returns Inkan's identities in MY that keep says to keep, oldest
// first. A certificate whose key is gone is no usable identity and is left out.
// One whose key exists but cannot be opened or read (NCryptOpenKey or a later
// call failing for any other reason) is listed with Unusable set and no
// Signer, so that the others still list and the broken one can be deleted.
func (s *windowsStore) identities(keep func(*storeCert) bool) ([]*Identity, error) {
	mine, err := s.inkanCerts()
	if err != nil {
		return nil, err
	}
	var (
		ids     []*Identity
		cas     []*x509.Certificate
		casRead bool
	)
	for _, sc := range mine {
		if !keep(sc) {
			continue
		}
		key, err := loadKey(*sc.Link)
		var nf *NotFoundError
		if errors.As(err, &nf) {
			continue
		}
		if !casRead {
			var rerr error
			if cas, rerr = readStore(storeCA); rerr != nil {
				return nil, rerr
			}
			casRead = true
		}
		chain := buildChain(sc.Cert, cas)[1:]
		var id *Identity
		if err == nil {
			id, err = newWindowsIdentity(sc, key, chain)
		}
		if err != nil {
			id = &Identity{
				Label:       sc.FriendlyName,
				Fingerprint: FingerprintOf(sc.Cert),
				Certificate: sc.Cert,
				Chain:       chain,
				AddedAt:     sc.AddedAt,
				Unusable:    fmt.Sprintf("key %q in %s: %v", sc.Link.Container, sc.Link.Provider, err),
			}
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

// inkanCerts returns the certificates in MY that are linked to a CNG key this
// store made.
func (s *windowsStore) inkanCerts() ([]*storeCert, error) {
	h, err := openSystemStore(storeMY)
	if err != nil {
		return nil, err
	}
	all, err := enumStore(h)
	if cerr := closeStore(h, storeMY); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("read CurrentUser\\MY: %w", err)
	}
	var mine []*storeCert
	for _, sc := range all {
		if s.owns(sc.Link) {
			mine = append(mine, sc)
		}
	}
	return mine, nil
}

// owns reports whether link points at a key this store made.
func (s *windowsStore) owns(link *keyLink) bool {
	return link != nil && strings.HasPrefix(link.Container, s.prefix) &&
		(link.Provider == providerSoftware || link.Provider == providerPlatform)
}

// readStore returns the certificates of a CurrentUser system store.
func readStore(name string) ([]*x509.Certificate, error) {
	h, err := openSystemStore(name)
	if err != nil {
		return nil, err
	}
	all, err := enumStore(h)
	if cerr := closeStore(h, name); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("read CurrentUser\\%s: %w", name, err)
	}
	certs := make([]*x509.Certificate, 0, len(all))
	for _, sc := range all {
		certs = append(certs, sc.Cert)
	}
	return certs, nil
}

func newWindowsIdentity(sc *storeCert, key *cngKey, chain []*x509.Certificate) (*Identity, error) {
	exportable, err := key.exportable()
	if err != nil {
		return nil, fmt.Errorf("certificate %q (%s): %w", sc.FriendlyName, FingerprintOf(sc.Cert), err)
	}
	return &Identity{
		Label:       sc.FriendlyName,
		Fingerprint: FingerprintOf(sc.Cert),
		Certificate: sc.Cert,
		Chain:       chain,
		Signer:      key,
		Exportable:  exportable,
		Hardware:    key.prov.name == providerPlatform,
		AddedAt:     sc.AddedAt,
	}, nil
}

// Delete implements Store. The certificate goes first, then its key: a failure
// in between leaves an unreachable key, never a certificate without its key.
func (s *windowsStore) Delete(ctx context.Context, fp Fingerprint) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", fp, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mine, err := s.inkanCerts()
	if err != nil {
		return fmt.Errorf("delete %s: %w", fp, err)
	}
	i := slices.IndexFunc(mine, func(sc *storeCert) bool { return FingerprintOf(sc.Cert) == fp })
	if i < 0 {
		return fmt.Errorf("delete: %w", &NotFoundError{What: string(fp)})
	}
	sc := mine[i]
	if err := removeFromStore(storeMY, sc.Cert); err != nil {
		return fmt.Errorf("delete %q (%s): %w", sc.FriendlyName, fp, err)
	}
	if err := removeKey(*sc.Link); err != nil {
		return fmt.Errorf("delete the key of %q (%s): %w", sc.FriendlyName, fp, err)
	}
	return nil
}

// removeOrphans implements orphanRemover: it deletes the certificates in MY
// that link to a key of this store's that no longer exists (NTE_BAD_KEYSET;
// under Wine every key of an earlier process).
func (s *windowsStore) removeOrphans(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("remove certificates without a key: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mine, err := s.inkanCerts()
	if err != nil {
		return 0, fmt.Errorf("remove certificates without a key: %w", err)
	}
	n := 0
	var errs []error
	for _, sc := range mine {
		var nf *NotFoundError
		if _, err := loadKey(*sc.Link); !errors.As(err, &nf) {
			continue
		}
		if err := removeFromStore(storeMY, sc.Cert); err != nil {
			errs = append(errs, fmt.Errorf("remove %q (%s), whose key is gone: %w", sc.FriendlyName, FingerprintOf(sc.Cert), err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// removeFromStore deletes cert from a CurrentUser system store; a certificate
// that is not there is no error.
func removeFromStore(name string, cert *x509.Certificate) error {
	h, err := openSystemStore(name)
	if err != nil {
		return err
	}
	ctx, err := findCert(h, cert.Raw)
	if err == nil && ctx != nil {
		err = deleteCert(ctx)
	}
	if cerr := commitAndCloseStore(h, name); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("remove %s from CurrentUser\\%s: %w", FingerprintOf(cert), name, err)
	}
	return nil
}

// Export implements Store. Keys leave CNG as BCRYPT_RSAFULLPRIVATE_BLOB or
// BCRYPT_ECCPRIVATE_BLOB, which the Software KSP releases only under
// NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG, and go into the PKCS#12 file at once.
func (s *windowsStore) Export(ctx context.Context, fps []Fingerprint, password string, opts ExportOptions) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	s.mu.Lock()
	ids, err := s.identities(func(sc *storeCert) bool { return slices.Contains(fps, FingerprintOf(sc.Cert)) })
	s.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	byFP := make(map[Fingerprint]*Identity, len(ids))
	for _, id := range ids {
		byFP[id.Fingerprint] = id
	}
	items := make([]pfxItem, 0, len(fps))
	for _, fp := range fps {
		id, ok := byFP[fp]
		if !ok {
			return nil, fmt.Errorf("export: %w", &NotFoundError{What: string(fp)})
		}
		if !id.Exportable {
			return nil, fmt.Errorf("export %q (%s): %w", id.Label, fp, ErrKeyNotExportable)
		}
		key, err := id.Signer.(*cngKey).export()
		if err != nil {
			return nil, fmt.Errorf("export %q (%s): %w", id.Label, fp, err)
		}
		items = append(items, pfxItem{Key: key, Chain: append([]*x509.Certificate{id.Certificate}, id.Chain...), FriendlyName: id.Label})
	}
	pfx, err := encodePFX(items, password, opts.Encoding)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return pfx, nil
}

// Import implements Store. Each new identity's key is imported into the Software
// KSP under a fresh container name, its CA certificates go to CurrentUser\CA and
// its certificate to MY; on any failure everything this call added is removed.
func (s *windowsStore) Import(ctx context.Context, pfx []byte, password string, opts ImportOptions) (*ImportResult, error) {
	items, err := importItems(ctx, pfx, password, opts)
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	present, err := s.identities(func(*storeCert) bool { return true })
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	mine, err := s.inkanCerts()
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	res := &ImportResult{}
	var undo changes
	seen := map[Fingerprint]bool{}
	for _, item := range items {
		fp := FingerprintOf(item.Chain[0])
		if seen[fp] {
			continue
		}
		seen[fp] = true
		if i := slices.IndexFunc(present, func(id *Identity) bool { return id.Fingerprint == fp }); i >= 0 {
			res.AlreadyPresent = append(res.AlreadyPresent, present[i])
			continue
		}
		if slices.ContainsFunc(mine, func(sc *storeCert) bool { return sc.Cert.Equal(item.Chain[0]) }) {
			// In MY with Inkan's key link but without its key: not listed, no use
			// to anyone, and the backup is what restores it.
			if err := removeFromStore(storeMY, item.Chain[0]); err != nil {
				return nil, errors.Join(fmt.Errorf("import %q (%s): replace the certificate whose key is gone: %w", item.FriendlyName, fp, err), undo.revert())
			}
		}
		id, err := s.importItem(item, opts.exportable(item.Chain[0]), &undo)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("import %q (%s): %w", item.FriendlyName, fp, err), undo.revert())
		}
		res.Added = append(res.Added, id)
	}
	return res, nil
}

// importItem adds one identity, recording each step in undo.
func (s *windowsStore) importItem(item pfxItem, exportable bool, undo *changes) (*Identity, error) {
	leaf := item.Chain[0]
	prov, err := provider(providerSoftware)
	if err != nil {
		return nil, err
	}
	container, err := s.newContainerName()
	if err != nil {
		return nil, err
	}
	h, err := importPrivateKey(prov, item.Key, container, exportable)
	if err != nil {
		return nil, err
	}
	key, err := newCNGKey(prov, container, h)
	if err != nil {
		return nil, errors.Join(err, removeKeyHandle(prov, h))
	}
	undo.keys = append(undo.keys, keyLink{Provider: prov.name, Container: container})
	// Some providers accept key material they then ignore; what counts is what
	// the key in CNG signs with.
	if err := checkPublicKeyMatches(key.Public(), leaf); err != nil {
		return nil, err
	}
	addedAt := s.now()
	if err := addIdentityCerts(item.Chain, keyLink{Provider: prov.name, Container: container}, item.FriendlyName, addedAt, undo); err != nil {
		return nil, err
	}
	return newWindowsIdentity(&storeCert{Cert: leaf, FriendlyName: item.FriendlyName, AddedAt: addedAt}, key, slices.Clone(item.Chain[1:]))
}

// importPrivateKey imports key into prov under container, with the export
// policy and key usage set before the key is finalized.
//
// On Windows this is the documented way (NCryptImportKey, "Microsoft Software
// KSP"): an NCRYPT_PKCS8_PRIVATE_KEY_BLOB, the name in an
// NCRYPTBUFFER_PKCS_KEY_NAME buffer (without a name the key would be ephemeral),
// and NCRYPT_DO_NOT_FINALIZE_FLAG, which the page documents for PKCS #7 and
// PKCS #8 private keys only; then NCryptSetProperty and NCryptFinalizeKey. An EC
// key imported so may come back in the "ECDH" algorithm group; it signs all the
// same (cngblob.IsECC).
func importPrivateKey(prov *cngProvider, key crypto.PrivateKey, container string, exportable bool) (uintptr, error) {
	if !prov.persistsKeys {
		// A provider that keeps no keys (Wine's) takes no name, no
		// NCRYPT_DO_NOT_FINALIZE_FLAG and no PKCS#8 (NTE_NOT_SUPPORTED,
		// NTE_BAD_FLAGS, NTE_INVALID_PARAMETER), but CNG's own RSA/ECC private
		// blobs: its key is final at once and lives as long as the handle the
		// key table holds. It records an export policy set afterwards, which is
		// all Export reads.
		blobType, blob, err := cngblob.EncodePrivate(key)
		if err != nil {
			return 0, err
		}
		h, err := importKey(prov.handle, blobType, blob, "", false)
		if err != nil {
			return 0, err
		}
		if err := setupKey(h, 0, exportable, true); err != nil {
			return 0, errors.Join(err, freeObject(h))
		}
		return h, nil
	}
	if _, _, err := cngblob.EncodePrivate(key); err != nil {
		// The same key kinds as the blobs: RSA, ECDSA P-256 and P-384.
		return 0, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return 0, fmt.Errorf("encode the key as PKCS#8: %w", err)
	}
	h, err := importKey(prov.handle, blobPKCS8Private, der, container, true)
	clear(der)
	if err != nil {
		return 0, err
	}
	if err := setupKey(h, 0, exportable, true); err != nil {
		return 0, errors.Join(err, freeObject(h))
	}
	if err := finalizeKey(h); err != nil {
		return 0, errors.Join(err, freeObject(h))
	}
	return h, nil
}

// changes records what an Attach or Import added, to take it back on failure.
type changes struct {
	my   []*x509.Certificate // certificates added to CurrentUser\MY
	ca   []*x509.Certificate // certificates added to CurrentUser\CA
	keys []keyLink           // CNG keys created
}

// revert removes what c records, newest first, and reports what it could not remove.
func (c *changes) revert() error {
	var errs []error
	for _, cert := range slices.Backward(c.my) {
		if err := removeFromStore(storeMY, cert); err != nil {
			errs = append(errs, fmt.Errorf("undo: %w", err))
		}
	}
	for _, cert := range slices.Backward(c.ca) {
		if err := removeFromStore(storeCA, cert); err != nil {
			errs = append(errs, fmt.Errorf("undo: %w", err))
		}
	}
	for _, link := range slices.Backward(c.keys) {
		if err := removeKey(link); err != nil {
			errs = append(errs, fmt.Errorf("undo: remove key %q: %w", link.Container, err))
		}
	}
	return errors.Join(errs...)
}

// addIdentityCerts puts chain[1:] into CurrentUser\CA where missing, then
// chain[0] into MY linked to its key, recording in undo what it added. The
// leaf must not be in MY yet.
func addIdentityCerts(chain []*x509.Certificate, link keyLink, label string, addedAt time.Time, undo *changes) error {
	if len(chain) > 1 {
		h, err := openSystemStore(storeCA)
		if err != nil {
			return err
		}
		for _, ca := range chain[1:] {
			if err = addIfMissing(h, ca, undo); err != nil {
				break
			}
		}
		if cerr := closeAfterAdding(h, storeCA, undo.ca); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("add CA certificates to CurrentUser\\CA: %w", err)
		}
	}

	h, err := openSystemStore(storeMY)
	if err != nil {
		return err
	}
	err = addLinked(h, chain[0], link, label, addedAt, undo)
	if cerr := closeAfterAdding(h, storeMY, undo.my); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("add the certificate to CurrentUser\\MY: %w", err)
	}
	return nil
}

// closeAfterAdding commits and closes a store that certs were added to. A
// failed commit (CertControlStore) is no failure when the certificates are in
// the store anyway: Windows writes a registry store through at each add, so
// there the commit is only ever Wine's need, and an add Windows has written
// must not be undone for it.
func closeAfterAdding(h windows.Handle, name string, certs []*x509.Certificate) error {
	err := commitAndCloseStore(h, name)
	var se *SystemError
	if err == nil || !errors.As(err, &se) || se.Call != "CertControlStore" {
		return err
	}
	again, oerr := openSystemStore(name)
	if oerr != nil {
		return errors.Join(err, oerr)
	}
	missing := false
	for _, c := range certs {
		found, ferr := findCert(again, c.Raw)
		if ferr != nil || found == nil {
			missing = true
			break
		}
		windows.CertFreeCertificateContext(found)
	}
	if cerr := closeStore(again, name); cerr != nil || missing {
		return errors.Join(err, cerr)
	}
	return nil
}

// addIfMissing adds a CA certificate to an open store unless it is there.
func addIfMissing(h windows.Handle, cert *x509.Certificate, undo *changes) error {
	found, err := findCert(h, cert.Raw)
	if err != nil {
		return err
	}
	if found != nil {
		windows.CertFreeCertificateContext(found)
		return nil
	}
	added, err := addCert(h, cert)
	if err != nil {
		return fmt.Errorf("add %q: %w", cert.Subject.CommonName, err)
	}
	windows.CertFreeCertificateContext(added)
	undo.ca = append(undo.ca, cert)
	return nil
}

// addLinked adds leaf to the open MY store with its key link, friendly name and
// date stamp. A leaf whose properties cannot be written is taken out again.
func addLinked(h windows.Handle, leaf *x509.Certificate, link keyLink, label string, addedAt time.Time, undo *changes) error {
	fp := FingerprintOf(leaf)
	found, err := findCert(h, leaf.Raw)
	if err != nil {
		return err
	}
	if found != nil {
		windows.CertFreeCertificateContext(found)
		return &AlreadyExistsError{Fingerprint: fp}
	}
	added, err := addCert(h, leaf)
	if err != nil {
		return err
	}
	if err := linkCert(added, link, label, addedAt); err != nil {
		// CertDeleteCertificateFromStore frees added.
		return errors.Join(err, deleteCert(added))
	}
	windows.CertFreeCertificateContext(added)
	undo.my = append(undo.my, leaf)
	return nil
}

// windowsKey is a pending CNG key: persisted in its provider, not yet linked to
// a certificate.
type windowsKey struct {
	store      *windowsStore
	key        *cngKey
	exportable bool
	hardware   bool
	pending
}

// Signer implements Key.
func (k *windowsKey) Signer() crypto.Signer { return k.key }

// Attach implements Key: the chain's CA certificates go to CurrentUser\CA where
// missing, the leaf to CurrentUser\MY with the key link and the label as its
// friendly name. On failure nothing it added stays; the key stays pending.
func (k *windowsKey) Attach(ctx context.Context, chain []*x509.Certificate, label string) (*Identity, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fp, err := k.checkAttach(ctx, k.key.Public(), chain, label)
	if err != nil {
		return nil, err
	}

	s := k.store
	s.mu.Lock()
	defer s.mu.Unlock()
	var undo changes
	addedAt := s.now()
	link := keyLink{Provider: k.key.prov.name, Container: k.key.container}
	if err := addIdentityCerts(chain, link, label, addedAt, &undo); err != nil {
		return nil, errors.Join(fmt.Errorf("attach certificate %s: %w", fp, err), undo.revert())
	}
	k.attached = true
	return &Identity{
		Label:       label,
		Fingerprint: fp,
		Certificate: chain[0],
		Chain:       slices.Clone(chain[1:]),
		Signer:      k.key,
		Exportable:  k.exportable,
		Hardware:    k.hardware,
		AddedAt:     addedAt,
	}, nil
}

// Discard implements Key: NCryptDeleteKey removes the pending key from its provider.
func (k *windowsKey) Discard(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.attached || k.discarded {
		return nil
	}
	k.store.mu.Lock()
	defer k.store.mu.Unlock()
	if err := removeKey(keyLink{Provider: k.key.prov.name, Container: k.key.container}); err != nil {
		return fmt.Errorf("discard key %q: %w", k.key.container, err)
	}
	k.discarded = true
	return nil
}

// cngProvider is an open key storage provider.
type cngProvider struct {
	name   string
	handle uintptr
	// persistsKeys is false for a provider that keeps a key only as long as a
	// handle on it is open: NCryptOpenKey answers NTE_NOT_SUPPORTED instead of
	// NTE_BAD_KEYSET for a name it does not know. Wine's ncrypt.dll is one.
	persistsKeys bool
}

// The providers and keys this process has open. CNG handles belong to the
// process, and a provider that does not persist keys holds them only here, so
// these tables are shared by every windowsStore.
var (
	providersMu sync.Mutex
	providers   = map[string]*cngProvider{}

	keysMu sync.Mutex
	keys   = map[keyLink]*cngKey{}
)

// provider returns the open provider called name, opening it on first use.
func provider(name string) (*cngProvider, error) {
	providersMu.Lock()
	defer providersMu.Unlock()
	if p, ok := providers[name]; ok {
		return p, nil
	}
	h, err := openProviderHandle(name)
	if err != nil {
		return nil, err
	}
	p := &cngProvider{name: name, handle: h, persistsKeys: true}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, errors.Join(fmt.Errorf("probe key storage provider %q: %w", name, err), freeObject(h))
	}
	if kh, err := openKey(h, containerPrefix+"probe-"+hex.EncodeToString(b[:])); err == nil {
		if err := freeObject(kh); err != nil {
			return nil, errors.Join(fmt.Errorf("probe key storage provider %q: %w", name, err), freeObject(h))
		}
	} else if isStatus(err, nteNotSupported) {
		p.persistsKeys = false
	}
	providers[name] = p
	return p, nil
}

// cngKey is an open CNG key; it is the crypto.Signer of a Windows identity.
type cngKey struct {
	prov      *cngProvider
	container string
	handle    uintptr
	group     string // NCRYPT_ALGORITHM_GROUP_PROPERTY: "RSA", "ECDSA" or "ECDH" (cngblob.IsECC)
	pub       crypto.PublicKey
}

// newCNGKey reads a finalized key's algorithm and public key and records it in
// the process's key table.
func newCNGKey(prov *cngProvider, container string, h uintptr) (*cngKey, error) {
	group, err := getPropertyString(h, propAlgorithmGroup)
	if err != nil {
		return nil, err
	}
	blob, err := exportKey(h, cngblob.PublicBlobType(group))
	if err != nil {
		return nil, fmt.Errorf("read the public key: %w", err)
	}
	pub, err := cngblob.ParsePublic(blob)
	if err != nil {
		return nil, fmt.Errorf("read the public key: %w", err)
	}
	k := &cngKey{prov: prov, container: container, handle: h, group: group, pub: pub}
	keysMu.Lock()
	keys[keyLink{Provider: prov.name, Container: container}] = k
	keysMu.Unlock()
	return k, nil
}

// loadKey returns the key a certificate links to: from the key table, or opened
// with NCryptOpenKey. A key that does not exist is a *NotFoundError.
func loadKey(link keyLink) (*cngKey, error) {
	keysMu.Lock()
	k, ok := keys[link]
	keysMu.Unlock()
	if ok {
		return k, nil
	}
	prov, err := provider(link.Provider)
	if err != nil {
		return nil, err
	}
	h, err := openKey(prov.handle, link.Container)
	if isStatus(err, nteBadKeyset) || (!prov.persistsKeys && isStatus(err, nteNotSupported)) {
		return nil, &NotFoundError{What: fmt.Sprintf("key %q in %s", link.Container, link.Provider)}
	}
	if err != nil {
		return nil, err
	}
	k, err = newCNGKey(prov, link.Container, h)
	if err != nil {
		return nil, errors.Join(err, freeObject(h))
	}
	return k, nil
}

// removeKey deletes the key link points at. A key that does not exist is no
// error. A key that NCryptOpenKey opens but that cannot be read (an unusable
// identity's) is deleted by that handle; one that NCryptOpenKey refuses for any
// other reason cannot be reached through CNG at all, so there is nothing left
// to delete and that is no error either: its certificate is already gone.
func removeKey(link keyLink) error {
	k, err := loadKey(link)
	var nf *NotFoundError
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		prov, perr := provider(link.Provider)
		if perr != nil {
			return errors.Join(err, perr)
		}
		h, oerr := openKey(prov.handle, link.Container)
		if oerr != nil {
			return nil
		}
		return removeKeyHandle(prov, h)
	}
	keysMu.Lock()
	delete(keys, link)
	keysMu.Unlock()
	return removeKeyHandle(k.prov, k.handle)
}

// removeKeyHandle deletes a key by its handle and frees the handle. For a
// provider that does not persist keys, freeing the handle is what deletes it.
func removeKeyHandle(prov *cngProvider, h uintptr) error {
	err := deleteKey(h)
	if err != nil && !prov.persistsKeys && isStatus(err, nteNotSupported) {
		return freeObject(h)
	}
	return err
}

// Public implements crypto.Signer.
func (k *cngKey) Public() crypto.PublicKey { return k.pub }

// Sign implements crypto.Signer with NCryptSignHash: PKCS#1 v1.5 or PSS for RSA
// (PSS when opts is *rsa.PSSOptions), ASN.1 DER for ECDSA.
func (k *cngKey) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	hash := opts.HashFunc()
	if hash == 0 || len(digest) != hash.Size() {
		return nil, fmt.Errorf("sign with key %q: a digest of %d bytes does not fit hash %v", k.container, len(digest), hash)
	}
	switch {
	case k.group == "RSA":
		sig, err := k.signRSA(digest, opts)
		if err != nil {
			return nil, fmt.Errorf("sign with key %q: %w", k.container, err)
		}
		return sig, nil
	case cngblob.IsECC(k.group):
		raw, err := signHash(k.handle, nil, digest, 0)
		if err != nil {
			return nil, fmt.Errorf("sign with key %q: %w", k.container, err)
		}
		// CNG answers r||s, each as wide as the curve's order; X.509 and TLS want
		// the ASN.1 SEQUENCE of two INTEGERs.
		half := len(raw) / 2
		sig, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(raw[:half]), new(big.Int).SetBytes(raw[half:])})
		if err != nil {
			return nil, fmt.Errorf("sign with key %q: encode the signature: %w", k.container, err)
		}
		return sig, nil
	default:
		return nil, fmt.Errorf("sign with key %q: unsupported algorithm group %q", k.container, k.group)
	}
}

// cngHashNames are the CNG names of the hashes RSA signatures use (bcrypt.h).
var cngHashNames = map[crypto.Hash]string{
	crypto.SHA1:   "SHA1",   // BCRYPT_SHA1_ALGORITHM
	crypto.SHA256: "SHA256", // BCRYPT_SHA256_ALGORITHM
	crypto.SHA384: "SHA384", // BCRYPT_SHA384_ALGORITHM
	crypto.SHA512: "SHA512", // BCRYPT_SHA512_ALGORITHM
}

func (k *cngKey) signRSA(digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	hash := opts.HashFunc()
	name, ok := cngHashNames[hash]
	if !ok {
		return nil, fmt.Errorf("unsupported hash %v for an RSA signature", hash)
	}
	alg := utf16Ptr(name)
	pss, ok := opts.(*rsa.PSSOptions)
	if !ok {
		info := bcryptPKCS1PaddingInfo{pszAlgID: alg}
		return signHash(k.handle, unsafe.Pointer(&info), digest, bcryptPadPKCS1)
	}
	salt := pss.SaltLength
	switch salt {
	case rsa.PSSSaltLengthEqualsHash:
		salt = hash.Size()
	case rsa.PSSSaltLengthAuto:
		// As crypto/rsa does: the longest salt the modulus leaves room for.
		salt = (k.pub.(*rsa.PublicKey).N.BitLen()-1+7)/8 - 2 - hash.Size()
	}
	if salt < 0 {
		return nil, fmt.Errorf("invalid PSS salt length %d", pss.SaltLength)
	}
	info := bcryptPSSPaddingInfo{pszAlgID: alg, cbSalt: uint32(salt)}
	return signHash(k.handle, unsafe.Pointer(&info), digest, bcryptPadPSS)
}

// exportable reports whether the key's export policy lets it out in plaintext.
func (k *cngKey) exportable() (bool, error) {
	if k.prov.name == providerPlatform {
		return false, nil
	}
	policy, err := getPropertyUint32(k.handle, propExportPolicy)
	if err != nil {
		return false, err
	}
	return policy&ncryptAllowPlaintextExportFlag != 0, nil
}

// export returns the private key, for a PKCS#12 backup.
func (k *cngKey) export() (crypto.Signer, error) {
	blob, err := exportKey(k.handle, cngblob.PrivateBlobType(k.group))
	if err != nil {
		return nil, err
	}
	key, err := cngblob.ParsePrivate(blob)
	if err != nil {
		return nil, err
	}
	if !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(k.pub) {
		return nil, fmt.Errorf("exported key of %q is not the key CNG signs with", k.container)
	}
	return key, nil
}
