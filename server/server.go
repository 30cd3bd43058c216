// Package server is the Inkan server the bank runs: it issues the client
// certificates its customers' staff log in with, and verifies them.
//
// It serves, over HTTPS only:
//
//   - EST (RFC 7030) under /.well-known/est/ for pickup (simpleenroll, HTTP Basic
//     with login ID and password) and renewal (simplereenroll, TLS client
//     certificate), so any EST client can pick up a certificate;
//   - the JSON API under /api/v1/ for login and the contract admin's calls;
//   - a CRL at /crl and OCSP at /ocsp for relying parties;
//   - the bank's browser login (電子証明書ログイン) under /web/, package web.
//
// The rules themselves are in package lifecycle, the records in package store,
// the keys and signing in package ca, the expiry e-mail in package mail. This
// package wires them to HTTP and to the data directory, and maps every refusal
// to its HTTP status in one place (errors.go).
//
// # Data directory
//
// [Init] fills a directory with the CA (package ca's files), config.json and
// inkan.db. [Open] loads it; the operator CLI and a running server may open the
// same directory at the same time.
//
// # Client certificates
//
// TLS asks for a client certificate but does not verify it (tls.RequestClientCert):
// the handlers check it against the issuing CA themselves, because an expired
// certificate must still renew and a foreign one must get a coded 4xx answer, not
// a failed handshake. The CertificateRequest names the issuing CA
// (certificate_authorities), so a browser offers only this bank's certificates.
package server

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/netutil"

	"github.com/inkan-dev/inkan/server/ca"
	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/server/mail"
	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/server/store/postgres"
	"github.com/inkan-dev/inkan/server/store/sqlite"
	"github.com/inkan-dev/inkan/server/web"
	"github.com/inkan-dev/inkan/wire"
)

// InitConfig is what `inkan-server init` is given. The zero value of each
// optional field means the default.
type InitConfig struct {
	BankCode, BankName string
	// Hosts are extra DNS names or IP addresses for the server's TLS certificate.
	Hosts []string
	// PublicURL is how PCs reach the server; default https://127.0.0.1:8443.
	PublicURL string
	// RevocationURL is the http:// base URL relying parties fetch CRLs, OCSP and
	// CA certificates from, written into every certificate. Required unless Demo;
	// a loopback address is refused unless Demo.
	RevocationURL string
	// HTTPAddr is where serve's plain-HTTP revocation listener listens; default
	// the host and port of RevocationURL (all interfaces for a public host).
	HTTPAddr string
	// PolicyOID is the bank's certificate policy OID; required unless Demo (a demo
	// gets one under the example arc 2.999).
	PolicyOID string
	// Demo allows a loopback RevocationURL and the defaults a demo needs.
	Demo bool
	// Passphrase encrypts the issuing and root CA keys; empty writes them in
	// clear (the CLI always gives one; serve refuses a clear root key in DATA).
	Passphrase []byte
	// IssuingSigner is the issuing CA key made in an HSM, and CAKey its pkcs11: URI
	// for the config; nil makes a key file.
	IssuingSigner crypto.Signer
	CAKey         string
	// KeyAlgorithm of the CA and TLS keys; default ECDSA P-256.
	KeyAlgorithm ca.KeyAlgorithm
	// Argon2 overrides the password-hashing parameters (tests use cheap ones).
	Argon2 *lifecycle.Argon2Params
	// Now is the clock the CA certificates start from; nil means time.Now.
	Now func() time.Time
	// Database is written to the config file; empty means SQLite in the data directory.
	Database DatabaseConfig
	// LoginIDPattern is policy.login_id_pattern: the form of every login ID
	// the bank issues; empty allows any.
	LoginIDPattern string
}

// DemoHTTPAddr is the plain-HTTP listener of a demo that names none.
const DemoHTTPAddr = "127.0.0.1:8080"

// revocationSettings fills in and checks the revocation URL, listener and
// policy of cfg, as Init writes them into the config.
func revocationSettings(cfg *InitConfig) error {
	if err := revocationURLSettings(cfg); err != nil {
		return err
	}
	return policySetting(cfg)
}

// revocationURLSettings fills in and checks the revocation URL and listener of cfg.
func revocationURLSettings(cfg *InitConfig) error {
	if cfg.RevocationURL == "" {
		if !cfg.Demo {
			return errors.New("--revocation-url is required: the http:// address (e.g. http://pki.bank.example.jp) where relying parties fetch the CRL, OCSP and CA certificates; it is written into every certificate (証明書に書き込まれる失効確認の公開URLを指定してください)")
		}
		if cfg.HTTPAddr == "" {
			cfg.HTTPAddr = DemoHTTPAddr
		}
		cfg.RevocationURL = "http://" + cfg.HTTPAddr
	}
	cfg.RevocationURL = strings.TrimRight(cfg.RevocationURL, "/")
	if err := ca.CheckBaseURL(cfg.RevocationURL); err != nil {
		return fmt.Errorf("--revocation-url: %w", err)
	}
	if ca.IsLoopback(cfg.RevocationURL) && !cfg.Demo {
		return fmt.Errorf("--revocation-url %s: refusing to write a loopback address into certificates, since no relying party could reach it; give the public address, or --demo for a demo on this machine (ループバックアドレスは証明書に書き込めません)", cfg.RevocationURL)
	}
	if cfg.HTTPAddr == "" {
		u, _ := url.Parse(cfg.RevocationURL)
		port := u.Port()
		if port == "" {
			port = "80"
		}
		host := ""
		if ca.IsLoopback(cfg.RevocationURL) {
			host = u.Hostname()
		}
		cfg.HTTPAddr = net.JoinHostPort(host, port)
	}
	return nil
}

// policySetting fills in and checks the certificate policy OID of cfg.
func policySetting(cfg *InitConfig) error {
	if cfg.PolicyOID == "" {
		if !cfg.Demo {
			return errors.New("--policy-oid is required: the OID of the bank's certificate policy (CP/CPS), written into every certificate (証明書ポリシーのOIDを指定してください)")
		}
		cfg.PolicyOID = "2.999." + strings.TrimLeft(cfg.BankCode, "0") + ".1"
	}
	if _, err := ca.ParsePolicyOID(cfg.PolicyOID); err != nil {
		return fmt.Errorf("--policy-oid: %w", err)
	}
	return nil
}

// Init creates a new data directory: CA, TLS certificate, database and config.
// It refuses a directory that already holds a CA.
func Init(dir string, cfg InitConfig) error {
	if ca.Exists(dir) {
		return fmt.Errorf("init %s: the directory already holds a CA; refusing to overwrite it", dir)
	}
	if err := revocationSettings(&cfg); err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	c := defaultConfig(cfg.BankCode, cfg.BankName)
	c.Database = cfg.Database
	if cfg.PublicURL != "" {
		c.PublicURL = cfg.PublicURL
	}
	c.RevocationURL, c.HTTPAddr, c.CertificatePolicyOID, c.CAKey = cfg.RevocationURL, cfg.HTTPAddr, cfg.PolicyOID, cfg.CAKey
	if cfg.Argon2 != nil {
		c.Policy.Argon2 = *cfg.Argon2
	}
	c.Policy.LoginIDPattern = cfg.LoginIDPattern
	if err := c.Validate(); err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	if err := restrictDir(dir); err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	err := ca.Create(dir, ca.CreateOptions{
		BankCode: cfg.BankCode, BankName: cfg.BankName, Hosts: cfg.Hosts, Algorithm: cfg.KeyAlgorithm,
		BaseURL: cfg.RevocationURL, PolicyOID: cfg.PolicyOID, Passphrase: cfg.Passphrase, IssuingSigner: cfg.IssuingSigner, Now: now(),
	})
	if err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	if err := writeConfig(filepath.Join(dir, ConfigFile), c); err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	db, err := openStore(dir, c.Database)
	if err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	return db.Close()
}

// CheckRootKeyAway refuses a data directory that holds the root CA key in
// clear: serve must not run while a copy of the disk would give away the root.
func CheckRootKeyAway(dir string) error {
	for _, path := range []string{ca.RootKeyPath(dir), filepath.Join(dir, ca.RootKeyFile)} {
		enc, err := ca.KeyIsEncrypted(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if !enc {
			return fmt.Errorf("the root CA key %s lies unencrypted inside the data directory: move it to offline storage (an encrypted USB key in the bank's safe), or encrypt it with `inkan-server ca encrypt-key --key %s`, then start serve again; for a data directory of an older version, inkan-server upgrade --data DIR does this and the rest (ルートCA鍵が暗号化されずにデータディレクトリにあります)", path, path)
		}
	}
	return nil
}

// restrictDir makes the data directory the owner's alone (0700): it holds the
// issuing CA's key and the database, whatever mode it was created with.
func restrictDir(dir string) error {
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("restrict the data directory to its owner: %w", err)
	}
	return nil
}

// openStore opens the database d names: PostgreSQL for a URL, else SQLite
// in the data directory.
func openStore(dir string, d DatabaseConfig) (store.Store, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if d.URL != "" {
		return postgres.Open(context.Background(), d.URL, postgres.Options{PasswordFile: d.PasswordFile})
	}
	return sqlite.Open(context.Background(), filepath.Join(dir, DatabaseFile))
}

// OpenStore opens the database of the data directory dir, as its config
// file names it, for tools that work on the records alone.
func OpenStore(dir string) (store.Store, error) {
	cfg, err := LoadConfig(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, err
	}
	return openStore(dir, cfg.Database)
}

// Options are the run-time choices of [Open].
type Options struct {
	// Database, when its URL is set, replaces the config file's database
	// (serve --db postgres://...).
	Database DatabaseConfig
	Now      func() time.Time // nil means time.Now
	Logger   *slog.Logger     // nil discards
	// PasswordLimiter replaces the per-IP limit of wrong passwords that the
	// config's limits section describes; nil means that one.
	PasswordLimiter PasswordLimiter
	// PublicURL, when set, replaces the config's public_url for this run (serve
	// --public-url), e.g. when the demo serves on another port.
	PublicURL string
	// Passphrase decrypts encrypted CA keys when they first sign; nil when none
	// is at hand (the operator's commands that never sign).
	Passphrase ca.Passphrase
	// IssuingSigner is the issuing CA key in an HSM when the config's ca_key
	// names one (see OpenSigner); nil reads issuing-ca.key.
	IssuingSigner crypto.Signer
	// RetiredSigner opens the HSM key of a retired issuing CA by its pkcs11:
	// URI (see ca.LoadOptions); nil refuses retired issuers kept in an HSM.
	RetiredSigner func(uri string) (crypto.Signer, error)
}

// Server is an opened data directory, ready to serve.
type Server struct {
	dir     string
	cfg     Config
	db      store.Store
	ca      *ca.CA
	svc     *lifecycle.Service
	mail    *mail.Sweeper
	limiter PasswordLimiter
	// takenIDs bounds, per contract, the already_exists answers its admins
	// get: see apiCreateUser.
	takenIDs *IPLimiter
	// csrAttrs is the answer to /.well-known/est/csrattrs, built once.
	csrAttrs []byte
	log      *slog.Logger
	tlsCert  tls.Certificate
	// web is the bank's browser login under /web/.
	web *web.Handler

	// ocspCache keeps signed OCSP answers so GETs can be cached and revalidated.
	ocspCache ocspCache

	mu      sync.Mutex
	http    *http.Server
	plain   *http.Server
	sweeps  sync.WaitGroup
	stopped bool
	// stopSweep cancels the expiry e-mail sweep's context, ending any SMTP exchange.
	stopSweep context.CancelFunc
	// firstSweep is closed when serve's first expiry e-mail sweep has ended,
	// so that a test can move its clock without racing that sweep.
	firstSweep chan struct{}
}

// Open loads and validates the configuration in dir, opens the database and
// brings its schema up to date.
func Open(dir string, opts Options) (*Server, error) {
	cfg, err := LoadConfig(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, err
	}
	if opts.PublicURL != "" {
		cfg.PublicURL = opts.PublicURL
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("--public-url: %w", err)
		}
	}
	if err := restrictDir(dir); err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	baseURL := cfg.RevocationURL
	if baseURL == "" {
		baseURL = cfg.PublicURL
		logger.Warn("config.json has no revocation_url: certificates point at public_url over HTTPS for CRL and OCSP, which relying parties such as openssl cannot fetch; inkan-server upgrade --data DIR says what to do (see docs/server.md, Upgrading a data directory)", "config", filepath.Join(dir, ConfigFile))
	}
	clock := time.Now
	if opts.Now != nil {
		clock = opts.Now
	}
	if cfg.CAKey != "" && opts.IssuingSigner == nil {
		return nil, fmt.Errorf("load CA from %s: config.json says the issuing key is in an HSM (%s), and no PKCS#11 session was opened for it", dir, cfg.CAKey)
	}
	authority, err := ca.Load(dir, ca.LoadOptions{BaseURL: baseURL, PolicyOID: cfg.CertificatePolicyOID, Passphrase: opts.Passphrase, IssuingSigner: opts.IssuingSigner, RetiredSigner: opts.RetiredSigner, Now: clock()})
	if err != nil {
		return nil, fmt.Errorf("load CA from %s: %w", dir, err)
	}
	tlsCert, err := ca.LoadTLS(dir)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate from %s: %w", dir, err)
	}
	if opts.Database.URL != "" {
		cfg.Database = opts.Database
	}
	db, err := openStore(dir, cfg.Database)
	if err != nil {
		return nil, err
	}
	if cfg.Database.URL != "" {
		desc, ok := postgres.Security(cfg.Database.URL)
		logger.Info("database", "url", postgres.Redact(cfg.Database.URL), "connection", desc)
		if !ok {
			logger.Warn("データベースへの接続が保護されていません / the connection to the database crosses the network without a verified certificate, so whoever is in between could read or change the records: add sslmode=verify-full&sslrootcert=FILE to the URL", "connection", desc)
		}
	}
	svc, err := lifecycle.New(db, authority, cfg.lifecyclePolicy(), opts.Now)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("config %s: policy.%w", filepath.Join(dir, ConfigFile), err)
	}
	attrs, err := csrAttrs(svc.CSRAttrs())
	if err != nil {
		db.Close()
		return nil, err
	}
	svc.LimitPasswordChecks(cfg.Limits.passwordChecks(), time.Duration(cfg.Limits.PasswordCheckWaitMS)*time.Millisecond)
	limiter := opts.PasswordLimiter
	if limiter == nil {
		limiter = NewIPLimiter(cfg.Limits.WrongPasswordsPerMinute, cfg.Limits.WrongPasswordBurst, nil)
	}
	s := &Server{firstSweep: make(chan struct{}), dir: dir, cfg: cfg, db: db, ca: authority, svc: svc, limiter: limiter, takenIDs: newTakenIDLimiter(svc.Now),
		csrAttrs: attrs, log: logger, tlsCert: tlsCert}
	s.web = web.New(svc, web.Options{BankName: cfg.BankName, BankCode: cfg.BankCode, Now: svc.Now, Logger: logger,
		LimitLogin: s.limitPasswords})
	s.mail = &mail.Sweeper{
		Store: db, Now: svc.Now, NoticeDays: cfg.Policy.NoticeDays, BankName: cfg.BankName,
		SMTP: mail.SMTP{Addr: net.JoinHostPort(cfg.SMTP.Host, fmt.Sprint(cfg.SMTP.Port)), From: cfg.SMTP.From},
	}
	return s, nil
}

// Config returns the configuration the server runs with.
func (s *Server) Config() Config { return s.cfg }

// tls12AEADSuites are the TLS 1.2 cipher suites the server offers: ECDHE key
// exchange with AES-GCM or ChaCha20-Poly1305, for ECDSA and RSA certificates.
var tls12AEADSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// TLSConfig is the server side of TLS: the server certificate, and a request
// (not a requirement) for a client certificate that the handlers verify. The
// request names the issuing CA (ClientCAs fills certificate_authorities; with
// RequestClientCert nothing is verified against it), so that browsers offer
// only this bank's certificates.
//
// No session tickets: every connection is a full handshake, in which a client
// certificate is proven by a signature of its private key (CertificateVerify).
// A resumed session would carry the certificate over from the ticket without
// that signature, for as long as the ticket lives (seven days in crypto/tls),
// so whoever copied a browser's ticket and session secret would be that
// certificate's holder without its key. The agent keeps no session cache and
// never resumes, so tickets were also work for nothing on every connection.
func (s *Server) TLSConfig() *tls.Config {
	issuers := x509.NewCertPool()
	issuers.AddCert(s.ca.Issuing)
	return &tls.Config{
		Certificates: []tls.Certificate{s.tlsCert},
		ClientAuth:   tls.RequestClientCert,
		ClientCAs:    issuers,
		MinVersion:   tls.VersionTLS12,
		// TLS 1.2 with forward secrecy and AEAD only (no CBC, no SHA-1 MAC);
		// TLS 1.3 suites are not configurable and are all AEAD.
		CipherSuites:           tls12AEADSuites,
		SessionTicketsDisabled: true,
	}
}

// Serve answers HTTPS on ln until Shutdown. It returns nil after Shutdown. When
// SMTP is configured it also runs the expiry e-mail sweep.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	if s.http != nil {
		s.mu.Unlock()
		return errors.New("serve: already serving")
	}
	s.http = s.newHTTPServer()
	srv := s.http
	ctx, cancel := context.WithCancel(context.Background())
	s.stopSweep = cancel
	if s.cfg.SMTP.Host != "" {
		s.sweeps.Add(1)
		go s.sweepLoop(ctx, time.Duration(s.cfg.SMTP.SweepMinutes)*time.Minute)
	}
	s.sweeps.Add(1)
	go s.purgeLoop(ctx, SessionPurgeInterval)
	s.sweeps.Add(1)
	go s.healthLoop(ctx, HealthInterval)
	s.mu.Unlock()
	err := srv.Serve(tls.NewListener(netutil.LimitListener(ln, s.cfg.Limits.MaxConnections), s.TLSConfig()))
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// The bounds on each connection, so that slow or idle clients cannot hold the
// server's connections (limits.max_connections) or memory: the TLS handshake
// and the headers within ReadHeaderTimeout, the whole request within
// ReadTimeout, the answer within WriteTimeout (a handler still running then
// can no longer write), an idle keep-alive connection closed after IdleTimeout.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 30 * time.Second
	// maxHeaderBytes bounds the request line and headers: an EST request with
	// HTTP Basic and a bearer token needs well under 4 KiB.
	maxHeaderBytes = 16 << 10
)

// newHTTPServer is the http.Server of Serve, with the bounds above.
func (s *Server) newHTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// ServeRevocation answers plain HTTP on ln with the revocation routes only
// (CRLs, OCSP, CA certificates) until Shutdown; it returns nil after Shutdown.
func (s *Server) ServeRevocation(ln net.Listener) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	if s.plain != nil {
		s.mu.Unlock()
		return errors.New("serve revocation: already serving")
	}
	s.plain = &http.Server{
		Handler:           s.RevocationHandler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	srv := s.plain
	s.mu.Unlock()
	err := srv.Serve(netutil.LimitListener(ln, s.cfg.Limits.MaxConnections))
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (s *Server) sweepLoop(ctx context.Context, every time.Duration) {
	defer s.sweeps.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	first := true
	for {
		if _, err := s.SendExpiryNotices(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, mail.ErrBusy) {
			s.log.Error("expiry e-mail sweep", "err", err)
		}
		if first {
			close(s.firstSweep)
			first = false
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SessionPurgeInterval is how often a serving server removes expired sessions.
const SessionPurgeInterval = 10 * time.Minute

// purgeLoop removes expired sessions now and every interval until ctx ends.
func (s *Server) purgeLoop(ctx context.Context, every time.Duration) {
	defer s.sweeps.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.svc.PurgeExpiredSessions(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("purge expired sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SendExpiryNotices sends the expiry e-mails that are due now (30 and 10 days
// before expiry by default), each once per certificate, and returns how many it sent.
// While another sweep of the same database runs it returns [mail.ErrBusy].
func (s *Server) SendExpiryNotices(ctx context.Context) (int, error) {
	if s.cfg.SMTP.Host == "" {
		return 0, errors.New("send expiry notices: smtp.host is not configured")
	}
	return s.mail.Sweep(ctx)
}

// Shutdown stops serving and the expiry e-mail sweep, waits for requests in
// flight and for the sweep to end (until ctx ends), and closes the database.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	srv, plain := s.http, s.plain
	if s.stopSweep != nil {
		s.stopSweep()
	}
	s.mu.Unlock()
	var err error
	if srv != nil {
		err = srv.Shutdown(ctx)
	}
	if plain != nil {
		err = errors.Join(err, plain.Shutdown(ctx))
	}
	swept := make(chan struct{})
	go func() { s.sweeps.Wait(); close(swept) }()
	select {
	case <-swept:
	case <-ctx.Done():
		err = errors.Join(err, fmt.Errorf("wait for the expiry e-mail sweep: %w", ctx.Err()))
	}
	return errors.Join(err, s.db.Close())
}

// BankConfig is the file the bank ships to PCs, for a server reached at serverURL.
func (s *Server) BankConfig(serverURL string) (wire.BankConfig, error) {
	if serverURL == "" {
		serverURL = s.cfg.PublicURL
	}
	return wire.BankConfig{
		ServerURL:       serverURL,
		BankCode:        s.cfg.BankCode,
		BankName:        s.cfg.BankName,
		CACertPEM:       string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.ca.Root.Raw})),
		CAFingerprint:   ca.Fingerprint(s.ca.Root),
		RenewBeforeDays: s.cfg.Policy.RenewBeforeDays,
		RenewAfterDays:  s.cfg.Policy.RenewAfterDays,
		LoginIDPattern:  s.cfg.Policy.LoginIDPattern,
	}, nil
}

// Operator returns the bank's actions on this server (actor "operator:<OS user>").
func (s *Server) Operator() *Operator { return &Operator{svc: s.svc} }

// CRL returns the current issuing CA's DER CRL, as GET /crl answers it.
func (s *Server) CRL(ctx context.Context) ([]byte, error) { return s.svc.CRL(ctx, s.ca.Current()) }

// Unlock decrypts the CA keys now, with the passphrase of Options, so that a
// wrong or missing passphrase stops serve at its start and not at the first
// pickup. Without it they are decrypted when they first sign.
func (s *Server) Unlock() error {
	if err := s.ca.Unlock(); err != nil {
		return fmt.Errorf("unlock the CA keys in %s: %w", s.dir, err)
	}
	return nil
}
