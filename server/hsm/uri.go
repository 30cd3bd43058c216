// Package hsm keeps the issuing CA's key in a hardware security module
// through PKCS#11: it reads the pkcs11: URI (RFC 7512) that names the token
// and the key, makes the key in the token (sensitive, never extractable) and
// opens it as a crypto.Signer for the CA.
package hsm

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// URI is a pkcs11: URI (RFC 7512) naming a key in a token.
type URI struct {
	// Token is the token's label (the token attribute), Serial its serial number.
	Token, Serial string
	// Object is the key's label (CKA_LABEL), ID its CKA_ID; at least one is set.
	Object string
	ID     []byte
	// ModulePath is the PKCS#11 library (module-path).
	ModulePath string
	// PinSource is where the user PIN is read from (pin-source): a file
	// path, with or without the file: prefix.
	PinSource string
}

// ParseURI reads a pkcs11: URI. It refuses pin-value, which would put the PIN
// on the command line and in config.json, and attributes it does not know.
func ParseURI(s string) (URI, error) {
	var u URI
	rest, ok := strings.CutPrefix(s, "pkcs11:")
	if !ok {
		return u, fmt.Errorf("%q is not a pkcs11: URI (RFC 7512), such as pkcs11:token=inkan;object=issuing-ca?module-path=/usr/lib/softhsm/libsofthsm2.so", s)
	}
	path, query, _ := strings.Cut(rest, "?")
	for _, attr := range split(path, ";") {
		k, v, err := attribute(attr)
		if err != nil {
			return u, fmt.Errorf("pkcs11 URI %q: %w", s, err)
		}
		switch k {
		case "token":
			u.Token = v
		case "serial":
			u.Serial = v
		case "object":
			u.Object = v
		case "id":
			u.ID = []byte(v)
		case "type":
			if v != "private" {
				return u, fmt.Errorf("pkcs11 URI %q: type=%s: the CA key is a private key (type=private or no type)", s, v)
			}
		case "manufacturer", "model", "library-description", "library-manufacturer", "library-version", "slot-description", "slot-manufacturer", "slot-id":
			return u, fmt.Errorf("pkcs11 URI %q: %s is not supported: name the token by token= (its label) or serial=", s, k)
		default:
			return u, fmt.Errorf("pkcs11 URI %q: unknown attribute %q", s, k)
		}
	}
	for _, attr := range split(query, "&") {
		k, v, err := attribute(attr)
		if err != nil {
			return u, fmt.Errorf("pkcs11 URI %q: %w", s, err)
		}
		switch k {
		case "module-path":
			u.ModulePath = v
		case "pin-source":
			u.PinSource = v
		case "pin-value":
			return u, fmt.Errorf("pkcs11 URI %q: pin-value would put the PIN on the command line and in config.json: give pin-source=file:/path, the %s environment variable, or type it at the prompt", s, PINEnv)
		default:
			return u, fmt.Errorf("pkcs11 URI %q: unknown query attribute %q", s, k)
		}
	}
	if u.Token == "" && u.Serial == "" {
		return u, fmt.Errorf("pkcs11 URI %q names no token: add token=LABEL (softhsm2-util --show-slots lists them)", s)
	}
	if u.Object == "" && len(u.ID) == 0 {
		return u, fmt.Errorf("pkcs11 URI %q names no key: add object=LABEL", s)
	}
	return u, nil
}

func split(s, sep string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, sep)
}

func attribute(attr string) (string, string, error) {
	k, v, ok := strings.Cut(attr, "=")
	if !ok || k == "" {
		return "", "", fmt.Errorf("%q is not name=value", attr)
	}
	v, err := url.PathUnescape(v)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", k, err)
	}
	return k, v, nil
}

// String writes u back as a pkcs11: URI, without any PIN.
func (u URI) String() string {
	var path []string
	add := func(k, v string) {
		if v != "" {
			path = append(path, k+"="+escape(v))
		}
	}
	add("token", u.Token)
	add("serial", u.Serial)
	add("object", u.Object)
	add("id", string(u.ID))
	s := "pkcs11:" + strings.Join(path, ";")
	var query []string
	if u.ModulePath != "" {
		query = append(query, "module-path="+escape(u.ModulePath))
	}
	if u.PinSource != "" {
		query = append(query, "pin-source="+escape(u.PinSource))
	}
	if len(query) > 0 {
		s += "?" + strings.Join(query, "&")
	}
	return s
}

// escape percent-encodes everything but RFC 7512's unreserved characters and
// the few others its pk11-pchar allows, including '/' so paths stay readable.
func escape(v string) string {
	var b strings.Builder
	for _, c := range []byte(v) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~:[]@!$'()*+,/", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// PINEnv is the environment variable that may hold the token's user PIN.
const PINEnv = "INKAN_PKCS11_PIN"

// ErrNoPIN is returned by [PINFromSource] when neither pin-source nor
// the environment holds the PIN; the caller may then prompt for it.
var ErrNoPIN = errors.New("no PIN: give pin-source=file:/path in the pkcs11 URI or the " + PINEnv + " environment variable")

// PINFromSource reads the user PIN from the URI's pin-source file, else from
// the INKAN_PKCS11_PIN environment variable.
func (u URI) PINFromSource() (string, error) {
	if u.PinSource != "" {
		path := strings.TrimPrefix(u.PinSource, "file:")
		data, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("read the token PIN (pin-source): %w", err)
		}
		return strings.TrimRight(string(data), "\r\n"), nil
	}
	if pin, ok := os.LookupEnv(PINEnv); ok {
		return pin, nil
	}
	return "", ErrNoPIN
}
