package agent

// The self-check of a bank's server, and of every configured bank at once:
// whether the PC reaches the server, whether the server's TLS certificate is
// from the bank's own CA (not a proxy's, nor another bank's), whether the CA
// the server publishes is the one this PC was configured with and is in
// validity, and which key the bank asks for.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
)

// BankCheck is the self-check of one bank's server.
type BankCheck struct {
	BankCode  string
	BankName  string
	ServerURL string
	// KeyType is the key the bank asks for (csrattrs); ECDSA P-256 when the
	// bank could not be asked.
	KeyType wire.KeyType
	Steps   []DoctorStep
}

// OK reports whether every step that ran succeeded.
func (c BankCheck) OK() bool { return stepsOK(c.Steps) }

// maxCABody bounds the cacerts answer the check reads.
const maxCABody = 1 << 20

// CheckBank checks the bank's server from this PC, step by step: it connects
// (through the proxy the system names, as every call does), checks the
// server's TLS certificate against the bank's root, checks the CA
// certificates the server publishes against the configured root and the
// clock, and asks which key the bank wants. A step that needs a failed one is
// skipped.
func (a *Agent) CheckBank(ctx context.Context) BankCheck {
	c := BankCheck{BankCode: a.cfg.BankCode, BankName: a.cfg.BankName, ServerURL: a.cfg.ServerURL, KeyType: wire.KeyECDSAP256}
	add := stepAdder(&c.Steps, "")
	skip := func(name text, call string, why text) {
		c.Steps = append(c.Steps, DoctorStep{Name: name.ja, NameEn: name.en, Call: call, Skipped: true, Detail: why.ja, DetailEn: why.en})
	}
	var (
		nameConnect = text{"当金庫のサーバーに接続する", "Connect to the bank's server"}
		nameTLS     = text{"サーバーの TLS 証明書が当金庫の CA のものか確かめる", "Check that the server's TLS certificate is from the bank's CA"}
		nameCA      = text{"当金庫の CA 証明書を確かめる", "Check the bank's CA certificates"}
		nameKeyType = text{"当金庫のサーバーに鍵の種類を問い合わせる", "Ask the bank's server which key to make"}
	)
	callKeyType := "GET " + pathCSRAttrs

	host := ""
	if u, err := url.Parse(a.cfg.ServerURL); err == nil {
		host = u.Hostname()
	}
	state, certs, connectDetail, err := a.fetchCACertsUnverified(ctx)
	s := newStep("", nameConnect, "GET "+strings.TrimRight(a.cfg.ServerURL, "/")+pathCACerts, err)
	if err == nil {
		s.Detail = connectDetail
	}
	c.Steps = append(c.Steps, s)
	if err != nil {
		why := text{"サーバーに接続できなかったため", "the server could not be reached"}
		skip(nameTLS, "x509 Verify", why)
		skip(nameCA, "GET "+pathCACerts, why)
		skip(nameKeyType, callKeyType, why)
		return c
	}

	root, rootErr := a.checkPublishedCA(certs)
	var caDetail text
	if rootErr == nil {
		caDetail = describeCAs(root, certs)
	}
	if a.cfg.CACertPEM != "" {
		// The TLS certificate is checked against the root this PC trusts,
		// whatever the server publishes.
		root, _ = parseCA(a.cfg.CACertPEM)
	}
	var tlsErr error
	var tlsDetail text
	switch {
	case state == nil || len(state.PeerCertificates) == 0:
		tlsErr = errors.New("the server did not use TLS")
	case root == nil:
		tlsErr = fmt.Errorf("the bank's root CA is not known: %w", rootErr)
	default:
		tlsDetail, tlsErr = verifyServerCert(state, root, host, a.now())
	}
	s = newStep("", nameTLS, "x509 Verify ("+host+")", tlsErr)
	if tlsErr == nil {
		s.Detail, s.DetailEn = tlsDetail.ja, tlsDetail.en
	}
	c.Steps = append(c.Steps, s)
	s = newStep("", nameCA, "GET "+pathCACerts, rootErr)
	if rootErr == nil {
		s.Detail, s.DetailEn = caDetail.ja, caDetail.en
	}
	c.Steps = append(c.Steps, s)
	if tlsErr != nil || rootErr != nil {
		skip(nameKeyType, callKeyType, text{"当金庫のサーバーを確かめられなかったため", "the bank's server could not be checked"})
		return c
	}

	var attrs wire.CSRAttrs
	cl, err := a.client(ctx, nil)
	if err == nil {
		attrs, err = csrAttrs(ctx, cl, "", "")
	}
	if add(nameKeyType, callKeyType, err) {
		c.KeyType = attrs.KeyType
		c.Steps[len(c.Steps)-1].Detail = string(attrs.KeyType)
	}
	return c
}

// fetchCACertsUnverified fetches /.well-known/est/cacerts once, without
// retries and without checking the server's certificate (the caller checks
// it, to say what is wrong with it), and returns the TLS state, the
// certificates and what the connection was.
func (a *Agent) fetchCACertsUnverified(ctx context.Context) (*tls.ConnectionState, []*x509.Certificate, string, error) {
	transport := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, // checked by the caller
		TLSHandshakeTimeout: a.http.timeout,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: a.http.timeout}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(a.cfg.ServerURL, "/")+pathCACerts, nil)
	if err != nil {
		return nil, nil, "", fmt.Errorf("connect to %s: %w", a.cfg.ServerURL, err)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, "", fmt.Errorf("connect to %s: %w", a.cfg.ServerURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCABody))
	if err != nil {
		return nil, nil, "", fmt.Errorf("read the answer of %s: %w", a.cfg.ServerURL, err)
	}
	took := time.Since(start).Round(time.Millisecond)
	if resp.TLS == nil {
		return nil, nil, "", fmt.Errorf("connect to %s: the server did not use TLS", a.cfg.ServerURL)
	}
	detail := fmt.Sprintf("%s, HTTP %d, %s", tls.VersionName(resp.TLS.Version), resp.StatusCode, took)
	if resp.StatusCode != http.StatusOK {
		// Reached, but not an Inkan server's answer: the CA step says so.
		return resp.TLS, nil, detail, nil
	}
	certs, err := parseCertsOnly(body)
	if err != nil {
		return resp.TLS, nil, detail, nil
	}
	return resp.TLS, certs, detail, nil
}

// checkPublishedCA finds, among the CA certificates the server published, the
// root this PC was configured with (by its certificate or its fingerprint),
// and checks it and the CAs it issued against the clock.
func (a *Agent) checkPublishedCA(certs []*x509.Certificate) (*x509.Certificate, error) {
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s answers no CA certificates at %s: it is not the bank's Inkan server", a.cfg.ServerURL, pathCACerts)
	}
	var want certstore.Fingerprint
	if a.cfg.CACertPEM != "" {
		ca, err := parseCA(a.cfg.CACertPEM)
		if err != nil {
			return nil, fmt.Errorf("ca_cert_pem: %w", err)
		}
		want = certstore.FingerprintOf(ca)
	} else {
		var err error
		if want, err = normalizeFingerprint(a.cfg.CAFingerprint); err != nil {
			return nil, fmt.Errorf("ca_fingerprint: %w", err)
		}
	}
	i := slices.IndexFunc(certs, func(c *x509.Certificate) bool { return certstore.FingerprintOf(c) == want })
	if i < 0 {
		return nil, fmt.Errorf("the server publishes another CA than this PC's configuration of %s names (SHA-256 %s…): %w", a.cfg.BankName, want[:16], ErrCAMismatch)
	}
	root := certs[i]
	now := a.now()
	if err := inValidity(root, now); err != nil {
		return root, fmt.Errorf("the bank's root CA %s: %w", root.Subject.CommonName, err)
	}
	issuing := 0
	for _, c := range certs {
		if !c.IsCA || c.Equal(root) || !issuedBy(root, c, certs) {
			continue
		}
		if err := inValidity(c, now); err != nil {
			return root, fmt.Errorf("the bank's issuing CA %s: %w", c.Subject.CommonName, err)
		}
		issuing++
	}
	if issuing == 0 {
		return root, fmt.Errorf("the server publishes no issuing CA under the root %s", root.Subject.CommonName)
	}
	return root, nil
}

// inValidity says whether c is within its validity at now.
func inValidity(c *x509.Certificate, now time.Time) error {
	switch {
	case now.Before(c.NotBefore):
		return fmt.Errorf("not valid before %s: check this PC's clock", c.NotBefore.Local().Format(time.DateOnly))
	case now.After(c.NotAfter):
		return fmt.Errorf("expired on %s", c.NotAfter.Local().Format(time.DateOnly))
	}
	return nil
}

// describeCAs names the root and the issuing CAs with their fingerprint and expiry.
func describeCAs(root *x509.Certificate, certs []*x509.Certificate) text {
	fp := string(certstore.FingerprintOf(root))
	day := root.NotAfter.Local().Format(time.DateOnly)
	ja := []string{fmt.Sprintf("ルート %s（SHA-256 %s…、有効期限 %s）", root.Subject.CommonName, fp[:16], day)}
	en := []string{fmt.Sprintf("root %s (SHA-256 %s…, expires %s)", root.Subject.CommonName, fp[:16], day)}
	for _, c := range certs {
		if c.IsCA && !c.Equal(root) && issuedBy(root, c, certs) {
			day := c.NotAfter.Local().Format(time.DateOnly)
			ja = append(ja, fmt.Sprintf("発行 CA %s（有効期限 %s）", c.Subject.CommonName, day))
			en = append(en, fmt.Sprintf("issuing CA %s (expires %s)", c.Subject.CommonName, day))
		}
	}
	return text{strings.Join(ja, "、"), strings.Join(en, ", ")}
}

// verifyServerCert checks the server's TLS certificate against root for host,
// as every call of the agent does, and says whose certificate it is.
func verifyServerCert(state *tls.ConnectionState, root *x509.Certificate, host string, now time.Time) (text, error) {
	leaf := state.PeerCertificates[0]
	roots := x509.NewCertPool()
	roots.AddCert(root)
	inter := x509.NewCertPool()
	for _, c := range state.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: host, CurrentTime: now}); err != nil {
		return text{}, fmt.Errorf("the server's certificate (issued by %q) is not from the bank's CA, or not for %s: %w; a proxy or another server may stand between this PC and the bank",
			leaf.Issuer.String(), host, err)
	}
	day := leaf.NotAfter.Local().Format(time.DateOnly)
	return text{fmt.Sprintf("%s、有効期限 %s", leaf.Subject.String(), day), fmt.Sprintf("%s, expires %s", leaf.Subject.String(), day)}, nil
}

// Doctor runs the self-check for every configured bank: each bank's server
// (at the same time, so that one unreachable bank does not hold up the
// others), then the store once for each key type the banks ask for (each step naming
// its type when there are several), then each bank's browser copy.
func (b *Banks) Doctor(ctx context.Context) *DoctorReport {
	checks := make([]BankCheck, len(b.agents))
	var wg sync.WaitGroup
	for i, a := range b.agents {
		wg.Go(func() { checks[i] = a.CheckBank(ctx) })
	}
	wg.Wait()
	first := b.agents[0]
	r := &DoctorReport{OS: runtime.GOOS + "/" + runtime.GOARCH, Store: first.store.Kind(), KeyType: checks[0].KeyType, Banks: checks}
	var types []wire.KeyType
	for _, c := range checks {
		if !slices.Contains(types, c.KeyType) {
			types = append(types, c.KeyType)
		}
	}
	for _, kt := range types {
		r.Steps = append(r.Steps, first.checkPC(ctx, kt, len(types) > 1)...)
	}
	for _, a := range b.agents {
		if a.browser != nil {
			prefix := ""
			if len(b.agents) > 1 {
				prefix = a.cfg.BankName + ": "
			}
			a.checkBrowserCopy(ctx, stepAdder(&r.Steps, prefix))
		}
	}
	return r
}
