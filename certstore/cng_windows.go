package certstore

// The raw CNG (ncrypt.dll) calls the Windows store makes, one Go function per
// Win32 call or small group of them. Every error names the call and the
// SECURITY_STATUS it returned, so a report from a user's PC says what Windows
// refused.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	ncrypt = windows.NewLazySystemDLL("ncrypt.dll")

	procNCryptOpenStorageProvider = ncrypt.NewProc("NCryptOpenStorageProvider")
	procNCryptCreatePersistedKey  = ncrypt.NewProc("NCryptCreatePersistedKey")
	procNCryptOpenKey             = ncrypt.NewProc("NCryptOpenKey")
	procNCryptSetProperty         = ncrypt.NewProc("NCryptSetProperty")
	procNCryptGetProperty         = ncrypt.NewProc("NCryptGetProperty")
	procNCryptFinalizeKey         = ncrypt.NewProc("NCryptFinalizeKey")
	procNCryptSignHash            = ncrypt.NewProc("NCryptSignHash")
	procNCryptExportKey           = ncrypt.NewProc("NCryptExportKey")
	procNCryptImportKey           = ncrypt.NewProc("NCryptImportKey")
	procNCryptDeleteKey           = ncrypt.NewProc("NCryptDeleteKey")
	procNCryptFreeObject          = ncrypt.NewProc("NCryptFreeObject")
)

// Key storage providers (ncrypt.h).
const (
	// providerSoftware is MS_KEY_STORAGE_PROVIDER: keys in files under the user's
	// profile, protected by DPAPI.
	providerSoftware = "Microsoft Software Key Storage Provider"
	// providerPlatform is MS_PLATFORM_CRYPTO_PROVIDER: keys wrapped by the TPM,
	// never exportable.
	providerPlatform = "Microsoft Platform Crypto Provider"
)

// CNG algorithm identifiers (bcrypt.h).
const (
	algRSA       = "RSA"        // BCRYPT_RSA_ALGORITHM
	algECDSAP256 = "ECDSA_P256" // BCRYPT_ECDSA_P256_ALGORITHM
	algECDSAP384 = "ECDSA_P384" // BCRYPT_ECDSA_P384_ALGORITHM
)

// blobPKCS8Private is NCRYPT_PKCS8_PRIVATE_KEY_BLOB (ncrypt.h): an
// unencrypted PKCS#8 PrivateKeyInfo, the blob a named import persists.
const blobPKCS8Private = "PKCS8_PRIVATEKEY"

// Key storage property identifiers (ncrypt.h).
const (
	propLength         = "Length"          // NCRYPT_LENGTH_PROPERTY: RSA modulus size in bits
	propExportPolicy   = "Export Policy"   // NCRYPT_EXPORT_POLICY_PROPERTY: NCRYPT_ALLOW_*_EXPORT_FLAG bits
	propKeyUsage       = "Key Usage"       // NCRYPT_KEY_USAGE_PROPERTY: NCRYPT_ALLOW_*_FLAG bits
	propAlgorithmGroup = "Algorithm Group" // NCRYPT_ALGORITHM_GROUP_PROPERTY: "RSA", "ECDSA", ...
)

// Flags and property values (ncrypt.h, bcrypt.h).
const (
	ncryptAllowExportFlag          = 0x00000001 // NCRYPT_ALLOW_EXPORT_FLAG: the key may be exported wrapped
	ncryptAllowPlaintextExportFlag = 0x00000002 // NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG: ... and in the clear
	ncryptAllowSigningFlag         = 0x00000002 // NCRYPT_ALLOW_SIGNING_FLAG: Key Usage, sign only
	ncryptSilentFlag               = 0x00000040 // NCRYPT_SILENT_FLAG: never show UI, fail instead
	ncryptDoNotFinalizeFlag        = 0x00000400 // NCRYPT_DO_NOT_FINALIZE_FLAG: import, set properties, then finalize
	ncryptPersistFlag              = 0x80000000 // NCRYPT_PERSIST_FLAG: store the property with the key
	ncryptBufferVersion            = 0          // NCRYPTBUFFER_VERSION
	ncryptBufferPKCSKeyName        = 45         // NCRYPTBUFFER_PKCS_KEY_NAME: name of the key an import persists
	bcryptPadPKCS1                 = 0x00000002 // BCRYPT_PAD_PKCS1: RSASSA-PKCS1-v1_5
	bcryptPadPSS                   = 0x00000008 // BCRYPT_PAD_PSS: RSASSA-PSS
)

// SECURITY_STATUS values the store acts on (winerror.h).
const (
	nteBadKeyset    = 0x80090016 // NTE_BAD_KEYSET: no key of that name
	nteExists       = 0x8009000F // NTE_EXISTS: a key of that name exists already
	nteNotSupported = 0x80090029 // NTE_NOT_SUPPORTED: the provider does not do this
)

// securityStatusNames names the SECURITY_STATUS values an error message is
// likeliest to carry, so a log line reads without winerror.h at hand.
var securityStatusNames = map[uint32]string{
	0x80090009:      "NTE_BAD_FLAGS",
	nteExists:       "NTE_EXISTS",
	0x80090010:      "NTE_PERM",
	nteBadKeyset:    "NTE_BAD_KEYSET",
	0x80090020:      "NTE_FAIL",
	0x80090026:      "NTE_INVALID_HANDLE",
	0x80090027:      "NTE_INVALID_PARAMETER",
	0x80090028:      "NTE_BUFFER_TOO_SMALL",
	nteNotSupported: "NTE_NOT_SUPPORTED",
	0x8009002D:      "NTE_INTERNAL_ERROR",
	0x80090030:      "NTE_DEVICE_NOT_READY",
	0x80090035:      "NTE_DEVICE_NOT_FOUND",
}

// isStatus reports whether err is a CNG call that returned status.
func isStatus(err error, status uint32) bool {
	var se *SystemError
	return errors.As(err, &se) && se.Code == status
}

// callCNG runs a CNG function and turns a failing SECURITY_STATUS into a *SystemError.
func callCNG(proc *windows.LazyProc, args ...uintptr) error {
	if err := proc.Find(); err != nil {
		return fmt.Errorf("%s is missing from ncrypt.dll: %w", proc.Name, err)
	}
	r, _, _ := proc.Call(args...)
	if uint32(r) != 0 {
		return &SystemError{Call: proc.Name, Code: uint32(r), Name: securityStatusNames[uint32(r)]}
	}
	return nil
}

// ncryptBuffer is NCryptBuffer (ncrypt.h).
type ncryptBuffer struct {
	cbBuffer   uint32
	bufferType uint32
	pvBuffer   unsafe.Pointer
}

// ncryptBufferDesc is NCryptBufferDesc (ncrypt.h).
type ncryptBufferDesc struct {
	ulVersion uint32
	cBuffers  uint32
	pBuffers  *ncryptBuffer
}

// bcryptPKCS1PaddingInfo is BCRYPT_PKCS1_PADDING_INFO (bcrypt.h).
type bcryptPKCS1PaddingInfo struct {
	pszAlgID *uint16
}

// bcryptPSSPaddingInfo is BCRYPT_PSS_PADDING_INFO (bcrypt.h).
type bcryptPSSPaddingInfo struct {
	pszAlgID *uint16
	cbSalt   uint32
}

func utf16Ptr(s string) *uint16 {
	p, err := windows.UTF16PtrFromString(s)
	if err != nil {
		// Only constants and names this package makes reach here; none holds a NUL.
		panic(fmt.Sprintf("certstore: %q holds a NUL character", s))
	}
	return p
}

// openProviderHandle wraps NCryptOpenStorageProvider.
func openProviderHandle(name string) (uintptr, error) {
	var h uintptr
	if err := callCNG(procNCryptOpenStorageProvider, uintptr(unsafe.Pointer(&h)), uintptr(unsafe.Pointer(utf16Ptr(name))), 0); err != nil {
		return 0, fmt.Errorf("open key storage provider %q: %w", name, err)
	}
	return h, nil
}

// createPersistedKey wraps NCryptCreatePersistedKey. The key is not usable until
// finalizeKey; properties are set in between.
func createPersistedKey(prov uintptr, alg, container string) (uintptr, error) {
	var h uintptr
	err := callCNG(procNCryptCreatePersistedKey, prov, uintptr(unsafe.Pointer(&h)),
		uintptr(unsafe.Pointer(utf16Ptr(alg))), uintptr(unsafe.Pointer(utf16Ptr(container))),
		0, // dwLegacyKeySpec: not a CryptoAPI key
		0) // no NCRYPT_OVERWRITE_KEY_FLAG: a name clash must fail, never replace a key
	if err != nil {
		return 0, fmt.Errorf("create %s key %q: %w", alg, container, err)
	}
	return h, nil
}

// openKey wraps NCryptOpenKey. A missing key is NTE_BAD_KEYSET.
// It is a variable so that tests can make it fail for one key.
var openKey = func(prov uintptr, container string) (uintptr, error) {
	var h uintptr
	err := callCNG(procNCryptOpenKey, prov, uintptr(unsafe.Pointer(&h)),
		uintptr(unsafe.Pointer(utf16Ptr(container))), 0, ncryptSilentFlag)
	if err != nil {
		return 0, fmt.Errorf("open key %q: %w", container, err)
	}
	return h, nil
}

// setPropertyUint32 wraps NCryptSetProperty for a DWORD property.
func setPropertyUint32(h uintptr, prop string, v uint32, flags uint32) error {
	err := callCNG(procNCryptSetProperty, h, uintptr(unsafe.Pointer(utf16Ptr(prop))),
		uintptr(unsafe.Pointer(&v)), unsafe.Sizeof(v), uintptr(flags))
	if err != nil {
		return fmt.Errorf("set key property %q to 0x%x: %w", prop, v, err)
	}
	return nil
}

// getProperty wraps NCryptGetProperty: first the size, then the value.
func getProperty(h uintptr, prop string) ([]byte, error) {
	name := utf16Ptr(prop)
	var size uint32
	if err := callCNG(procNCryptGetProperty, h, uintptr(unsafe.Pointer(name)), 0, 0, uintptr(unsafe.Pointer(&size)), 0); err != nil {
		return nil, fmt.Errorf("read key property %q: %w", prop, err)
	}
	if size == 0 {
		return nil, nil
	}
	buf := make([]byte, size)
	if err := callCNG(procNCryptGetProperty, h, uintptr(unsafe.Pointer(name)), uintptr(unsafe.Pointer(&buf[0])), uintptr(size), uintptr(unsafe.Pointer(&size)), 0); err != nil {
		return nil, fmt.Errorf("read key property %q: %w", prop, err)
	}
	return buf[:size], nil
}

func getPropertyUint32(h uintptr, prop string) (uint32, error) {
	b, err := getProperty(h, prop)
	if err != nil {
		return 0, err
	}
	if len(b) != 4 {
		return 0, fmt.Errorf("read key property %q: %d bytes, want a DWORD", prop, len(b))
	}
	return binary.LittleEndian.Uint32(b), nil
}

func getPropertyString(h uintptr, prop string) (string, error) {
	b, err := getProperty(h, prop)
	if err != nil {
		return "", err
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return windows.UTF16ToString(u), nil
}

// finalizeKey wraps NCryptFinalizeKey: the key is generated (or the import
// completed) and persisted with the properties set so far.
func finalizeKey(h uintptr) error {
	if err := callCNG(procNCryptFinalizeKey, h, ncryptSilentFlag); err != nil {
		return fmt.Errorf("finalize key: %w", err)
	}
	return nil
}

// deleteKey wraps NCryptDeleteKey. On success the handle is freed too.
func deleteKey(h uintptr) error {
	if err := callCNG(procNCryptDeleteKey, h, ncryptSilentFlag); err != nil {
		return fmt.Errorf("delete key: %w", err)
	}
	return nil
}

// freeObject wraps NCryptFreeObject for key and provider handles.
func freeObject(h uintptr) error {
	if err := callCNG(procNCryptFreeObject, h); err != nil {
		return fmt.Errorf("free CNG handle: %w", err)
	}
	return nil
}

// exportKey wraps NCryptExportKey: first the size, then the blob.
func exportKey(h uintptr, blobType string) ([]byte, error) {
	bt := utf16Ptr(blobType)
	var size uint32
	if err := callCNG(procNCryptExportKey, h, 0, uintptr(unsafe.Pointer(bt)), 0, 0, 0, uintptr(unsafe.Pointer(&size)), ncryptSilentFlag); err != nil {
		return nil, fmt.Errorf("export key as %s: %w", blobType, err)
	}
	buf := make([]byte, size)
	if err := callCNG(procNCryptExportKey, h, 0, uintptr(unsafe.Pointer(bt)), 0, uintptr(unsafe.Pointer(&buf[0])), uintptr(size), uintptr(unsafe.Pointer(&size)), ncryptSilentFlag); err != nil {
		return nil, fmt.Errorf("export key as %s: %w", blobType, err)
	}
	return buf[:size], nil
}

// importKey wraps NCryptImportKey. With deferFinalize it passes
// NCRYPT_DO_NOT_FINALIZE_FLAG, so that the caller sets the export policy before
// finalizeKey. A non-empty container names the key to persist
// (NCRYPTBUFFER_PKCS_KEY_NAME); an empty one imports a key that lives only as
// long as its handle.
func importKey(prov uintptr, blobType string, blob []byte, container string, deferFinalize bool) (uintptr, error) {
	var params *ncryptBufferDesc
	if container != "" {
		name, err := windows.UTF16FromString(container)
		if err != nil {
			return 0, fmt.Errorf("import key %q: %w", container, err)
		}
		buf := ncryptBuffer{cbBuffer: uint32(2 * len(name)), bufferType: ncryptBufferPKCSKeyName, pvBuffer: unsafe.Pointer(&name[0])}
		params = &ncryptBufferDesc{ulVersion: ncryptBufferVersion, cBuffers: 1, pBuffers: &buf}
	}
	flags := uintptr(ncryptSilentFlag)
	if deferFinalize {
		flags |= ncryptDoNotFinalizeFlag
	}
	var h uintptr
	err := callCNG(procNCryptImportKey, prov, 0, uintptr(unsafe.Pointer(utf16Ptr(blobType))),
		uintptr(unsafe.Pointer(params)), uintptr(unsafe.Pointer(&h)),
		uintptr(unsafe.Pointer(&blob[0])), uintptr(len(blob)), flags)
	if err != nil {
		return 0, fmt.Errorf("import %s key %q: %w", blobType, container, err)
	}
	return h, nil
}

// signHash wraps NCryptSignHash: first the size, then the signature.
func signHash(h uintptr, padding unsafe.Pointer, digest []byte, flags uint32) ([]byte, error) {
	if len(digest) == 0 {
		return nil, errors.New("sign: the digest is empty")
	}
	var size uint32
	if err := callCNG(procNCryptSignHash, h, uintptr(padding), uintptr(unsafe.Pointer(&digest[0])), uintptr(len(digest)), 0, 0, uintptr(unsafe.Pointer(&size)), uintptr(flags|ncryptSilentFlag)); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	sig := make([]byte, size)
	if err := callCNG(procNCryptSignHash, h, uintptr(padding), uintptr(unsafe.Pointer(&digest[0])), uintptr(len(digest)), uintptr(unsafe.Pointer(&sig[0])), uintptr(size), uintptr(unsafe.Pointer(&size)), uintptr(flags|ncryptSilentFlag)); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return sig[:size], nil
}
