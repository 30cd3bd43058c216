package server

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/inkan-dev/inkan/server/ca"
)

// What the bank's operator must act on before it fails, from the files of the
// data directory alone (no key, no database): the root CRL, which the offline
// root key signs rarely, lapsing; the issuing CA and the TLS certificate
// ending; what an older data directory still lacks. serve logs it at start and
// every [HealthInterval]; inkan-server status prints it.

// Warning periods before something lapses.
const (
	// RootCRLWarning: the root key is offline (in the bank's safe), and once the
	// root CRL's nextUpdate passes every relying party that checks the whole
	// chain refuses every certificate (openssl: "CRL has expired").
	RootCRLWarning = 60 * 24 * time.Hour
	// IssuingCAWarning: a leaf never outlives its issuing CA, so in its last
	// year new certificates come out shorter than the policy's year.
	IssuingCAWarning = 400 * 24 * time.Hour
	// TLSWarning: after it, PCs and browsers cannot connect.
	TLSWarning = 30 * 24 * time.Hour
	// HealthInterval is how often serve checks again.
	HealthInterval = 12 * time.Hour
)

// Health levels.
const (
	HealthOK    = "ok"
	HealthWarn  = "warn"
	HealthError = "error"
)

// HealthItem is one thing checked, with what it means in Japanese and English
// and the command that puts it right.
type HealthItem struct {
	What  string    `json:"what"`
	Level string    `json:"level"`
	Until time.Time `json:"until,omitzero"`
	Ja    string    `json:"ja"`
	En    string    `json:"en"`
	Fix   string    `json:"fix,omitempty"`
}

// Health is what [CheckHealth] found.
type Health struct {
	Items []HealthItem `json:"items"`
}

// Problems are the items that are not ok.
func (h *Health) Problems() []HealthItem {
	var out []HealthItem
	for _, i := range h.Items {
		if i.Level != HealthOK {
			out = append(out, i)
		}
	}
	return out
}

// CheckHealth checks the data directory dir at now.
func CheckHealth(dir string, now time.Time) (*Health, error) {
	h := &Health{}
	h.Items = append(h.Items, rootCRLHealth(dir, now))
	cert, err := ca.ReadIssuingCert(dir)
	if err != nil {
		return nil, err
	}
	h.Items = append(h.Items, lapseItem("issuing_ca", cert, now, IssuingCAWarning,
		"発行CA "+cert.Subject.CommonName, "The issuing CA "+cert.Subject.CommonName,
		"inkan-server ca rollover --data "+dir+" --root-key PATH"))
	retired, err := filepath.Glob(filepath.Join(dir, ca.RetiredDir, "*.crt"))
	if err != nil {
		return nil, err
	}
	for _, p := range retired {
		h.Items = append(h.Items, retiredItem(dir, p, now))
	}
	if pair, err := ca.LoadTLS(dir); err == nil {
		h.Items = append(h.Items, lapseItem("tls", pair.Leaf, now, TLSWarning, "TLS証明書", "The TLS certificate",
			"inkan-server tls renew --data "+dir+" --root-key PATH"))
	} else {
		h.Items = append(h.Items, HealthItem{What: "tls", Level: HealthError, Ja: "TLS証明書を読めません: " + err.Error(), En: "The TLS certificate cannot be read: " + err.Error()})
	}
	steps, err := PendingUpgrade(dir)
	if err != nil {
		return nil, err
	}
	for _, s := range steps {
		if s.Item == "root_crl" {
			continue // the root CRL's own item says so
		}
		h.Items = append(h.Items, HealthItem{What: "upgrade:" + s.Item, Level: HealthWarn,
			Ja: "古いバージョンのデータディレクトリです: " + s.Ja, En: "A data directory of an older version: " + s.En,
			Fix: "inkan-server upgrade --data " + dir + " (shows what it does and what you must decide; --apply does it)"})
	}
	return h, nil
}

func rootCRLHealth(dir string, now time.Time) HealthItem {
	fix := "inkan-server ca root-crl --data " + dir + " --root-key PATH"
	crl, err := ca.ReadRootCRL(dir)
	if os.IsNotExist(err) {
		return HealthItem{What: "root_crl", Level: HealthError, Fix: fix,
			Ja: "ルートCRL（root.crl）がありません。openssl verify -crl_check_all などの検証は発行CAを確認できず失敗します。",
			En: "There is no root CRL (root.crl): relying parties that check the whole chain (openssl verify -crl_check_all) fail at the issuing CA."}
	}
	if err != nil {
		return HealthItem{What: "root_crl", Level: HealthError, Fix: fix, Ja: "ルートCRLを読めません: " + err.Error(), En: "The root CRL cannot be read: " + err.Error()}
	}
	item := HealthItem{What: "root_crl", Until: crl.NextUpdate, Fix: fix}
	left := crl.NextUpdate.Sub(now)
	date := crl.NextUpdate.Local().Format("2006-01-02 15:04")
	switch {
	case left <= 0:
		item.Level = HealthError
		item.Ja = fmt.Sprintf("ルートCRL（番号 %s）の次回更新日時 %s を過ぎています。全体を検証する利用者（openssl verify -crl_check_all など）はすべての電子証明書を拒否します。ルート鍵で今すぐ署名し直してください。", crl.Number, date)
		item.En = fmt.Sprintf("The root CRL (number %s) lapsed at %s: relying parties that check the whole chain (openssl verify -crl_check_all) refuse every certificate. Sign a new one with the root key now.", crl.Number, date)
	case left <= RootCRLWarning:
		item.Level = HealthWarn
		item.Ja = fmt.Sprintf("ルートCRL（番号 %s）はあと%d日（%s）で次回更新日時を迎えます。それまでにルート鍵を保管場所から出して署名し直してください。", crl.Number, wholeDays(left), date)
		item.En = fmt.Sprintf("The root CRL (number %s) lapses in %d days (%s): take the root key from the safe and sign the next one before then.", crl.Number, wholeDays(left), date)
	default:
		item.Level = HealthOK
		item.Ja = fmt.Sprintf("ルートCRL（番号 %s）は %s まで有効です（あと%d日）。", crl.Number, date, wholeDays(left))
		item.En = fmt.Sprintf("The root CRL (number %s) is current until %s (%d days).", crl.Number, date, wholeDays(left))
		item.Fix = ""
	}
	return item
}

// lapseItem checks that cert is not expired nor within warn of it.
func lapseItem(what string, cert *x509.Certificate, now time.Time, warn time.Duration, ja, en, fix string) HealthItem {
	item := HealthItem{What: what, Until: cert.NotAfter, Fix: fix}
	left := cert.NotAfter.Sub(now)
	date := cert.NotAfter.Local().Format("2006-01-02")
	switch {
	case left <= 0:
		item.Level = HealthError
		item.Ja, item.En = fmt.Sprintf("%sの有効期限（%s）が過ぎています。", ja, date), fmt.Sprintf("%s expired on %s.", en, date)
	case left <= warn:
		item.Level = HealthWarn
		item.Ja, item.En = fmt.Sprintf("%sの有効期限まであと%d日（%s）です。", ja, wholeDays(left), date), fmt.Sprintf("%s expires in %d days (%s).", en, wholeDays(left), date)
	default:
		item.Level, item.Fix = HealthOK, ""
		item.Ja, item.En = fmt.Sprintf("%sは %s まで有効です。", ja, date), fmt.Sprintf("%s is valid until %s.", en, date)
	}
	return item
}

// retiredItem describes a retired issuing CA: it is fine while it answers for
// its certificates, whether revoked or not.
func retiredItem(dir, path string, now time.Time) HealthItem {
	id := filepath.Base(path[:len(path)-len(".crt")])
	item := HealthItem{What: "retired_ca:" + id, Level: HealthOK}
	cert, err := ca.ReadCertificate(path)
	if err != nil {
		item.Level, item.Ja, item.En = HealthWarn, "退役した発行CAを読めません: "+err.Error(), "A retired issuing CA cannot be read: "+err.Error()
		return item
	}
	item.Until = cert.NotAfter
	date := cert.NotAfter.Local().Format("2006-01-02")
	switch _, err := os.Stat(filepath.Join(dir, ca.RetiredDir, id+ca.IssuerRevokedSuffix)); {
	case err == nil:
		item.Ja = fmt.Sprintf("退役した発行CA %s（ID %s）はルートCRLで失効済みです。", cert.Subject.CommonName, id)
		item.En = fmt.Sprintf("Retired issuing CA %s (ID %s) is revoked in the root CRL.", cert.Subject.CommonName, id)
	case now.After(cert.NotAfter):
		item.Ja = fmt.Sprintf("退役した発行CA %s（ID %s）は %s に期限切れです。", cert.Subject.CommonName, id, date)
		item.En = fmt.Sprintf("Retired issuing CA %s (ID %s) expired on %s.", cert.Subject.CommonName, id, date)
	default:
		item.Ja = fmt.Sprintf("退役した発行CA %s（ID %s）は %s まで発行済みの電子証明書のCRL・OCSPに応答します（失効は ca revoke-issuer %s）。", cert.Subject.CommonName, id, date, id)
		item.En = fmt.Sprintf("Retired issuing CA %s (ID %s) answers CRL and OCSP for its certificates until %s (to revoke it: ca revoke-issuer %s).", cert.Subject.CommonName, id, date, id)
	}
	return item
}

func wholeDays(d time.Duration) int { return int(d.Hours()/24 + 0.999) }

// Health checks the server's data directory now, as [CheckHealth] does.
func (s *Server) Health() (*Health, error) { return CheckHealth(s.dir, s.svc.Now()) }

// healthLoop logs the health problems now and every interval until ctx ends:
// a warning for what will lapse, an error for what has.
func (s *Server) healthLoop(ctx context.Context, every time.Duration) {
	defer s.sweeps.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.logHealth()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) logHealth() {
	h, err := s.Health()
	if err != nil {
		s.log.Error("check the data directory (inkan-server status)", "err", err)
		return
	}
	for _, p := range h.Problems() {
		args := []any{"what", p.What, "en", p.En}
		if p.Fix != "" {
			args = append(args, "fix", p.Fix)
		}
		if p.Level == HealthError {
			s.log.Error(p.Ja, args...)
		} else {
			s.log.Warn(p.Ja, args...)
		}
	}
}
