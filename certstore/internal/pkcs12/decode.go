package pkcs12

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"unicode/utf16"

	gopkcs12 "software.sslmate.com/src/go-pkcs12"
)

// maxIterations bounds the key-derivation work a file may ask for, so that a
// crafted file cannot keep a restore busy for minutes. Real tools use 2,000
// (Windows, OpenSSL) to 600,000 (OWASP's advice for PBKDF2-HMAC-SHA256). It is
// a variable only so that FuzzDecode can keep each input cheap.
var maxIterations = 1_000_000

// maxNesting bounds SafeContents nested in safeContentsBags.
const maxNesting = 4

var (
	oidKeyBag                = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidSafeContentsBag       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 6}
	oidPBEWithSHAAnd2KeyTDES = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 4}
	oidPBEWithSHAAnd128RC2   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 5}
	oidPBEWithSHAAnd40RC2    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}
	oidPBMAC1                = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}
	oidHMACWithSHA1          = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA224        = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACWithSHA384        = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACWithSHA512        = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidDESEDE3CBC            = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidSHA224                = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA384                = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512                = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	errBadPadding            = errors.New("the contents do not decrypt")
	errRC2                   = errors.New("RC2 encryption")
)

// What Decode reads; the writer's structures, with the optional fields real
// files leave out.
type pfxIn struct {
	Version  int
	AuthSafe contentInfoIn
	MacData  macDataIn `asn1:"optional"`
}

type contentInfoIn struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"optional"` // [0] EXPLICIT, see explicit
}

type macDataIn struct {
	Mac        digestInfo
	MacSalt    []byte
	Iterations int `asn1:"optional,default:1"`
}

type encryptedDataIn struct {
	Version              int
	EncryptedContentInfo encryptedContentInfoIn
}

type encryptedContentInfoIn struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedContent           asn1.RawValue `asn1:"optional"` // [0] IMPLICIT OCTET STRING, primitive or constructed
}

type safeBagIn struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue // [0] EXPLICIT, see explicit
	Attributes []attributeIn `asn1:"set,optional"`
}

type attributeIn struct {
	ID     asn1.ObjectIdentifier
	Values asn1.RawValue // SET OF, of any type: unknown attributes are skipped
}

type certBagIn struct {
	ID   asn1.ObjectIdentifier
	Data []byte `asn1:"tag:0,explicit"`
}

type pbkdf2ParamsIn struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

// decoder holds the password in both forms PKCS#12 uses: UTF-8 for PBKDF2 and
// BMPString for the PKCS#12 KDF.
type decoder struct {
	password string
	bmp      []byte
	macOK    bool // the MAC verified, so a failed decryption is damage, not a wrong password
	rc2      [][]byte

	keys  []keyIn
	certs []certIn
}

type keyIn struct {
	key          crypto.Signer
	localKeyID   string
	friendlyName string
}

type certIn struct {
	cert         *x509.Certificate
	localKeyID   string
	friendlyName string
}

// Decode reads every identity of a PKCS#12 file. It fails with ErrWrongPassword
// when the MAC does not verify under password and with ErrDamaged when the file
// does not parse, uses a scheme it cannot read, or holds a key without its
// certificate. Certificates without a key are returned only as chain members.
func Decode(data []byte, password string) ([]Item, error) {
	items, err := decode(data, password)
	if err != nil && !errors.Is(err, ErrWrongPassword) && !errors.Is(err, ErrDamaged) {
		err = fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	return items, err
}

func decode(data []byte, password string) ([]Item, error) {
	var pfx pfxIn
	rest, err := asn1.Unmarshal(data, &pfx)
	if err != nil {
		return nil, fmt.Errorf("not a PKCS#12 file: %v", err)
	}
	if len(rest) != 0 {
		return nil, errors.New("data after the end of the PKCS#12 structure")
	}
	if pfx.Version != 3 {
		return nil, fmt.Errorf("PKCS#12 version %d, want 3", pfx.Version)
	}
	if !pfx.AuthSafe.ContentType.Equal(oidDataContentType) {
		return nil, fmt.Errorf("the contents are of type %v: only password-protected files are read", pfx.AuthSafe.ContentType)
	}
	authSafe, err := octets(explicit(pfx.AuthSafe.Content))
	if err != nil {
		return nil, fmt.Errorf("authenticated safe: %v", err)
	}

	d := &decoder{password: password, bmp: bmpPassword(password)}
	if len(pfx.MacData.Mac.Algorithm.Algorithm) != 0 {
		if err := d.verifyMAC(pfx.MacData, authSafe); err != nil {
			return nil, err
		}
	}

	var contents []asn1.RawValue
	if rest, err := asn1.Unmarshal(authSafe, &contents); err != nil || len(rest) != 0 {
		return nil, errors.New("the authenticated safe is not a sequence of contents")
	}
	for i, raw := range contents {
		if err := d.readContent(raw); err != nil {
			if errors.Is(err, errBadPadding) && !d.macOK {
				return nil, ErrWrongPassword
			}
			return nil, fmt.Errorf("contents %d: %w", i+1, err)
		}
	}
	if err := d.readRC2(); err != nil {
		return nil, err
	}
	return d.items()
}

// explicit returns what a [0] EXPLICIT tag wraps (encoding/asn1 hands a
// RawValue over with its tag), or a zero RawValue that no check accepts.
func explicit(v asn1.RawValue) asn1.RawValue {
	var inner asn1.RawValue
	if v.Class != asn1.ClassContextSpecific || v.Tag != 0 || !v.IsCompound {
		return asn1.RawValue{Class: -1}
	}
	if rest, err := asn1.Unmarshal(v.Bytes, &inner); err != nil || len(rest) != 0 {
		return asn1.RawValue{Class: -1}
	}
	return inner
}

// octets returns the bytes of a primitive OCTET STRING.
func octets(v asn1.RawValue) ([]byte, error) {
	if v.Class == asn1.ClassUniversal && v.Tag == asn1.TagOctetString && !v.IsCompound {
		return v.Bytes, nil
	}
	return nil, errors.New("not an OCTET STRING")
}

// constructedOctets joins the pieces of a constructed [0] IMPLICIT OCTET STRING.
func constructedOctets(b []byte) ([]byte, error) {
	var out []byte
	for len(b) > 0 {
		var piece asn1.RawValue
		var err error
		if b, err = asn1.Unmarshal(b, &piece); err != nil {
			return nil, err
		}
		p, err := octets(piece)
		if err != nil {
			return nil, err
		}
		out = append(out, p...)
	}
	return out, nil
}

func macHash(alg asn1.ObjectIdentifier) (func() hash.Hash, error) {
	switch {
	case alg.Equal(oidSHA1):
		return sha1.New, nil
	case alg.Equal(oidSHA224):
		return sha256.New224, nil
	case alg.Equal(oidSHA256):
		return sha256.New, nil
	case alg.Equal(oidSHA384):
		return sha512.New384, nil
	case alg.Equal(oidSHA512):
		return sha512.New, nil
	case alg.Equal(oidPBMAC1):
		return nil, errors.New("the MAC is PBMAC1, which Inkan does not read yet: export the file again with -macalg sha256")
	}
	return nil, fmt.Errorf("unknown MAC digest %v", alg)
}

func checkIterations(n int) error {
	if n < 1 || n > maxIterations {
		return fmt.Errorf("iteration count %d is outside 1..%d", n, maxIterations)
	}
	return nil
}

// verifyMAC checks the MAC; for an empty password it also tries the empty byte
// string that some writers use instead of the BMPString terminator.
func (d *decoder) verifyMAC(m macDataIn, authSafe []byte) error {
	newHash, err := macHash(m.Mac.Algorithm.Algorithm)
	if err != nil {
		return err
	}
	if err := checkIterations(m.Iterations); err != nil {
		return fmt.Errorf("MAC: %v", err)
	}
	candidates := [][]byte{d.bmp}
	if d.password == "" {
		candidates = append(candidates, nil)
	}
	for _, pw := range candidates {
		key := pkcs12KDF(newHash, pw, m.MacSalt, m.Iterations, 3, newHash().Size())
		mac := hmac.New(newHash, key)
		mac.Write(authSafe)
		if hmac.Equal(mac.Sum(nil), m.Mac.Digest) {
			d.bmp, d.macOK = pw, true
			return nil
		}
	}
	return ErrWrongPassword
}

// readContent reads one ContentInfo of the authenticated safe: plain data or
// password-encrypted data, each a SafeContents.
func (d *decoder) readContent(raw asn1.RawValue) error {
	var ci contentInfoIn
	if rest, err := asn1.Unmarshal(raw.FullBytes, &ci); err != nil || len(rest) != 0 {
		return errors.New("not a ContentInfo")
	}
	switch {
	case ci.ContentType.Equal(oidDataContentType):
		safe, err := octets(explicit(ci.Content))
		if err != nil {
			return fmt.Errorf("data: %v", err)
		}
		return d.readSafeContents(safe, 0)
	case ci.ContentType.Equal(oidEncryptedDataContentType):
		var ed encryptedDataIn
		if rest, err := asn1.Unmarshal(explicit(ci.Content).FullBytes, &ed); err != nil || len(rest) != 0 {
			return errors.New("encrypted data does not parse")
		}
		enc := ed.EncryptedContentInfo.EncryptedContent
		if enc.Class != asn1.ClassContextSpecific || enc.Tag != 0 {
			return errors.New("encrypted data has no encrypted content")
		}
		ciphertext := enc.Bytes
		if enc.IsCompound {
			var err error
			if ciphertext, err = constructedOctets(enc.Bytes); err != nil {
				return fmt.Errorf("encrypted content: %v", err)
			}
		}
		safe, err := d.decrypt(ed.EncryptedContentInfo.ContentEncryptionAlgorithm, ciphertext)
		if errors.Is(err, errRC2) {
			d.rc2 = append(d.rc2, raw.FullBytes)
			return nil
		}
		if err != nil {
			return err
		}
		return d.readSafeContents(safe, 0)
	}
	// Enveloped (public-key) contents need a key this PC does not have.
	return fmt.Errorf("contents of type %v are not password-protected", ci.ContentType)
}

func (d *decoder) readSafeContents(der []byte, depth int) error {
	if depth > maxNesting {
		return errors.New("safe contents nested too deep")
	}
	var bags []safeBagIn
	if rest, err := asn1.Unmarshal(der, &bags); err != nil || len(rest) != 0 {
		return errors.New("safe contents do not parse")
	}
	for i, bag := range bags {
		if err := d.readBag(bag, depth); err != nil {
			return fmt.Errorf("bag %d: %w", i+1, err)
		}
	}
	return nil
}

// readBag keeps keys and X.509 certificates. CRL and secret bags, certificates
// of other types and attributes other than friendlyName and localKeyId are
// skipped: they are what Windows, Java and OpenSSL add, not damage.
func (d *decoder) readBag(bag safeBagIn, depth int) error {
	id, name := bagAttrs(bag.Attributes)
	value := explicit(bag.Value).FullBytes
	if value == nil {
		return errors.New("bag without a value")
	}
	switch {
	case bag.ID.Equal(oidCertBag):
		var cb certBagIn
		if rest, err := asn1.Unmarshal(value, &cb); err != nil || len(rest) != 0 {
			return errors.New("certificate bag does not parse")
		}
		if !cb.ID.Equal(oidX509Certificate) {
			return nil
		}
		cert, err := x509.ParseCertificate(cb.Data)
		if err != nil {
			return fmt.Errorf("certificate: %v", err)
		}
		d.certs = append(d.certs, certIn{cert: cert, localKeyID: id, friendlyName: name})
	case bag.ID.Equal(oidPKCS8ShroudedKeyBag):
		var epki encryptedPrivateKeyInfo
		if rest, err := asn1.Unmarshal(value, &epki); err != nil || len(rest) != 0 {
			return errors.New("encrypted private key does not parse")
		}
		der, err := d.decrypt(epki.Algorithm, epki.EncryptedData)
		if errors.Is(err, errRC2) {
			return errors.New("the private key is RC2-encrypted, which Inkan does not read: export it again with AES or 3DES")
		}
		if err != nil {
			return fmt.Errorf("private key: %w", err)
		}
		return d.addKey(der, id, name)
	case bag.ID.Equal(oidKeyBag):
		return d.addKey(value, id, name)
	case bag.ID.Equal(oidSafeContentsBag):
		return d.readSafeContents(value, depth+1)
	}
	return nil
}

func (d *decoder) addKey(pkcs8 []byte, localKeyID, friendlyName string) error {
	k, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		if d.macOK {
			return fmt.Errorf("private key: %v", err)
		}
		// Without a MAC, garbage after decryption means a wrong password.
		return errBadPadding
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return fmt.Errorf("unsupported private key type %T", k)
	}
	d.keys = append(d.keys, keyIn{key: signer, localKeyID: localKeyID, friendlyName: friendlyName})
	return nil
}

// bagAttrs returns the localKeyId (hex) and friendlyName of a bag, ignoring every
// other attribute and any value that does not parse.
func bagAttrs(attrs []attributeIn) (localKeyID, friendlyName string) {
	for _, a := range attrs {
		var v asn1.RawValue
		if a.Values.Tag != asn1.TagSet || len(a.Values.Bytes) == 0 {
			continue
		}
		if _, err := asn1.Unmarshal(a.Values.Bytes, &v); err != nil {
			continue
		}
		switch {
		case a.ID.Equal(oidLocalKeyID) && v.Tag == asn1.TagOctetString && !v.IsCompound:
			localKeyID = hex.EncodeToString(v.Bytes)
		case a.ID.Equal(oidFriendlyName) && v.Tag == asn1.TagBMPString && len(v.Bytes)%2 == 0:
			units := make([]uint16, len(v.Bytes)/2)
			for i := range units {
				units[i] = uint16(v.Bytes[2*i])<<8 | uint16(v.Bytes[2*i+1])
			}
			friendlyName = string(utf16.Decode(units))
		}
	}
	return localKeyID, friendlyName
}

// decrypt undoes a password-based encryption: the PKCS#12 3DES schemes, or
// PBES2 with PBKDF2 and AES or 3DES. RC2 returns errRC2.
func (d *decoder) decrypt(alg pkix.AlgorithmIdentifier, ciphertext []byte) ([]byte, error) {
	var (
		block cipher.Block
		iv    []byte
		err   error
	)
	switch {
	case alg.Algorithm.Equal(oidPBEWithSHAAnd40RC2), alg.Algorithm.Equal(oidPBEWithSHAAnd128RC2):
		return nil, errRC2
	case alg.Algorithm.Equal(oidPBEWithSHAAnd3KeyTDES), alg.Algorithm.Equal(oidPBEWithSHAAnd2KeyTDES):
		var p pbeParams
		if rest, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil || len(rest) != 0 {
			return nil, errors.New("PBE parameters do not parse")
		}
		if err := checkIterations(p.Iterations); err != nil {
			return nil, err
		}
		keyLen := 24
		if alg.Algorithm.Equal(oidPBEWithSHAAnd2KeyTDES) {
			keyLen = 16
		}
		key := pkcs12KDF(sha1.New, d.bmp, p.Salt, p.Iterations, 1, keyLen)
		if keyLen == 16 {
			key = append(key, key[:8]...)
		}
		iv = pkcs12KDF(sha1.New, d.bmp, p.Salt, p.Iterations, 2, des.BlockSize)
		if block, err = des.NewTripleDESCipher(key); err != nil {
			return nil, err
		}
	case alg.Algorithm.Equal(oidPBES2):
		if block, iv, err = d.pbes2(alg.Parameters.FullBytes); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("encryption %v is not one Inkan reads: export the file again with AES-256 or 3DES", alg.Algorithm)
	}

	bs := block.BlockSize()
	if len(ciphertext) == 0 || len(ciphertext)%bs != 0 {
		return nil, errors.New("the encrypted contents are not whole cipher blocks")
	}
	plain := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ciphertext)
	pad := int(plain[len(plain)-1])
	if pad == 0 || pad > bs || !bytes.Equal(plain[len(plain)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, errBadPadding
	}
	return plain[:len(plain)-pad], nil
}

func (d *decoder) pbes2(params []byte) (cipher.Block, []byte, error) {
	var p pbes2Params
	if rest, err := asn1.Unmarshal(params, &p); err != nil || len(rest) != 0 {
		return nil, nil, errors.New("PBES2 parameters do not parse")
	}
	if !p.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return nil, nil, fmt.Errorf("PBES2 key derivation %v is not PBKDF2", p.KeyDerivationFunc.Algorithm)
	}
	var kdf pbkdf2ParamsIn
	if rest, err := asn1.Unmarshal(p.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil || len(rest) != 0 {
		return nil, nil, errors.New("PBKDF2 parameters do not parse")
	}
	if err := checkIterations(kdf.Iterations); err != nil {
		return nil, nil, err
	}
	var prf func() hash.Hash
	switch a := kdf.PRF.Algorithm; {
	case len(a) == 0, a.Equal(oidHMACWithSHA1):
		prf = sha1.New
	case a.Equal(oidHMACWithSHA224):
		prf = sha256.New224
	case a.Equal(oidHMACWithSHA256):
		prf = sha256.New
	case a.Equal(oidHMACWithSHA384):
		prf = sha512.New384
	case a.Equal(oidHMACWithSHA512):
		prf = sha512.New
	default:
		return nil, nil, fmt.Errorf("PBKDF2 PRF %v is unknown", a)
	}

	var keyLen int
	var newCipher func([]byte) (cipher.Block, error)
	switch a := p.EncryptionScheme.Algorithm; {
	case a.Equal(oidAES128CBC):
		keyLen, newCipher = 16, aes.NewCipher
	case a.Equal(oidAES192CBC):
		keyLen, newCipher = 24, aes.NewCipher
	case a.Equal(oidAES256CBC):
		keyLen, newCipher = 32, aes.NewCipher
	case a.Equal(oidDESEDE3CBC):
		keyLen, newCipher = 24, des.NewTripleDESCipher
	default:
		return nil, nil, fmt.Errorf("PBES2 cipher %v is not one Inkan reads: export the file again with AES-256", a)
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != keyLen {
		return nil, nil, fmt.Errorf("PBKDF2 key length %d does not fit the cipher", kdf.KeyLength)
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(p.EncryptionScheme.Parameters.FullBytes, &iv); err != nil || len(rest) != 0 {
		return nil, nil, errors.New("PBES2 IV does not parse")
	}
	key, err := pbkdf2.Key(prf, d.password, kdf.Salt, kdf.Iterations, keyLen)
	if err != nil {
		return nil, nil, err
	}
	block, err := newCipher(key)
	if err != nil {
		return nil, nil, err
	}
	if len(iv) != block.BlockSize() {
		return nil, nil, fmt.Errorf("PBES2 IV of %d bytes, want %d", len(iv), block.BlockSize())
	}
	return block, iv, nil
}

// readRC2 reads the RC2-encrypted contents (OpenSSL 1.x's default for
// certificates, and its -legacy option) through go-pkcs12: each in a PFX of its
// own, with a MAC made here under the same password.
func (d *decoder) readRC2() error {
	for _, raw := range d.rc2 {
		// go-pkcs12 wants two contents: the RC2 one and an empty plain one.
		empty, err := asn1.Marshal([]safeBag{})
		if err != nil {
			return err
		}
		emptyData, err := asn1.Marshal(empty)
		if err != nil {
			return err
		}
		plain, err := asn1.Marshal(contentInfo{ContentType: oidDataContentType, Content: explicit0(emptyData)})
		if err != nil {
			return err
		}
		authSafe, err := asn1.Marshal([]asn1.RawValue{{FullBytes: raw}, {FullBytes: plain}})
		if err != nil {
			return err
		}
		mac, err := computeMAC(authSafe, d.password, Legacy)
		if err != nil {
			return err
		}
		content, err := asn1.Marshal(authSafe)
		if err != nil {
			return err
		}
		sub, err := asn1.Marshal(pfxPDU{
			Version:  3,
			AuthSafe: contentInfo{ContentType: oidDataContentType, Content: explicit0(content)},
			MacData:  mac,
		})
		if err != nil {
			return err
		}
		// ToPEM is deprecated for mislabelling raw keys in its PEM blocks; it is
		// the only go-pkcs12 call that returns every bag, and only certificates
		// are taken from it here.
		blocks, err := gopkcs12.ToPEM(sub, d.password) //lint:ignore SA1019 see the comment above
		if err != nil {
			if !d.macOK {
				return ErrWrongPassword
			}
			return fmt.Errorf("RC2-encrypted contents: %v", err)
		}
		for _, b := range blocks {
			if b.Type != "CERTIFICATE" {
				return errors.New("the RC2-encrypted contents hold a private key, which Inkan does not read: export it again with AES or 3DES")
			}
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return fmt.Errorf("certificate: %v", err)
			}
			d.certs = append(d.certs, certIn{cert: cert, localKeyID: b.Headers["localKeyId"], friendlyName: b.Headers["friendlyName"]})
		}
	}
	return nil
}

// items pairs every key with its certificate and that certificate's issuers.
func (d *decoder) items() ([]Item, error) {
	if len(d.keys) == 0 {
		return nil, fmt.Errorf("%w: it holds no private key", ErrDamaged)
	}
	certs := make([]*x509.Certificate, len(d.certs))
	for i, c := range d.certs {
		certs[i] = c.cert
	}
	items := make([]Item, 0, len(d.keys))
	for i, k := range d.keys {
		leaf := -1
		for j, c := range d.certs {
			if CheckKeyMatches(k.key, c.cert) != nil {
				continue
			}
			if k.localKeyID != "" && c.localKeyID == k.localKeyID {
				leaf = j
				break
			}
			if leaf < 0 {
				leaf = j
			}
		}
		if leaf < 0 {
			return nil, fmt.Errorf("%w: private key %d has no certificate", ErrDamaged, i+1)
		}
		name := d.certs[leaf].friendlyName
		if name == "" {
			name = k.friendlyName
		}
		items = append(items, Item{Key: k.key, Chain: BuildChain(certs[leaf], certs), FriendlyName: name})
	}
	return items, nil
}

// BuildChain returns leaf followed by its issuers found among certs, nearest
// first, up to a self-signed certificate.
func BuildChain(leaf *x509.Certificate, certs []*x509.Certificate) []*x509.Certificate {
	chain := []*x509.Certificate{leaf}
	for cur := leaf; len(chain) <= len(certs); {
		if bytes.Equal(cur.RawIssuer, cur.RawSubject) {
			break
		}
		var next *x509.Certificate
		for _, c := range certs {
			if c != cur && bytes.Equal(c.RawSubject, cur.RawIssuer) && cur.CheckSignatureFrom(c) == nil && !inChain(chain, c) {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		chain = append(chain, next)
		cur = next
	}
	return chain
}

func inChain(chain []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range chain {
		if x.Equal(c) {
			return true
		}
	}
	return false
}
