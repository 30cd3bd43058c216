package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/smallstep/pkcs7"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
)

// EST paths (RFC 7030 §3.2.2).
const (
	pathCACerts        = "/.well-known/est/cacerts"
	pathSimpleEnroll   = "/.well-known/est/simpleenroll"
	pathSimpleReenroll = "/.well-known/est/simplereenroll"
	pathOCSP           = "/ocsp"
	pathCSRAttrs       = "/.well-known/est/csrattrs"
)

// httpOptions is how every client the agent makes behaves.
type httpOptions struct {
	timeout       time.Duration
	retryWait     time.Duration
	maxRetryAfter time.Duration
}

// newClient returns a resty client for the bank's server over a transport with
// tlsConfig: a timeout per attempt, and retries with backoff on network errors and
// 503 only, never on any other answer (a 429 is the server asking the person to
// slow down, not the agent to try again). A 503's Retry-After is waited out when
// it is within maxRetryAfter; a 503 asking for longer is final.
func (a *Agent) newClient(tlsConfig *tls.Config) *resty.Client {
	transport := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     tlsConfig,
		TLSHandshakeTimeout: a.http.timeout,
		IdleConnTimeout:     30 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	return resty.NewWithClient(&http.Client{Transport: transport, Timeout: a.http.timeout}).
		SetBaseURL(strings.TrimRight(a.cfg.ServerURL, "/")).
		SetLogger(quietLogger{}).
		SetRetryCount(Retries).
		SetRetryWaitTime(a.http.retryWait).
		SetRetryMaxWaitTime(max(8*a.http.retryWait, a.http.maxRetryAfter)).
		SetRetryAfter(func(_ *resty.Client, resp *resty.Response) (time.Duration, error) {
			// Zero lets resty use its backoff: no Retry-After, or a network error.
			wait, _ := retryAfter(resp, a.now())
			return wait, nil
		}).
		AddRetryCondition(a.retryable).
		SetHeader("User-Agent", "inkan-agent")
}

// retryable says whether an attempt should be tried again: after a network error
// that another attempt may cure, or a 503 (server busy or restarting) whose
// Retry-After, if any, is within maxRetryAfter. A TLS verification failure or any
// other answer is final, a 429 included. A POST or DELETE is retried after a
// network error only if the connection was never made: the server may have acted
// on a request whose answer was lost, and a second pickup would find the window
// already closed. EST enrollments are the exception, see retryableEnrollment.
func (a *Agent) retryable(resp *resty.Response, err error) bool {
	if err == nil {
		if resp == nil || resp.StatusCode() != http.StatusServiceUnavailable {
			return false
		}
		wait, ok := retryAfter(resp, a.now())
		return !ok || wait <= a.http.maxRetryAfter
	}
	if !curable(err) {
		return false
	}
	if resp != nil && resp.Request != nil && resp.Request.Method != http.MethodGet {
		var op *net.OpError
		return errors.As(err, &op) && op.Op == "dial"
	}
	return true
}

// retryAfter reads the Retry-After of an answer (RFC 9110 §10.2.3), in seconds
// or as a date; ok is false when there is none or it does not parse.
func retryAfter(resp *resty.Response, now time.Time) (wait time.Duration, ok bool) {
	if resp == nil || resp.RawResponse == nil {
		return 0, false
	}
	v := strings.TrimSpace(resp.Header().Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
		return time.Duration(min(secs, 1<<32)) * time.Second, true // 136 years is as good as forever
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// retryableEnrollment is the retry rule of an EST simpleenroll or
// simplereenroll POST: it is retried after any network error another attempt
// may cure, even once the request was written and the answer lost (connection
// reset, EOF, timeout). The retry sends the same CSR for the same pending key,
// and the server answers a pickup or renewal repeated with the same key with
// the certificate it already issued, so a lost answer costs nothing.
func retryableEnrollment(_ *resty.Response, err error) bool {
	return err != nil && curable(err)
}

// curable reports whether another attempt may cure err: not a TLS
// verification failure, and not the caller giving up.
func curable(err error) bool {
	return !isTLSFailure(err) && !errors.Is(err, context.Canceled)
}

// isTLSFailure reports errors that mean the server or the client certificate was
// not accepted: retrying cannot help.
func isTLSFailure(err error) bool {
	var (
		verify    *tls.CertificateVerificationError
		unknown   x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		alert     tls.AlertError
		recordHdr tls.RecordHeaderError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &alert) || errors.As(err, &recordHdr)
}

// quietLogger keeps resty from writing to stderr: every error reaches the caller.
type quietLogger struct{}

func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Debugf(string, ...any) {}

// tlsConfig trusts only ca and, with id, authenticates with id's key through the
// store's signer.
func tlsConfig(ca *x509.Certificate, id *certstore.Identity) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if id != nil {
		chain := [][]byte{id.Certificate.Raw}
		for _, c := range id.Chain {
			if !bytes.Equal(c.RawSubject, c.RawIssuer) { // the server has the root
				chain = append(chain, c.Raw)
			}
		}
		cert := &tls.Certificate{Certificate: chain, PrivateKey: id.Signer, Leaf: id.Certificate}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return cert, nil
		}
	}
	return cfg
}

// client returns the agent's client for the bank: the one without a client
// certificate, or with id, the one that presents id as its TLS client
// certificate. Both trust only the bank's CA and keep their connections alive
// for the next call.
func (a *Agent) client(ctx context.Context, id *certstore.Identity) (*resty.Client, error) {
	ca, err := a.bankCA(ctx)
	if err != nil {
		return nil, err
	}
	if id == nil {
		return a.anonClient(ca), nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.byCert[id.Fingerprint]; ok {
		return c, nil
	}
	c := a.newClient(tlsConfig(ca, id))
	if a.byCert == nil {
		a.byCert = map[certstore.Fingerprint]*resty.Client{}
	}
	a.byCert[id.Fingerprint] = c
	return c, nil
}

// anonClient returns the client without a client certificate, trusting ca.
func (a *Agent) anonClient(ca *x509.Certificate) *resty.Client {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.anon == nil {
		a.anon = a.newClient(tlsConfig(ca, nil))
	}
	return a.anon
}

// dropClient closes the idle connections of fp's client and forgets it: the
// certificate is gone from this PC.
func (a *Agent) dropClient(fp certstore.Fingerprint) {
	a.mu.Lock()
	c := a.byCert[fp]
	delete(a.byCert, fp)
	a.mu.Unlock()
	if c != nil {
		c.GetClient().CloseIdleConnections()
	}
}

// fetchCA fetches /.well-known/est/cacerts and returns the certificate whose
// fingerprint the configuration names. The TLS connection is not trusted until
// then, so the server's own certificate is checked against the CA found.
func (a *Agent) fetchCA(ctx context.Context) (*x509.Certificate, error) {
	want, err := normalizeFingerprint(a.cfg.CAFingerprint)
	if err != nil || want == "" {
		return nil, &ConfigError{Field: "ca_fingerprint", Problem: "is missing or malformed", Fix: "use the configuration file your bank sent"}
	}
	// The answer is authenticated by the fingerprint below, not by TLS. This
	// client is used once: the CA found is kept.
	c := a.newClient(&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
	defer c.GetClient().CloseIdleConnections()
	resp, err := c.R().SetContext(ctx).Get(pathCACerts)
	if err != nil {
		return nil, fmt.Errorf("fetch the bank's CA: %w", err)
	}
	if resp.IsError() {
		return nil, fmt.Errorf("fetch the bank's CA: %w", refusal(resp))
	}
	certs, err := parseCertsOnly(resp.Body())
	if err != nil {
		return nil, fmt.Errorf("fetch the bank's CA: %w", err)
	}
	var ca *x509.Certificate
	for _, c := range certs {
		if certstore.FingerprintOf(c) == want {
			ca = c
		}
	}
	if ca == nil {
		return nil, fmt.Errorf("fetch the bank's CA from %s: %w", a.cfg.ServerURL, ErrCAMismatch)
	}
	state := resp.RawResponse.TLS
	if state == nil || len(state.PeerCertificates) == 0 {
		return nil, fmt.Errorf("fetch the bank's CA: the server did not use TLS")
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	inter := x509.NewCertPool()
	for _, c := range state.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	host := resp.RawResponse.Request.URL.Hostname()
	if _, err := state.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, DNSName: host}); err != nil {
		return nil, fmt.Errorf("fetch the bank's CA: the server's certificate is not from the configured CA: %w", err)
	}
	return ca, nil
}

// parseCertsOnly decodes an EST answer: base64 of a PKCS#7 certs-only SignedData.
// csrAttrs asks the bank which key to make (RFC 7030 §4.5). With a login ID the
// password goes along (HTTP Basic) and the answer names that ID's role too, as
// a pickup needs before it makes the key.
func csrAttrs(ctx context.Context, c *resty.Client, loginID, password string) (wire.CSRAttrs, error) {
	r := c.R().SetContext(ctx).SetHeader("Accept", "application/csrattrs")
	if loginID != "" {
		r.SetBasicAuth(loginID, password)
	}
	resp, err := r.Get(pathCSRAttrs)
	if err != nil {
		return wire.CSRAttrs{}, fmt.Errorf("ask the bank which key to make: %w", err)
	}
	if resp.IsError() {
		return wire.CSRAttrs{}, fmt.Errorf("ask the bank which key to make: %w", refusal(resp))
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(resp.Body())), ""))
	if err != nil {
		return wire.CSRAttrs{}, fmt.Errorf("ask the bank which key to make: the answer is not base64: %w", err)
	}
	attrs, err := wire.ParseCSRAttrs(der)
	if err != nil {
		return wire.CSRAttrs{}, fmt.Errorf("ask the bank which key to make: %w: %w", ErrNotFromBank, err)
	}
	return attrs, nil
}

// keyOptions is the key the bank asks for, exportable when its policy lets
// role back up.
func keyOptions(attrs wire.CSRAttrs, role wire.Role) certstore.KeyOptions {
	return certstore.KeyOptions{Algorithm: certstore.Algorithm(attrs.KeyType), Exportable: attrs.MayBackUp(role)}
}

func parseCertsOnly(body []byte) ([]*x509.Certificate, error) {
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(body)), ""))
	if err != nil {
		return nil, fmt.Errorf("the answer is not base64: %w", err)
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil, fmt.Errorf("the answer is not PKCS#7: %w", err)
	}
	if len(p7.Certificates) == 0 {
		return nil, errors.New("the answer holds no certificate")
	}
	return p7.Certificates, nil
}

// refusal turns a non-2xx answer into an *Error: the code from the EST header or
// the JSON body, or from the status when neither carries one.
func refusal(resp *resty.Response) error {
	e := &Error{Status: resp.StatusCode(), Code: wire.Code(resp.Header().Get(wire.CodeHeader))}
	var body wire.Error
	if err := json.Unmarshal(resp.Body(), &body); err == nil && body.Code != "" {
		if e.Code == "" {
			e.Code = body.Code
		}
		e.Message = body.Message
	} else {
		e.Message = strings.TrimSpace(string(resp.Body()))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200]
		}
	}
	if e.Code == "" {
		e.Code = codeForStatus(e.Status)
	}
	return e
}

// doJSON sends in (if not nil) as JSON and decodes a 2xx answer into out (if not
// nil); any other answer becomes an *Error.
func doJSON(ctx context.Context, c *resty.Client, token, method, path string, in, out any) error {
	r := c.R().SetContext(ctx).SetHeader("Accept", "application/json")
	if token != "" {
		r.SetAuthToken(token)
	}
	if in != nil {
		body, err := json.Marshal(in)
		if err != nil {
			return err
		}
		r.SetHeader("Content-Type", "application/json").SetBody(body)
	}
	resp, err := r.Execute(method, path)
	if err != nil {
		return err
	}
	if resp.IsError() {
		return refusal(resp)
	}
	if out != nil {
		if err := json.Unmarshal(resp.Body(), out); err != nil {
			return fmt.Errorf("the server's answer to %s %s does not parse: %w", method, path, err)
		}
	}
	return nil
}

// enroll posts a CSR to an EST enrollment path and returns the issued chain. A
// network error is retried with the same CSR, even after the request was
// written (see retryableEnrollment).
func enroll(ctx context.Context, c *resty.Client, path string, csrDER []byte, loginID, password string) ([]*x509.Certificate, error) {
	r := c.R().SetContext(ctx).
		AddRetryCondition(retryableEnrollment).
		SetHeader("Content-Type", "application/pkcs10").
		SetHeader("Content-Transfer-Encoding", "base64").
		SetHeader("Accept", "application/pkcs7-mime").
		SetBody(base64.StdEncoding.EncodeToString(csrDER))
	if loginID != "" {
		r.SetBasicAuth(loginID, password)
	}
	resp, err := r.Post(path)
	if err != nil {
		return nil, err
	}
	if resp.IsError() {
		return nil, refusal(resp)
	}
	return parseCertsOnly(resp.Body())
}
