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

	"github.com/go-resty/resty/v2"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/certstore/nssdb"
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
	// MaxRetryAfter is the longest Retry-After of a 503 the agent waits out
	// before retrying; a 503 asking for longer is not retried. Zero means
	// [DefaultMaxRetryAfter].
	MaxRetryAfter time.Duration
	// NSSDir is the browser's NSS database that the agent copies certificates
	// into (see [Agent.SyncBrowser]); empty means ~/.pki/nssdb.
	NSSDir string
}

// Default HTTP behaviour.
const (
	DefaultHTTPTimeout = 30 * time.Second
	DefaultRetryWait   = 500 * time.Millisecond
	// Retries is how many times a request is retried after a network error or a 503.
	Retries = 3
	// DefaultMaxRetryAfter bounds the wait a 503's Retry-After may ask for.
	DefaultMaxRetryAfter = 10 * time.Second
)

// Agent picks up, keeps, chooses, renews, backs up and restores one bank's
// certificates in one store, and logs in with them. It is safe for concurrent use.
type Agent struct {
	cfg   Config
	store certstore.Store
	now   func() time.Time
	state *stateFile
	http  httpOptions

	ca    fetched[*x509.Certificate]   // the bank's root CA, once known
	inter fetched[[]*x509.Certificate] // the bank's issuing CAs from /cacerts, once fetched

	// One HTTP client per purpose, each with its own pool of connections: anon
	// for calls without a client certificate, and one per certificate that has
	// authenticated a call. A pooled connection keeps the TLS identity it was
	// opened with, so they are never shared.
	mu     sync.Mutex
	anon   *resty.Client
	byCert map[certstore.Fingerprint]*resty.Client

	// Pending keys whose certificate was issued but not installed, kept for the
	// next pickup or renewal of the same slot (see NotSavedError).
	keptMu sync.Mutex
	kept   map[keptSlot]*enrollment

	// browser is the copy of the identities in the browser's store; nil when off.
	browser *browserCopy
}

// fetched is a value fetched from the bank's server once and then kept. No lock
// is held across the fetch: a caller that needs the value waits for a fetch under
// way (under its own context) rather than start another, and a caller that needs
// something else is never held up by a slow server.
type fetched[T any] struct {
	mu       sync.Mutex
	val      T
	ok       bool
	fetching chan struct{} // closed when the fetch under way ends; nil when none is
}

// set keeps v, as if fetched.
func (f *fetched[T]) set(v T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.val, f.ok = v, true
}

// get returns the kept value, or fetches it. When the fetch under way fails, a
// caller that was waiting for it tries once itself.
func (f *fetched[T]) get(ctx context.Context, fetch func(context.Context) (T, error)) (T, error) {
	for {
		f.mu.Lock()
		if f.ok {
			v := f.val
			f.mu.Unlock()
			return v, nil
		}
		if wait := f.fetching; wait != nil {
			f.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				var zero T
				return zero, ctx.Err()
			}
		}
		done := make(chan struct{})
		f.fetching = done
		f.mu.Unlock()

		v, err := fetch(ctx)
		f.mu.Lock()
		if err == nil {
			f.val, f.ok = v, true
		}
		f.fetching = nil
		f.mu.Unlock()
		close(done)
		return v, err
	}
}

// Open returns an agent for the bank in cfg, keeping certificates in the store
// cfg.Store names, or in the OS default store when it names none.
func Open(cfg Config, opts Options) (*Agent, error) {
	if cfg.Store == "" {
		cfg.Store = certstore.DefaultKind()
	}
	s, err := certstore.Open(cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("start agent: %w", err)
	}
	return New(cfg, s, opts)
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
		a.ca.set(ca)
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
	if browserCopyOn(cfg, store.Kind()) {
		nss := opts.NSSDir
		if nss == "" {
			var err error
			if nss, err = nssdb.DefaultDir(); err != nil {
				return nil, fmt.Errorf("start agent: %w", err)
			}
		}
		a.browser = &browserCopy{db: nssdb.DB{Dir: nss}}
	}
	a.http = httpOptions{timeout: opts.HTTPTimeout, retryWait: opts.RetryWait, maxRetryAfter: opts.MaxRetryAfter}
	if a.http.timeout == 0 {
		a.http.timeout = DefaultHTTPTimeout
	}
	if a.http.retryWait == 0 {
		a.http.retryWait = DefaultRetryWait
	}
	if a.http.maxRetryAfter == 0 {
		a.http.maxRetryAfter = DefaultMaxRetryAfter
	}
	return a, nil
}

// Close closes the agent's idle connections to the bank's server, forgets its
// per-certificate clients, and discards the pending keys kept after a failed
// install (see [NotSavedError]). Call it when done with the agent; a call made
// after Close opens new connections as it needs them. A [Session] still open
// keeps working. It returns nil; the error is there to be an io.Closer.
func (a *Agent) Close() error {
	a.discardKept(context.Background())
	a.mu.Lock()
	clients := []*resty.Client{}
	if a.anon != nil {
		clients = append(clients, a.anon)
	}
	for _, c := range a.byCert {
		clients = append(clients, c)
	}
	a.byCert = nil
	a.mu.Unlock()
	for _, c := range clients {
		c.GetClient().CloseIdleConnections()
	}
	return nil
}

// Config returns the configuration the agent runs with.
func (a *Agent) Config() Config { return a.cfg }

// bankCA returns the bank's root CA: from the configuration, or fetched once from
// /.well-known/est/cacerts and accepted only if it matches the configured fingerprint.
func (a *Agent) bankCA(ctx context.Context) (*x509.Certificate, error) {
	return a.ca.get(ctx, a.fetchCA)
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
	return a.inter.get(ctx, func(ctx context.Context) ([]*x509.Certificate, error) {
		return a.fetchIntermediates(ctx, ca)
	})
}

// fetchIntermediates fetches /.well-known/est/cacerts and keeps the CAs that ca issued.
func (a *Agent) fetchIntermediates(ctx context.Context, ca *x509.Certificate) ([]*x509.Certificate, error) {
	resp, err := a.anonClient(ca).R().SetContext(ctx).Get(pathCACerts)
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
	return inter, nil
}
