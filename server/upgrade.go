package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/inkan-dev/inkan/server/ca"
)

// A data directory made by an older inkan-server lacks what later versions
// write at init: the revocation URL and its plain-HTTP listener, the bank's
// certificate policy, encrypted CA keys, tls.pem, a root CRL, an issuing CA
// that names the root CRL and no longer carries id-kp-OCSPSigning. [Upgrade]
// finds each of them, does what needs no decision, and names the flag of each
// decision only the bank can take (the revocation URL, for one, is written
// into every certificate and cannot be changed afterwards). serve and
// inkan-server status warn of what is left (see [CheckHealth]).

// UpgradeStep is one thing an older data directory lacks: what it is and what
// it means (in Japanese, then English), and what upgrade does for it.
type UpgradeStep struct {
	// Item names the step: revocation_url, certificate_policy_oid,
	// config_defaults, tls_pem, encrypt_issuing_key, encrypt_root_key,
	// root_crl or issuing_ca.
	Item string `json:"item"`
	Ja   string `json:"ja"`
	En   string `json:"en"`
	// Needs is what the operator must give before upgrade can do this step
	// (a flag and what to decide); empty when it can do it alone.
	Needs string `json:"needs,omitempty"`
	// Done is set once --apply has done it.
	Done bool `json:"done"`
}

// UpgradeOptions are the operator's decisions for [Upgrade].
type UpgradeOptions struct {
	// Apply does the steps; false only finds them and changes nothing.
	Apply bool
	// RevocationURL, HTTPAddr and PolicyOID are what init takes
	// (--revocation-url, --http-addr, --policy-oid); Demo allows a loopback
	// revocation URL and an example policy, as init --demo does.
	RevocationURL, HTTPAddr, PolicyOID string
	Demo                               bool
	// Passphrase encrypts CA keys still in clear and decrypts an encrypted
	// root key; nil when none was given.
	Passphrase ca.Passphrase
	// RootKeyPath is the root key; empty means DIR/offline/root-ca.key.
	RootKeyPath string
	// Rollover makes a new issuing CA when the current one lacks what a new
	// one has (ca rollover, with the root key).
	Rollover bool
	// Now is the time of the new root CRL and issuing CA; zero means time.Now.
	Now time.Time
}

// UpgradeBackupSuffix starts the name of the copy of config.json that
// [Upgrade] keeps before it changes the file: config.json.before-upgrade-TIME.
const UpgradeBackupSuffix = ".before-upgrade-"

// Upgrade brings the data directory dir, made by an older version, up to what
// init makes now, as far as opts allows, and returns every step it found (none
// for a directory that needs nothing). Without opts.Apply it changes nothing.
// A step whose decision is missing stays with Needs set; the others are done
// in order (config.json, tls.pem, key encryption, root CRL, new issuing CA),
// each before the next one starts.
func Upgrade(dir string, opts UpgradeOptions) ([]UpgradeStep, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	path := filepath.Join(dir, ConfigFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("upgrade %s: %w", dir, err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		return nil, fmt.Errorf("upgrade %s: %w", dir, err)
	}
	u := &upgrade{dir: dir, opts: opts, cfg: cfg}
	if err := u.configSteps(raw); err != nil {
		return u.steps, err
	}
	if err := u.tlsStep(); err != nil {
		return u.steps, err
	}
	if err := u.keySteps(); err != nil {
		return u.steps, err
	}
	if err := u.rootCRLStep(); err != nil {
		return u.steps, err
	}
	if err := u.issuingStep(); err != nil {
		return u.steps, err
	}
	if opts.Apply && len(u.steps) > 0 {
		// The database migrates itself when opened: open it now, so that an
		// upgraded directory is known to open.
		db, err := OpenStore(dir)
		if err != nil {
			return u.steps, fmt.Errorf("upgrade %s: open the database: %w", dir, err)
		}
		if err := db.Close(); err != nil {
			return u.steps, err
		}
	}
	return u.steps, nil
}

// PendingUpgrade is what [Upgrade] would still do in dir: the steps of an
// older data directory, none for a current one. It changes nothing.
func PendingUpgrade(dir string) ([]UpgradeStep, error) {
	return Upgrade(dir, UpgradeOptions{})
}

type upgrade struct {
	dir   string
	opts  UpgradeOptions
	cfg   Config
	steps []UpgradeStep
}

func (u *upgrade) add(s UpgradeStep) *UpgradeStep {
	u.steps = append(u.steps, s)
	return &u.steps[len(u.steps)-1]
}

func (u *upgrade) rootKeyPath() string {
	if u.opts.RootKeyPath != "" {
		return u.opts.RootKeyPath
	}
	return ca.RootKeyPath(u.dir)
}

// configSteps decides the config.json fields an older init did not write,
// and writes the file once when applying.
func (u *upgrade) configSteps(raw []byte) error {
	next := u.cfg
	changed := false
	if next.RevocationURL == "" || next.HTTPAddr == "" {
		s := u.add(UpgradeStep{Item: "revocation_url",
			Ja: "config.json に revocation_url（失効確認の公開URL）と http_addr がありません。CRL・OCSP・CA証明書を平文HTTPで公開できず、新しい電子証明書にも openssl などが取得できない https:// のURLが書き込まれます。",
			En: "config.json has no revocation_url (the public base URL of revocation) or http_addr: CRLs, OCSP and the CA certificates are not served over plain HTTP, and new certificates get https:// URLs that openssl and other relying parties cannot fetch."})
		ic := InitConfig{RevocationURL: next.RevocationURL, HTTPAddr: next.HTTPAddr, Demo: u.opts.Demo, BankCode: next.BankCode}
		if ic.RevocationURL == "" {
			ic.RevocationURL, ic.HTTPAddr = u.opts.RevocationURL, u.opts.HTTPAddr
		}
		if ic.RevocationURL == "" && !u.opts.Demo {
			s.Needs = "--revocation-url http://HOST[:PORT]: the address where relying parties will fetch CRLs and OCSP; it is written into every certificate from now on and cannot be changed later (以後の証明書に書き込まれ、後から変えられません)"
		} else if err := revocationURLSettings(&ic); err != nil {
			return fmt.Errorf("upgrade: %w", err)
		} else {
			next.RevocationURL, next.HTTPAddr, changed = ic.RevocationURL, ic.HTTPAddr, true
		}
	}
	if next.CertificatePolicyOID == "" {
		s := u.add(UpgradeStep{Item: "certificate_policy_oid",
			Ja: "config.json に certificate_policy_oid（当金庫の証明書ポリシーのOID）がありません。新しい電子証明書に certificatePolicies が入りません。",
			En: "config.json has no certificate_policy_oid (the bank's certificate policy): new certificates carry no certificatePolicies."})
		ic := InitConfig{PolicyOID: u.opts.PolicyOID, Demo: u.opts.Demo, BankCode: next.BankCode}
		if ic.PolicyOID == "" && !u.opts.Demo {
			s.Needs = "--policy-oid OID: the OID of the bank's CP/CPS (証明書ポリシーのOID)"
		} else if err := policySetting(&ic); err != nil {
			return fmt.Errorf("upgrade: %w", err)
		} else {
			next.CertificatePolicyOID, changed = ic.PolicyOID, true
		}
	}
	if added := addedKeys(raw, next); len(added) > 0 {
		u.add(UpgradeStep{Item: "config_defaults",
			Ja: "config.json にない設定は既定値で動いています。その既定値を書き込みます（動作は変わりません）: " + strings.Join(added, ", "),
			En: "config.json lacks these settings, which run on their defaults; upgrade writes the defaults in (nothing changes in behaviour): " + strings.Join(added, ", ")})
		changed = true
	}
	u.cfg = next // what the later steps go by, written below when applying
	if !u.opts.Apply || !changed {
		return nil
	}
	if err := next.Validate(); err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	path := filepath.Join(u.dir, ConfigFile)
	if err := keepCopy(path+UpgradeBackupSuffix+u.opts.Now.UTC().Format("20060102T150405Z"), raw); err != nil {
		return fmt.Errorf("upgrade: keep the old config.json: %w", err)
	}
	if err := writeConfig(path+".next", next); err != nil {
		return err
	}
	if err := os.Rename(path+".next", path); err != nil {
		return fmt.Errorf("upgrade: write config.json: %w", err)
	}
	for i := range u.steps {
		if u.steps[i].Needs == "" {
			u.steps[i].Done = true
		}
	}
	return nil
}

// keepCopy writes data to a new file named name, or name-2, name-3, …: an
// earlier copy is never overwritten.
func keepCopy(name string, data []byte) error {
	for n := 1; ; n++ {
		try := name
		if n > 1 {
			try = fmt.Sprintf("%s-%d", name, n)
		}
		f, err := os.OpenFile(try, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
}

// addedKeys lists, as dotted paths, the JSON keys that writing c would add to
// the config file raw.
func addedKeys(raw []byte, c Config) []string {
	var before, after map[string]any
	if json.Unmarshal(raw, &before) != nil {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(c) != nil || json.Unmarshal(buf.Bytes(), &after) != nil {
		return nil
	}
	var out []string
	var walk func(prefix string, b, a map[string]any)
	walk = func(prefix string, b, a map[string]any) {
		for k, av := range a {
			bv, ok := b[k]
			switch {
			case !ok && (k == "revocation_url" || k == "http_addr" || k == "certificate_policy_oid") && prefix == "":
				// reported as steps of their own
			case !ok:
				out = append(out, prefix+k)
			default:
				am, aok := av.(map[string]any)
				bm, bok := bv.(map[string]any)
				if aok && bok {
					walk(prefix+k+".", bm, am)
				}
			}
		}
	}
	walk("", before, after)
	sort.Strings(out)
	return out
}

func (u *upgrade) tlsStep() error {
	if !ca.HasSeparateTLSFiles(u.dir) {
		return nil
	}
	s := u.add(UpgradeStep{Item: "tls_pem",
		Ja: "TLS の鍵と証明書が tls.key と tls.crt の2つのファイルです。1つの tls.pem にまとめます（tls renew が1回の rename で入れ替えられるように）。",
		En: "The TLS key and certificate are two files, tls.key and tls.crt: upgrade joins them into one tls.pem, which tls renew replaces by one rename."})
	if !u.opts.Apply {
		return nil
	}
	if err := ca.JoinTLSFiles(u.dir); err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	s.Done = true
	return nil
}

// keySteps encrypts the CA keys an older init wrote in clear.
func (u *upgrade) keySteps() error {
	keys := []struct{ item, path, ja, en string }{
		{"encrypt_issuing_key", filepath.Join(u.dir, ca.IssuingKeyFile), "発行CAの鍵が暗号化されていません。", "The issuing CA key is not encrypted."},
		{"encrypt_root_key", u.rootKeyPath(), "ルートCAの鍵が暗号化されていません（serve はデータディレクトリ内の平文のルート鍵を拒否します）。", "The root CA key is not encrypted (serve refuses a clear root key inside the data directory)."},
	}
	if u.cfg.CAKey != "" {
		keys = keys[1:] // the issuing key is in an HSM
	}
	for _, k := range keys {
		enc, err := ca.KeyIsEncrypted(k.path)
		if errors.Is(err, os.ErrNotExist) || (err == nil && enc) {
			continue
		}
		if err != nil {
			return fmt.Errorf("upgrade: %w", err)
		}
		s := u.add(UpgradeStep{Item: k.item, Ja: k.ja + "パスフレーズで暗号化します（PKCS#8）。", En: k.en + " Upgrade encrypts it with the passphrase (PKCS#8)."})
		if u.opts.Passphrase == nil {
			s.Needs = "a passphrase of 12 characters or more: --passphrase-file FILE or $INKAN_CA_PASSPHRASE (serve then asks for it)"
			continue
		}
		if !u.opts.Apply {
			continue
		}
		key, err := ca.ReadKey(k.path, nil)
		if err != nil {
			return fmt.Errorf("upgrade: %w", err)
		}
		pass, err := u.opts.Passphrase()
		if err != nil {
			return fmt.Errorf("upgrade: %w", err)
		}
		if err := ca.WriteKey(k.path, key, pass); err != nil {
			return fmt.Errorf("upgrade: %w", err)
		}
		s.Done = true
	}
	return nil
}

// rootKeyReady reports whether the root key can sign now: it is there, and
// any passphrase it needs was given.
func (u *upgrade) rootKeyReady() string {
	enc, err := ca.KeyIsEncrypted(u.rootKeyPath())
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Sprintf("--root-key PATH: the root CA key (not at %s), from where the bank keeps it", u.rootKeyPath())
	case err != nil:
		return err.Error()
	case enc && u.opts.Passphrase == nil:
		return "the passphrase of the root key: --passphrase-file FILE or $INKAN_CA_PASSPHRASE"
	}
	return ""
}

func (u *upgrade) rootCRLStep() error {
	if _, err := ca.ReadRootCRL(u.dir); err == nil {
		return nil
	} else if !os.IsNotExist(err) {
		return fmt.Errorf("upgrade: %w", err)
	}
	s := u.add(UpgradeStep{Item: "root_crl",
		Ja: "ルートCRL（root.crl）がありません。ルート鍵で署名し、/crl/root.crl で公開します（有効期間365日。期限前に ca root-crl で署名し直してください）。",
		En: "There is no root CRL (root.crl): upgrade signs one with the root key, published at /crl/root.crl (valid 365 days: sign the next with ca root-crl before then)."})
	if s.Needs = u.rootKeyReady(); s.Needs != "" || !u.opts.Apply {
		return nil
	}
	if _, err := ca.SignRootCRL(u.dir, u.rootKeyPath(), u.opts.Passphrase, ca.RootCRLValidity, u.opts.Now); err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	s.Done = true
	return nil
}

// issuingStep rolls the issuing CA over when it lacks what a new one has.
func (u *upgrade) issuingStep() error {
	cert, err := ca.ReadIssuingCert(u.dir)
	if err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	short := ca.IssuingShortfalls(cert)
	if len(short) == 0 {
		return nil
	}
	var ja, en []string
	for _, f := range short {
		ja, en = append(ja, f.Ja), append(en, f.En)
	}
	s := u.add(UpgradeStep{Item: "issuing_ca",
		Ja: "発行CAの証明書が古い形式です（" + strings.Join(ja, "、") + "）。--rollover で、ルート鍵を使って新しい発行CAを作ります（ca rollover）。古い発行CAの電子証明書は、期限までログイン・更新・CRL・OCSPがそのまま使えます。",
		En: "The issuing CA certificate is of the old kind: " + strings.Join(en, "; ") + ". With --rollover, upgrade makes a new issuing CA with the root key (ca rollover); the old CA's certificates keep logging in, renewing and their CRL and OCSP until they expire."})
	switch {
	case u.cfg.CAKey != "":
		s.Needs = "the issuing key is in an HSM: run inkan-server ca rollover --kms pkcs11:… (a new object=) after this upgrade"
	case !u.opts.Rollover:
		s.Needs = "--rollover: the decision to make a new issuing CA now (PCs take it from EST cacerts; whatever else pins the issuing CA needs the new certificate)"
	case u.cfg.RevocationURL == "" || u.cfg.CertificatePolicyOID == "":
		s.Needs = "--revocation-url and --policy-oid first: the new issuing CA carries both"
	default:
		s.Needs = u.rootKeyReady()
	}
	if s.Needs != "" || !u.opts.Apply {
		return nil
	}
	if _, err := ca.Rollover(u.dir, u.rootKeyPath(), u.opts.Passphrase, u.cfg.RevocationURL, u.cfg.CertificatePolicyOID, u.opts.Now); err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	s.Done = true
	return nil
}

// Pending returns the steps that are not done.
func Pending(steps []UpgradeStep) []UpgradeStep {
	return slices.DeleteFunc(slices.Clone(steps), func(s UpgradeStep) bool { return s.Done })
}
