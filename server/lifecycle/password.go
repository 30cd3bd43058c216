package lifecycle

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/inkan-dev/inkan/wire"
)

// Argon2Params are the argon2id parameters new password hashes are made with.
// Existing hashes carry their own parameters and keep verifying after a change.
type Argon2Params struct {
	Time    uint32 `json:"time"`
	Memory  uint32 `json:"memory_kib"`
	Threads uint8  `json:"threads"`
	KeyLen  uint32 `json:"key_len"`
}

// DefaultArgon2 follows the OWASP recommendation for argon2id (19 MiB, 2 passes).
var DefaultArgon2 = Argon2Params{Time: 2, Memory: 19 * 1024, Threads: 1, KeyLen: 32}

// Validate names the first parameter out of range.
func (a Argon2Params) Validate() error {
	switch {
	case a.Time < 1:
		return errors.New("time: must be at least 1")
	case a.Memory < 8*uint32(a.Threads) || a.Memory < 8:
		return errors.New("memory_kib: must be at least 8 KiB per thread")
	case a.Threads < 1:
		return errors.New("threads: must be at least 1")
	case a.KeyLen < 16:
		return errors.New("key_len: must be at least 16 bytes")
	}
	return nil
}

// HashPassword returns the PHC-format argon2id hash of password.
func HashPassword(password string, p Argon2Params) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("generate salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches hash.
func VerifyPassword(password, hash string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("not an argon2id hash")
	}
	var version int
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, fmt.Errorf("unsupported argon2 version %q", parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, fmt.Errorf("bad argon2 parameters %q: %w", parts[3], err)
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("bad argon2 salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return false, fmt.Errorf("bad argon2 key: %w", err)
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// The password policy: how long a login password may be, and how many of the
// four kinds of character (upper case, lower case, digits, symbols) it mixes.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 128
	MinPasswordKinds  = 2
)

// commonPasswords are passwords that guessing tools try first; they meet the
// length and mix rules, so those alone would let them through. Compared in lower case.
var commonPasswords = map[string]bool{
	"password1": true, "password123": true, "passw0rd": true, "p@ssw0rd": true, "p@ssword": true,
	"qwerty123": true, "qwerty12": true, "abc12345": true, "abcd1234": true, "1234abcd": true,
	"a1234567": true, "1q2w3e4r": true, "1qaz2wsx": true, "zaq12wsx": true, "qwer1234": true,
	"asdf1234": true, "iloveyou1": true, "welcome1": true, "letmein1": true, "admin123": true,
	"administrator1": true, "changeme1": true, "password!": true, "12345678a": true, "abc123456": true,
}

// CheckPasswordPolicy refuses a new login password that breaks the policy:
// MinPasswordLength to MaxPasswordLength characters, at least MinPasswordKinds
// of upper case, lower case, digits and symbols, not one of the common
// passwords, and not the login ID itself. The refusal (ErrWeakPassword) states the whole rule.
func CheckPasswordPolicy(loginID, password string) error {
	if n := utf8.RuneCountInString(password); n < MinPasswordLength || n > MaxPasswordLength {
		return ErrWeakPassword
	}
	if passwordKinds(password) < MinPasswordKinds {
		return ErrWeakPassword
	}
	if commonPasswords[strings.ToLower(password)] || strings.EqualFold(password, loginID) {
		return ErrWeakPassword
	}
	return nil
}

// passwordKinds counts the kinds of character in password: upper case, lower
// case, digits, and anything else (symbols, spaces, kana and kanji).
func passwordKinds(password string) int {
	var upper, lower, digit, other int
	for _, r := range password {
		switch {
		case unicode.IsUpper(r):
			upper = 1
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsDigit(r):
			digit = 1
		default:
			other = 1
		}
	}
	return upper + lower + digit + other
}

// checkCredentialLengths refuses, before any work, a login ID or password
// longer than any that can exist: a login ID has at most 64 characters, a
// password at most MaxPasswordLength.
func checkCredentialLengths(loginID, password string) error {
	if len(loginID) > maxLoginIDLength || utf8.RuneCountInString(password) > MaxPasswordLength {
		return &RuleError{Code: wire.CodeBadRequest, Message: fmt.Sprintf(
			"a login ID has at most %d characters and a password at most %d: check what you entered", maxLoginIDLength, MaxPasswordLength)}
	}
	return nil
}
