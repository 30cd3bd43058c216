package agent

import (
	"crypto/rand"
	"math/big"
	"strings"
	"unicode"
)

// passwordAlphabet leaves out the characters people misread when a password
// is read out over the telephone or copied from paper: 0/O/o, 1/l/I, 5/S, 2/Z.
const passwordAlphabet = "ABCDEFGHJKLMNPQRTUVWXYabcdefghijkmnpqrstuvwxyz346789"

// NewPassword makes a login password for an admin to hand to a user after a
// パスワード再設定: three groups of four letters and digits joined by '-', such
// as "Kx7m-Pq4t-Rw9z" (about 68 bits from crypto/rand). It always meets the
// server's password policy: 14 characters holding upper case, lower case,
// digits and a symbol.
func NewPassword() (string, error) {
	for {
		var b strings.Builder
		for i := range 12 {
			if i > 0 && i%4 == 0 {
				b.WriteByte('-')
			}
			n, err := rand.Int(rand.Reader, big.NewInt(int64(len(passwordAlphabet))))
			if err != nil {
				return "", err
			}
			b.WriteByte(passwordAlphabet[n.Int64()])
		}
		p := b.String()
		if strings.IndexFunc(p, unicode.IsUpper) >= 0 && strings.IndexFunc(p, unicode.IsLower) >= 0 && strings.IndexFunc(p, unicode.IsDigit) >= 0 {
			return p, nil
		}
	}
}
