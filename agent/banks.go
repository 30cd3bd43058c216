package agent

// Several banks in one agent. A company often banks with several 信用金庫, each
// with its own server and CA. Banks keeps one Agent per bank over one store and
// one state file: each Agent trusts only its own bank's root, lists and presents
// only certificates that chain to it with its bank code, so a certificate of
// bank A is never offered to bank B's server, and bank B's server cannot answer
// for bank A (its TLS certificate does not chain to A's root).
//
// The configurations are the files banks ship (inkan-server agent-config), one
// per bank, in a directory (BankDir); the single bank.json of earlier versions is
// read as one more bank, so an upgrade needs no user action.

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
)

// ErrUnknownBank means no configured bank has the code asked for.
var ErrUnknownBank = errors.New("no such bank is configured on this PC")

// ErrChooseBank means several banks are configured and the operation needs one.
var ErrChooseBank = errors.New("several banks are configured: say which one")

// LoadBanks reads every bank configuration in dir (<bankCode>.json) and, when
// legacy names a file that exists, the single configuration of earlier versions,
// unless dir has that bank already. They are returned by bank code.
func LoadBanks(dir, legacy string) ([]Config, error) {
	var cfgs []Config
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read bank configurations: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		cfg, err := LoadConfig(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		cfgs = append(cfgs, cfg)
	}
	if legacy != "" {
		if _, err := os.Stat(legacy); err == nil {
			cfg, err := LoadConfig(legacy)
			if err != nil {
				return nil, err
			}
			if !slices.ContainsFunc(cfgs, func(c Config) bool { return c.BankCode == cfg.BankCode }) {
				cfgs = append(cfgs, cfg)
			}
		}
	}
	sort.Slice(cfgs, func(i, j int) bool { return cfgs[i].BankCode < cfgs[j].BankCode })
	return cfgs, nil
}

// AddBank validates cfg and writes it as dir/<bankCode>.json. A bank whose code
// is configured already with another CA is refused: remove it first.
func AddBank(dir string, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("add bank: %w", err)
	}
	path := filepath.Join(dir, cfg.BankCode+".json")
	if old, err := LoadConfig(path); err == nil && (old.CAFingerprint != cfg.CAFingerprint || old.CACertPEM != cfg.CACertPEM) {
		return fmt.Errorf("add bank %s (%s): %w", cfg.BankCode, cfg.BankName, &ConfigError{Field: "bank_code",
			Problem: "is configured already with another CA", Fix: "remove the bank first (inkanctl bank remove " + cfg.BankCode + "), then add it again"})
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("add bank: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("add bank: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".bank-*.json")
	if err != nil {
		return fmt.Errorf("add bank: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("add bank: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("add bank: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("add bank: %w", err)
	}
	return nil
}

// RemoveBank deletes dir/<code>.json. The bank's certificates stay in the store
// (the caller deletes them first when the user asks to).
func RemoveBank(dir, code string) error {
	err := os.Remove(filepath.Join(dir, code+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove bank %s: %w", code, ErrUnknownBank)
	}
	if err != nil {
		return fmt.Errorf("remove bank %s: %w", code, err)
	}
	return nil
}

// Banks is the agent for every configured bank, over one store.
type Banks struct {
	agents []*Agent // by bank code
}

// NewBanks starts one Agent per configuration, all on store and one state file.
func NewBanks(cfgs []Config, store certstore.Store, opts Options) (*Banks, error) {
	if len(cfgs) == 0 {
		return nil, &ConfigError{Problem: "no bank is configured", Fix: "add the configuration file your bank sent (inkanctl bank add FILE, or 設定)"}
	}
	b := &Banks{}
	for _, cfg := range cfgs {
		if slices.ContainsFunc(b.agents, func(a *Agent) bool { return a.cfg.BankCode == cfg.BankCode }) {
			return nil, fmt.Errorf("start agent: bank %s is configured twice", cfg.BankCode)
		}
		a, err := New(cfg, store, opts)
		if err != nil {
			return nil, fmt.Errorf("bank %s (%s): %w", cfg.BankCode, cfg.BankName, err)
		}
		if len(b.agents) > 0 {
			a.state = b.agents[0].state // one state file, one lock
		}
		b.agents = append(b.agents, a)
	}
	return b, nil
}

// OpenBanks is [NewBanks] over the store the first configuration names, or
// the OS default store when it names none; every bank keeps its certificates there.
func OpenBanks(cfgs []Config, opts Options) (*Banks, error) {
	if len(cfgs) == 0 {
		return NewBanks(nil, nil, opts)
	}
	kind := cfgs[0].Store
	if kind == "" {
		kind = certstore.DefaultKind()
	}
	s, err := certstore.Open(kind)
	if err != nil {
		return nil, fmt.Errorf("start agent: %w", err)
	}
	return NewBanks(cfgs, s, opts)
}

// All returns the agent of each bank, by bank code.
func (b *Banks) All() []*Agent { return slices.Clone(b.agents) }

// Bank returns the agent of the bank with this code; with code "" the only bank,
// or ErrChooseBank when there are several.
func (b *Banks) Bank(code string) (*Agent, error) {
	if code == "" {
		if len(b.agents) == 1 {
			return b.agents[0], nil
		}
		return nil, fmt.Errorf("%w (%s)", ErrChooseBank, strings.Join(b.codes(), ", "))
	}
	for _, a := range b.agents {
		if a.cfg.BankCode == code {
			return a, nil
		}
	}
	return nil, fmt.Errorf("bank %s: %w (configured: %s)", code, ErrUnknownBank, strings.Join(b.codes(), ", "))
}

func (b *Banks) codes() []string {
	var out []string
	for _, a := range b.agents {
		out = append(out, a.cfg.BankCode+" "+a.cfg.BankName)
	}
	return out
}

// Identities returns the certificates of every bank, each labelled with its
// bank ([Identity.BankName]), grouped by bank code, each bank's in its chooser order.
func (b *Banks) Identities(ctx context.Context) ([]*Identity, error) {
	var all []*Identity
	for _, a := range b.agents {
		ids, err := a.Identities(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.cfg.BankName, err)
		}
		all = append(all, ids...)
	}
	return all, nil
}

// Owner returns the agent of the bank whose certificate fp is.
func (b *Banks) Owner(ctx context.Context, fp Fingerprint) (*Agent, error) {
	for _, a := range b.agents {
		if _, _, err := a.identity(ctx, fp.inStore()); err == nil {
			return a, nil
		}
	}
	return nil, fmt.Errorf("certificate %s: %w", fp, ErrNoIdentity)
}

// Close closes every bank's agent.
func (b *Banks) Close() error {
	var errs []error
	for _, a := range b.agents {
		errs = append(errs, a.Close())
	}
	return errors.Join(errs...)
}

// Restore restores a backup that may hold certificates of several banks: each
// bank's restore labels, completes and checks its own, and a certificate of no
// configured bank is reported in Other, with [MissingBankNote] saying which bank
// to add.
func (b *Banks) Restore(ctx context.Context, pfx []byte, password string) (*RestoreResult, error) {
	out := &RestoreResult{}
	var other map[Fingerprint]*OtherCertificate
	var checkErrs []error
	for i, a := range b.agents {
		res, err := a.Restore(ctx, pfx, password)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.cfg.BankName, err)
		}
		// The first bank's restore added everything; later ones find their
		// certificates present: those are new to the PC all the same.
		if i == 0 {
			out.Added = append(out.Added, res.Added...)
			out.AlreadyPresent = append(out.AlreadyPresent, res.AlreadyPresent...)
			other = map[Fingerprint]*OtherCertificate{}
			for _, sid := range res.Other {
				other[sid.Fingerprint] = sid
			}
		} else {
			for _, id := range res.AlreadyPresent {
				if _, wasOther := other[id.Fingerprint]; wasOther {
					out.Added = append(out.Added, id)
				} else {
					out.AlreadyPresent = append(out.AlreadyPresent, id)
				}
			}
			out.Added = append(out.Added, res.Added...)
			for _, id := range append(slices.Clone(res.Added), res.AlreadyPresent...) {
				delete(other, id.Fingerprint)
			}
		}
		out.Revoked = append(out.Revoked, res.Revoked...)
		if res.CheckErr != nil {
			checkErrs = append(checkErrs, res.CheckErr)
		}
	}
	for _, sid := range other {
		out.Other = append(out.Other, sid)
	}
	sort.Slice(out.Other, func(i, j int) bool { return out.Other[i].Label < out.Other[j].Label })
	out.CheckErr = errors.Join(checkErrs...)
	return out, nil
}

var msgMissingBank = text{"次の電子証明書は、このパソコンに設定のない金融機関のものです。その金融機関の設定ファイルを追加（設定 → 金融機関の追加、または inkanctl bank add）すると使えます: ",
	"These certificates are from a bank that is not configured on this PC. Add that bank's configuration file (設定 → add a bank, or inkanctl bank add) to use them: "}

// MissingBankNote says, in lang, which banks to add for certificates restored
// without their bank's configuration, naming each by the bank code and name its
// certificate carries; "" when there is none.
func MissingBankNote(other []*OtherCertificate, lang string) string {
	var names []string
	for _, sid := range other {
		name := sid.Label
		if subj, err := wire.SubjectOf(sid.Certificate); err == nil {
			bank := subj.BankCode
			if org := sid.Certificate.Issuer.Organization; len(org) > 0 {
				bank = org[0] + " (" + subj.BankCode + ")"
			}
			name = subj.Label() + " → " + bank
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return ""
	}
	if lang == "en" {
		return msgMissingBank.en + strings.Join(names, ", ")
	}
	return msgMissingBank.ja + strings.Join(names, "、")
}

// ProbeBank learns a bank from its URL and the SHA-256 fingerprint of its root,
// as the bank gave them: it fetches /.well-known/est/cacerts, keeps the root with
// that fingerprint (checking the server's TLS certificate against it) and returns
// cfg with the root as ca_cert_pem, ready for [AddBank].
func ProbeBank(ctx context.Context, cfg Config) (Config, error) {
	fp, err := normalizeFingerprint(cfg.CAFingerprint)
	if err != nil || fp == "" {
		return cfg, &ConfigError{Field: "ca_fingerprint", Problem: fmt.Sprintf("%q is not a SHA-256 fingerprint", cfg.CAFingerprint), Fix: "give the fingerprint of the root CA your bank published (64 hex digits)"}
	}
	cfg.CAFingerprint = string(fp)
	cfg.CACertPEM = ""
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("add bank: %w", err)
	}
	a := &Agent{cfg: cfg, now: time.Now, http: httpOptions{timeout: DefaultHTTPTimeout, retryWait: time.Second}}
	ca, err := a.fetchCA(ctx)
	if err != nil {
		return cfg, fmt.Errorf("add bank %s: %w", cfg.ServerURL, err)
	}
	cfg.CACertPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}))
	return cfg, nil
}

// BackupAs backs up certificates of any configured banks into one file, as
// [Agent.BackupAs] does for one bank's; each certificate keeps its bank (its
// issuer and bank code), so [Banks.Restore] puts it back with its bank.
func (b *Banks) BackupAs(ctx context.Context, fps []Fingerprint, password, confirm string, format BackupFormat) ([]byte, error) {
	// One store: any bank's agent exports, each certificate checked by its own.
	return b.agents[0].backupAs(ctx, fps, password, confirm, format, b.Owner)
}
