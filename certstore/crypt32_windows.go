package certstore

// The raw certificate store (crypt32.dll) calls the Windows store makes. Errors
// name the Win32 call and the error code it left in GetLastError.

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	crypt32 = windows.NewLazySystemDLL("crypt32.dll")

	procCertSetCertificateContextProperty = crypt32.NewProc("CertSetCertificateContextProperty")
	procCertGetCertificateContextProperty = crypt32.NewProc("CertGetCertificateContextProperty")
	procCertControlStore                  = crypt32.NewProc("CertControlStore")
)

// System stores of the current user (wincrypt.h, "System Store Locations").
const (
	storeMY = "MY" // personal certificates, with their keys: what browsers offer
	storeCA = "CA" // intermediate certification authorities
)

// Certificate context property identifiers (wincrypt.h).
const (
	certKeyProvInfoPropID  = 2  // CERT_KEY_PROV_INFO_PROP_ID: CRYPT_KEY_PROV_INFO, the link to the key
	certFriendlyNamePropID = 11 // CERT_FRIENDLY_NAME_PROP_ID: UTF-16 name shown in certificate choosers
	certDateStampPropID    = 27 // CERT_DATE_STAMP_PROP_ID: FILETIME the certificate was added to the store
)

// Encodings and errors (wincrypt.h, winerror.h).
const (
	encodingX509                 = windows.X509_ASN_ENCODING | windows.PKCS_7_ASN_ENCODING
	cryptENotFound windows.Errno = 0x80092004 // CRYPT_E_NOT_FOUND: no such certificate or property

	certStoreCtrlCommit = 3 // CERT_STORE_CTRL_COMMIT: write the store's changes to the registry now
)

// cryptKeyProvInfo is CRYPT_KEY_PROV_INFO (wincrypt.h).
type cryptKeyProvInfo struct {
	pwszContainerName *uint16
	pwszProvName      *uint16
	dwProvType        uint32 // 0 for a CNG key storage provider
	dwFlags           uint32 // 0: a per-user key, not CRYPT_MACHINE_KEYSET
	cProvParam        uint32
	rgProvParam       uintptr
	dwKeySpec         uint32 // 0 for a CNG key
}

// keyLink is where a certificate's private key lives, as CERT_KEY_PROV_INFO_PROP_ID says.
type keyLink struct {
	Provider  string // key storage provider name
	Container string // key name inside it
}

// cryptErrorNames names the crypt32 codes a report is likeliest to carry
// (winerror.h), where FormatMessage may know none.
var cryptErrorNames = map[uint32]string{
	0x80092004: "CRYPT_E_NOT_FOUND",
	0x80092005: "CRYPT_E_EXISTS",
	0x8009200B: "CRYPT_E_NO_KEY_PROPERTY",
	0x80090016: "NTE_BAD_KEYSET",
	0x80090029: "NTE_NOT_SUPPORTED",
}

// win32Error names a Win32 call that failed and the code GetLastError gave.
func win32Error(call string, err error) error {
	var errno windows.Errno
	if errors.As(err, &errno) {
		name, ok := cryptErrorNames[uint32(errno)]
		if !ok {
			name = errno.Error()
		}
		return &SystemError{Call: call, Code: uint32(errno), Name: name}
	}
	return &SystemError{Call: call, Name: fmt.Sprint(err)}
}

// openSystemStore wraps CertOpenStore for a CurrentUser system store.
func openSystemStore(name string) (windows.Handle, error) {
	h, err := windows.CertOpenStore(windows.CERT_STORE_PROV_SYSTEM, 0, 0,
		windows.CERT_SYSTEM_STORE_CURRENT_USER, uintptr(unsafe.Pointer(utf16Ptr(name))))
	if err != nil {
		return 0, fmt.Errorf("open CurrentUser\\%s: %w", name, win32Error("CertOpenStore", err))
	}
	return h, nil
}

// closeStore wraps CertCloseStore. Wine and Windows write a registry store's
// changes when its last reference goes, so every context must be freed first.
func closeStore(h windows.Handle, name string) error {
	if err := windows.CertCloseStore(h, 0); err != nil {
		return fmt.Errorf("close CurrentUser\\%s: %w", name, win32Error("CertCloseStore", err))
	}
	return nil
}

// commitAndCloseStore writes a store's changes (CertControlStore with
// CERT_STORE_CTRL_COMMIT), then closes it. Windows writes a registry store
// through at once and ignores the commit; Wine writes at the last release, which
// CertDeleteCertificateFromStore delays for ever because Wine's does not free the
// context it is given.
func commitAndCloseStore(h windows.Handle, name string) error {
	if err := commitStore(h); err != nil {
		return errors.Join(fmt.Errorf("commit CurrentUser\\%s: %w", name, err), closeStore(h, name))
	}
	return closeStore(h, name)
}

// commitStore is CertControlStore with CERT_STORE_CTRL_COMMIT; a variable so
// that a test can make it fail.
var commitStore = func(h windows.Handle) error {
	r, _, err := procCertControlStore.Call(uintptr(h), 0, certStoreCtrlCommit, 0)
	if r == 0 {
		return win32Error("CertControlStore", err)
	}
	return nil
}

// storeCert is one certificate read from a store, with the properties Inkan uses.
type storeCert struct {
	Cert         *x509.Certificate
	Link         *keyLink // nil when the certificate has no key link
	FriendlyName string
	AddedAt      time.Time // zero when the store has no date stamp
}

// enumStore wraps CertEnumCertificatesInStore and returns every certificate in
// the store with its properties.
func enumStore(h windows.Handle) ([]*storeCert, error) {
	var out []*storeCert
	var ctx *windows.CertContext
	for {
		next, err := windows.CertEnumCertificatesInStore(h, ctx)
		if next == nil {
			if errors.Is(err, cryptENotFound) || errors.Is(err, windows.ERROR_NO_MORE_FILES) || err == nil {
				return out, nil
			}
			return nil, win32Error("CertEnumCertificatesInStore", err)
		}
		ctx = next
		sc, err := readStoreCert(ctx)
		if err != nil {
			windows.CertFreeCertificateContext(ctx)
			return nil, err
		}
		out = append(out, sc)
	}
}

// readStoreCert parses ctx's certificate and reads its Inkan properties.
func readStoreCert(ctx *windows.CertContext) (*storeCert, error) {
	der := unsafe.Slice(ctx.EncodedCert, ctx.Length)
	cert, err := x509.ParseCertificate(append([]byte(nil), der...))
	if err != nil {
		return nil, fmt.Errorf("parse certificate %s from the store: %w", fingerprintOf(der), err)
	}
	sc := &storeCert{Cert: cert}
	if b, err := getCertProperty(ctx, certKeyProvInfoPropID); err != nil {
		return nil, fmt.Errorf("certificate %s: %w", fingerprintOf(der), err)
	} else if len(b) >= int(unsafe.Sizeof(cryptKeyProvInfo{})) {
		// The property's buffer holds the struct followed by the strings it points into.
		info := (*cryptKeyProvInfo)(unsafe.Pointer(&b[0]))
		if info.dwProvType == 0 && info.pwszContainerName != nil && info.pwszProvName != nil {
			sc.Link = &keyLink{
				Provider:  windows.UTF16PtrToString(info.pwszProvName),
				Container: windows.UTF16PtrToString(info.pwszContainerName),
			}
		}
	}
	if b, err := getCertProperty(ctx, certFriendlyNamePropID); err != nil {
		return nil, fmt.Errorf("certificate %s: %w", fingerprintOf(der), err)
	} else if len(b) >= 2 {
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
		sc.FriendlyName = windows.UTF16ToString(u)
	}
	if b, err := getCertProperty(ctx, certDateStampPropID); err != nil {
		return nil, fmt.Errorf("certificate %s: %w", fingerprintOf(der), err)
	} else if len(b) == 8 {
		ft := windows.Filetime{LowDateTime: binary.LittleEndian.Uint32(b), HighDateTime: binary.LittleEndian.Uint32(b[4:])}
		sc.AddedAt = time.Unix(0, ft.Nanoseconds())
	}
	return sc, nil
}

// getCertProperty wraps CertGetCertificateContextProperty. A property the
// certificate does not have is nil, not an error.
func getCertProperty(ctx *windows.CertContext, propID uint32) ([]byte, error) {
	call := "CertGetCertificateContextProperty"
	var size uint32
	r, _, err := procCertGetCertificateContextProperty.Call(uintptr(unsafe.Pointer(ctx)), uintptr(propID), 0, uintptr(unsafe.Pointer(&size)))
	if r == 0 {
		if errors.Is(err, cryptENotFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("read property %d: %w", propID, win32Error(call, err))
	}
	if size == 0 {
		return nil, nil
	}
	buf := make([]byte, size)
	r, _, err = procCertGetCertificateContextProperty.Call(uintptr(unsafe.Pointer(ctx)), uintptr(propID), uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)))
	if r == 0 {
		return nil, fmt.Errorf("read property %d: %w", propID, win32Error(call, err))
	}
	return buf[:size], nil
}

// setCertProperty wraps CertSetCertificateContextProperty; pv points at the
// property's value in the form wincrypt.h gives for propID.
func setCertProperty(ctx *windows.CertContext, propID uint32, pv unsafe.Pointer) error {
	r, _, err := procCertSetCertificateContextProperty.Call(uintptr(unsafe.Pointer(ctx)), uintptr(propID), 0, uintptr(pv))
	if r == 0 {
		return fmt.Errorf("set property %d: %w", propID, win32Error("CertSetCertificateContextProperty", err))
	}
	return nil
}

// addCert wraps CertAddEncodedCertificateToStore with CERT_STORE_ADD_NEW and
// returns the stored context, which the caller frees. A certificate that is
// there already fails with CRYPT_E_EXISTS.
func addCert(store windows.Handle, cert *x509.Certificate) (*windows.CertContext, error) {
	ctx, err := windows.CertCreateCertificateContext(encodingX509, &cert.Raw[0], uint32(len(cert.Raw)))
	if err != nil {
		return nil, win32Error("CertCreateCertificateContext", err)
	}
	defer windows.CertFreeCertificateContext(ctx)
	var added *windows.CertContext
	if err := windows.CertAddCertificateContextToStore(store, ctx, windows.CERT_STORE_ADD_NEW, &added); err != nil {
		return nil, win32Error("CertAddCertificateContextToStore", err)
	}
	return added, nil
}

// findCert returns the context of the certificate with this DER in the store, or
// nil when there is none. The caller frees it. It matches by SHA-1 of the whole
// DER (CERT_FIND_SHA1_HASH), not by issuer and serial (CERT_FIND_EXISTING):
// two CA certificates may share both and still be different certificates.
func findCert(store windows.Handle, der []byte) (*windows.CertContext, error) {
	sum := sha1.Sum(der)
	blob := windows.CryptHashBlob{Size: uint32(len(sum)), Data: &sum[0]}
	found, err := windows.CertFindCertificateInStore(store, encodingX509, 0, windows.CERT_FIND_SHA1_HASH, unsafe.Pointer(&blob), nil)
	if found == nil {
		if errors.Is(err, cryptENotFound) {
			return nil, nil
		}
		return nil, win32Error("CertFindCertificateInStore", err)
	}
	return found, nil
}

// deleteCert wraps CertDeleteCertificateFromStore, which frees ctx in every case.
func deleteCert(ctx *windows.CertContext) error {
	if err := windows.CertDeleteCertificateFromStore(ctx); err != nil {
		return win32Error("CertDeleteCertificateFromStore", err)
	}
	return nil
}

// linkCert writes the properties that make ctx an Inkan identity: the key link
// browsers follow, the friendly name choosers show, and the date it was added.
func linkCert(ctx *windows.CertContext, link keyLink, label string, addedAt time.Time) error {
	info := cryptKeyProvInfo{
		pwszContainerName: utf16Ptr(link.Container),
		pwszProvName:      utf16Ptr(link.Provider),
	}
	if err := setCertProperty(ctx, certKeyProvInfoPropID, unsafe.Pointer(&info)); err != nil {
		return fmt.Errorf("link the certificate to key %q: %w", link.Container, err)
	}
	name, err := windows.UTF16FromString(label)
	if err != nil {
		return fmt.Errorf("friendly name %q: %w", label, err)
	}
	blob := windows.CryptDataBlob{Size: uint32(2 * len(name)), Data: (*byte)(unsafe.Pointer(&name[0]))}
	if err := setCertProperty(ctx, certFriendlyNamePropID, unsafe.Pointer(&blob)); err != nil {
		return fmt.Errorf("set friendly name %q: %w", label, err)
	}
	ft := windows.NsecToFiletime(addedAt.UnixNano())
	if err := setCertProperty(ctx, certDateStampPropID, unsafe.Pointer(&ft)); err != nil {
		return fmt.Errorf("set the date stamp: %w", err)
	}
	return nil
}
