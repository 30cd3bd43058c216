package cngblob

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var (
	keysOnce sync.Once
	testKeys []crypto.Signer
)

// keys returns one key of every kind the Windows store makes.
func keys(t testing.TB) []crypto.Signer {
	t.Helper()
	keysOnce.Do(func() {
		for _, bits := range []int{2048, 3072} {
			k, err := rsa.GenerateKey(rand.Reader, bits)
			if err != nil {
				panic(err)
			}
			testKeys = append(testKeys, k)
		}
		for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384()} {
			k, err := ecdsa.GenerateKey(c, rand.Reader)
			if err != nil {
				panic(err)
			}
			testKeys = append(testKeys, k)
		}
	})
	return testKeys
}

type equaler interface{ Equal(crypto.PublicKey) bool }

// TestECDHMagicsReadAsTheSameKey: CNG may file an imported EC key under the
// "ECDH" group, and then exports it with the ECDH magics; the key is the same.
func TestECDHMagicsReadAsTheSameKey(t *testing.T) {
	ecdhMagic := map[uint32]uint32{
		magicECDSAPublicP256: magicECDHPublicP256, magicECDSAPrivateP256: magicECDHPrivateP256,
		magicECDSAPublicP384: magicECDHPublicP384, magicECDSAPrivateP384: magicECDHPrivateP384,
	}
	for _, key := range keys(t) {
		if _, ok := key.(*ecdsa.PrivateKey); !ok {
			continue
		}
		_, priv, err := EncodePrivate(key)
		if err != nil {
			t.Fatal(err)
		}
		_, pub, err := EncodePublic(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range [][]byte{priv, pub} {
			binary.LittleEndian.PutUint32(b, ecdhMagic[binary.LittleEndian.Uint32(b)])
		}
		gotPriv, err := ParsePrivate(priv)
		if err != nil {
			t.Fatalf("ECDH private blob: %v", err)
		}
		gotPub, err := ParsePublic(pub)
		if err != nil {
			t.Fatalf("ECDH public blob: %v", err)
		}
		if !gotPriv.Public().(equaler).Equal(key.Public()) || !gotPub.(equaler).Equal(key.Public()) {
			t.Fatal("an ECDH blob read as another key")
		}
	}
	for group, want := range map[string]bool{"ECDSA": true, "ECDH": true, "RSA": false, "DH": false} {
		if IsECC(group) != want {
			t.Errorf("IsECC(%q) = %v, want %v", group, !want, want)
		}
	}
	if PublicBlobType("ECDH") != ECCPublic || PrivateBlobType("ECDH") != ECCPrivate {
		t.Error("an ECDH-group key is not read with the ECC blobs")
	}
}

func TestPrivateBlobRoundTripsEveryKeyKind(t *testing.T) {
	for _, key := range keys(t) {
		typ, blob, err := EncodePrivate(key)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParsePrivate(blob)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if !got.Public().(equaler).Equal(key.Public()) {
			t.Fatalf("%s: parsed key's public half differs", typ)
		}
		if k, ok := got.(*rsa.PrivateKey); ok && k.D.Cmp(key.(*rsa.PrivateKey).D) != 0 {
			t.Fatalf("%s: d differs", typ)
		}
		if k, ok := got.(*ecdsa.PrivateKey); ok && !k.Equal(key) {
			t.Fatalf("%s: private key differs", typ)
		}
		ptyp, pblob, err := EncodePublic(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		pub, err := ParsePublic(pblob)
		if err != nil {
			t.Fatalf("%s: %v", ptyp, err)
		}
		if !pub.(equaler).Equal(key.Public()) {
			t.Fatalf("%s: parsed public key differs", ptyp)
		}
	}
}

func TestBlobTypesFollowTheAlgorithmGroup(t *testing.T) {
	if PublicBlobType("RSA") != RSAPublic || PrivateBlobType("RSA") != RSAFullPrivate ||
		PublicBlobType("ECDSA") != ECCPublic || PrivateBlobType("ECDSA") != ECCPrivate {
		t.Fatal("blob type names do not follow the algorithm group")
	}
}

// Each damage a provider or a file could do is an ErrMalformed, never a key.
func TestDamagedBlobsAreMalformed(t *testing.T) {
	rsaKey := keys(t)[0].(*rsa.PrivateKey)
	ecKey := keys(t)[2].(*ecdsa.PrivateKey)
	_, rsaBlob, _ := EncodePrivate(rsaKey)
	_, ecBlob, _ := EncodePrivate(ecKey)
	_, rsaPub, _ := EncodePublic(&rsaKey.PublicKey)
	_, ecPub, _ := EncodePublic(&ecKey.PublicKey)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, otherBlob, _ := EncodePrivate(other)

	with := func(b []byte, f func([]byte)) []byte {
		c := append([]byte(nil), b...)
		f(c)
		return c
	}
	setU32 := func(off int, v uint32) func([]byte) {
		return func(b []byte) { binary.LittleEndian.PutUint32(b[off:], v) }
	}
	cases := []struct {
		name    string
		private bool
		blob    []byte
	}{
		{"empty", true, nil},
		{"unknown magic", true, with(rsaBlob, setU32(0, 0x12345678))},
		{"public magic given as private", true, rsaPub},
		{"RSA truncated", true, rsaBlob[:len(rsaBlob)-1]},
		{"RSA trailing bytes", true, append(append([]byte(nil), rsaBlob...), 0)},
		{"RSA header only", true, rsaBlob[:24]},
		{"RSA huge bit length", true, with(rsaBlob, setU32(4, 1<<30))},
		{"RSA huge exponent", true, with(rsaBlob, setU32(8, 4096))},
		{"RSA modulus size disagrees with bits", true, with(rsaBlob, setU32(4, 2040))},
		{"RSA zero-length prime", true, with(rsaBlob, setU32(16, 0))},
		{"RSA wrong d", true, with(rsaBlob, func(b []byte) { b[len(b)-1] ^= 1 })},
		{"RSA wrong prime", true, with(rsaBlob, func(b []byte) { b[24+3+256+5] ^= 1 })},
		{"ECDSA wrong cbKey", true, with(ecBlob, setU32(4, 48))},
		{"ECDSA truncated", true, ecBlob[:len(ecBlob)-1]},
		{"ECDSA public point of another key", true, append(append(append([]byte(nil), ecBlob[:8]...), otherBlob[8:8+64]...), ecBlob[8+64:]...)},
		{"ECDSA zero d", true, with(ecBlob, func(b []byte) { clear(b[8+64:]) })},
		{"public empty", false, []byte{1, 2, 3}},
		{"public RSA truncated", false, rsaPub[:len(rsaPub)-1]},
		{"public RSA even exponent", false, with(rsaPub, func(b []byte) { b[24+2] = 2 })},
		{"public ECDSA point off the curve", false, with(ecPub, func(b []byte) { b[len(b)-1] ^= 1 })},
		{"public ECDSA wrong length", false, append(append([]byte(nil), ecPub...), 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.private {
				_, err = ParsePrivate(c.blob)
			} else {
				_, err = ParsePublic(c.blob)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestEncodeRefusesWhatCNGCannotHold(t *testing.T) {
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if _, _, err := EncodePrivate(p224); err == nil || !strings.Contains(err.Error(), "P-256 or P-384") {
		t.Fatalf("P-224 private: err = %v", err)
	}
	if _, _, err := EncodePublic(&p224.PublicKey); err == nil {
		t.Fatal("P-224 public: no error")
	}
	//lint:ignore SA1019 a multi-prime key is what the encoder must refuse
	multi, err := rsa.GenerateMultiPrimeKey(rand.Reader, 3, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := EncodePrivate(multi); err == nil || !strings.Contains(err.Error(), "3 primes") {
		t.Fatalf("3-prime RSA: err = %v", err)
	}
	if _, _, err := EncodePrivate("not a key"); err == nil {
		t.Fatal("string: no error")
	}
}

// FuzzParse feeds arbitrary bytes to both parsers: neither may panic, every
// refusal wraps ErrMalformed, and whatever they accept encodes to a blob that
// parses back to the same key. Its seeds are the blobs of one key of every kind
// under testdata/fuzz/FuzzParse (TestSeedCorpusParses keeps them valid).
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		if key, err := ParsePrivate(b); err == nil {
			_, again, err := EncodePrivate(key)
			if err != nil {
				t.Fatalf("accepted private blob does not encode: %v", err)
			}
			back, err := ParsePrivate(again)
			if err != nil || !back.Public().(equaler).Equal(key.Public()) {
				t.Fatalf("accepted private blob does not survive encode and parse: %v", err)
			}
		} else if !errors.Is(err, ErrMalformed) {
			t.Fatalf("private: error %v does not wrap ErrMalformed", err)
		}
		if pub, err := ParsePublic(b); err == nil {
			_, again, err := EncodePublic(pub)
			if err != nil {
				t.Fatalf("accepted public blob does not encode: %v", err)
			}
			back, err := ParsePublic(again)
			if err != nil || !back.(equaler).Equal(pub) {
				t.Fatalf("accepted public blob does not survive encode and parse: %v", err)
			}
		} else if !errors.Is(err, ErrMalformed) {
			t.Fatalf("public: error %v does not wrap ErrMalformed", err)
		}
	})
}

// TestSeedCorpusParses keeps the checked-in seed corpus honest: every seed is
// a blob the parsers accept.
func TestSeedCorpusParses(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParse", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed corpus: %v", err)
	}
	for _, name := range files {
		blob := readSeed(t, name)
		_, errPriv := ParsePrivate(blob)
		_, errPub := ParsePublic(blob)
		if errPriv != nil && errPub != nil {
			t.Errorf("%s: parses neither as private (%v) nor as public (%v)", name, errPriv, errPub)
		}
	}
}

// readSeed reads one file of Go's fuzz corpus format holding a single []byte.
func readSeed(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(strings.TrimSpace(string(data)), "\n", 2)
	if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "[]byte(") {
		t.Fatalf("%s is not a go test fuzz v1 []byte seed", name)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return []byte(s)
}
