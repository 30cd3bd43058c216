package agent

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/inkan-dev/inkan/certstore"
)

// Options tunes an [Agent]. The zero value is ready to use.
type Options struct {
	// Now is the clock; nil means time.Now. Every date the agent computes (states,
	// warnings, last used) comes from it.
	Now func() time.Time
	// StateDir holds the agent's small state file (last used, last seen revoked);
	// empty means "inkan" under the user's configuration directory.
	StateDir string
	// HTTPTimeout bounds each HTTP attempt; zero means [DefaultHTTPTimeout].
	HTTPTimeout time.Duration
	// RetryWait is the first wait before retrying after a network error or a 503
	// (doubling up to 8 times it); zero means [DefaultRetryWait].
	RetryWait time.Duration
}

// Default HTTP behaviour.
const (
	DefaultHTTPTimeout = 30 * time.Second
	DefaultRetryWait   = 500 * time.Millisecond
	// Retries is how many times a request is retried after a network error or a 503.
	Retries = 3
)

// Agent picks up, keeps, chooses, renews, backs up and restores one bank's
// certificates in one store, and logs in with them. It is safe for concurrent use.
type Agent struct {
	cfg   Config
	store certstore.Store
	now   func() time.Time
	state *stateFile
	http  httpOptions

	mu    sync.Mutex
	ca    *x509.Certificate   // the bank's root CA, once known
	inter []*x509.Certificate // the bank's issuing CAs from /cacerts, once fetched
}

// New returns an agent for the bank in cfg, keeping certificates in store.
func New(cfg Config, store certstore.Store, opts Options) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("start agent: %w", err)
	}
	if store == nil {
		return nil, errors.New("start agent: no certificate store")
	}
	a := &Agent{cfg: cfg, store: store, now: opts.Now}
	if a.now == nil {
		a.now = time.Now
	}
	if cfg.CACertPEM != "" {
		ca, err := parseCA(cfg.CACertPEM)
		if err != nil {
			return nil, fmt.Errorf("start agent: %w", err)
		}
		a.ca = ca
	}
	dir := opts.StateDir
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return nil, fmt.Errorf("start agent: no directory for the state file (set Options.StateDir): %w", err)
		}
		dir = filepath.Join(base, "inkan")
	}
	a.state = &stateFile{path: filepath.Join(dir, "state.json")}
	a.http = httpOptions{timeout: opts.HTTPTimeout, retryWait: opts.RetryWait}
	if a.http.timeout == 0 {
		a.http.timeout = DefaultHTTPTimeout
	}
	if a.http.retryWait == 0 {
		a.http.retryWait = DefaultRetryWait
	}
	return a, nil
}

// Config returns the configuration the agent runs with.
func (a *Agent) Config() Config { return a.cfg }

// Store returns the certificate store the agent keeps certificates in.
func (a *Agent) Store() certstore.Store { return a.store }

// bankCA returns the bank's root CA: from the configuration, or fetched once from
// /.well-known/est/cacerts and accepted only if it matches the configured fingerprint.
func (a *Agent) bankCA(ctx context.Context) (*x509.Certificate, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ca != nil {
		return a.ca, nil
	}
	ca, err := a.fetchCA(ctx)
	if err != nil {
		return nil, err
	}
	a.ca = ca
	return ca, nil
}

// intermediates returns the bank's issuing CA certificates, fetched once from
// /.well-known/est/cacerts over TLS trusting the root: an EST enrollment may answer
// with the leaf alone (RFC 7030 §4.2.3), and the chain is needed to check it and to
// present it as a TLS client certificate.
func (a *Agent) intermediates(ctx context.Context) ([]*x509.Certificate, error) {
	ca, err := a.bankCA(ctx)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.inter != nil {
		return a.inter, nil
	}
	c := a.newClient(tlsConfig(ca, nil))
	defer c.GetClient().CloseIdleConnections()
	resp, err := c.R().SetContext(ctx).Get(pathCACerts)
	if err != nil {
		return nil, fmt.Errorf("fetch the bank's CA certificates: %w", err)
	}
	if resp.IsError() {
		return nil, fmt.Errorf("fetch the bank's CA certificates: %w", refusal(resp))
	}
	certs, err := parseCertsOnly(resp.Body())
	if err != nil {
		return nil, fmt.Errorf("fetch the bank's CA certificates: %w", err)
	}
	inter := []*x509.Certificate{}
	for _, c := range certs {
		if c.IsCA && !c.Equal(ca) && issuedBy(ca, c, certs) {
			inter = append(inter, c)
		}
	}
	a.inter = inter
	return inter, nil
}
