package pkcs12

import (
	"errors"
	"testing"
)

// FuzzDecode feeds Decode mutations of the files openssl wrote
// (testdata/fuzz/FuzzDecode, made by testdata/make-seeds.sh). Decode must never
// panic, must fail only with ErrWrongPassword or ErrDamaged, and every identity
// it returns must be a key with its own certificate. Iteration counts above
// 10,000 are refused here, so each input stays cheap.
func FuzzDecode(f *testing.F) {
	// The seeds use 2,000 and 2,048 iterations; a mutated count of a million
	// would spend the fuzzer's time in SHA-1 rather than in the parser.
	maxIterations = 10_000
	f.Fuzz(func(t *testing.T, data []byte, password string) {
		items, err := Decode(data, password)
		if err != nil {
			if !errors.Is(err, ErrWrongPassword) && !errors.Is(err, ErrDamaged) {
				t.Fatalf("Decode failed with %v, neither ErrWrongPassword nor ErrDamaged", err)
			}
			return
		}
		if len(items) == 0 {
			t.Fatal("Decode succeeded with no identity")
		}
		for i, item := range items {
			if len(item.Chain) == 0 {
				t.Fatalf("identity %d has no certificate", i)
			}
			if err := CheckKeyMatches(item.Key, item.Chain[0]); err != nil {
				t.Fatalf("identity %d: %v", i, err)
			}
		}
	})
}
