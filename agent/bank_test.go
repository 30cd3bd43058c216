package agent

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/inkan-dev/inkan/wire"
)

// testCA is a throwaway bank CA for unit tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * day),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key}
}

func (ca *testCA) pem() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}))
}

// issue signs a certificate for pub; a client certificate when subj is not nil,
// a server certificate for 127.0.0.1 otherwise.
func (ca *testCA) issue(t testing.TB, pub any, subj *wire.Subject, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature}
	if subj != nil {
		tmpl.Subject = subj.Name()
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	} else {
		tmpl.Subject = pkix.Name{CommonName: "127.0.0.1"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// serve starts an HTTPS server with a certificate from ca that asks for (but does
// not require) client certificates.
func (ca *testCA) serve(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	return ca.serveCounting(t, h, nil)
}

// serveCounting is serve, with connState told of every change of a connection's state.
func (ca *testCA) serveCounting(t testing.TB, h http.Handler, connState func(net.Conn, http.ConnState)) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are what some tests want
	srv.Config.ConnState = connState
	srv.TLS = ca.serverTLS(t)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// serverTLS is a TLS server configuration with a certificate from ca for 127.0.0.1.
func (ca *testCA) serverTLS(t testing.TB) *tls.Config {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert := ca.issue(t, key.Public(), nil, time.Now().Add(-time.Hour), time.Now().Add(day))
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}},
		ClientAuth:   tls.RequestClientCert,
	}
}

// testConfig is a valid configuration for a server URL, trusting ca.
func testConfig(url string, ca *testCA) Config {
	return Config{BankConfig: wire.BankConfig{ServerURL: url, BankCode: "1376", BankName: "テスト信用金庫", CACertPEM: ca.pem()}}
}

// fakeBank is just enough of the bank's server for unit tests: EST enrollment with
// one password, certificate login, and refusals on demand. The real server's rules
// are tested end to end in package e2e.
type fakeBank struct {
	t        testing.TB
	ca       *testCA
	srv      *httptest.Server
	now      func() time.Time
	refuse   wire.Code // when set, every call is refused with it
	revoked  map[string]bool
	requests int
	// lose is how many enrollment answers to lose: the certificate is issued,
	// then the connection closes without an answer.
	lose int
	// busy is how many enrollments to answer 503 with retryAfter as Retry-After.
	busy       int
	retryAfter string
	csrs       []string // the body of every enrollment request, in order
	// stall, while set, holds every /cacerts request until it is closed; each
	// stalled request is announced on stalled first.
	stall   atomic.Pointer[chan struct{}]
	stalled chan struct{}
	// accepted counts the connections the server accepted, open those not yet closed.
	accepted, open atomic.Int32
	// policy, when set, is the answer to GET /api/v1/policy; unset, the route is
	// unknown, as on a server that predates it.
	policy *wire.Policy
	// keyType and backupRoles are what csrattrs answers; nil backupRoles means
	// every role (the fake issues general IDs, whose backups most tests make).
	keyType     wire.KeyType
	backupRoles []wire.Role
}

func newFakeBank(t testing.TB, now func() time.Time) *fakeBank {
	return newFakeBankNamed(t, now, "fake bank CA")
}

// newFakeBankNamed is a fake bank whose CA has this name.
func newFakeBankNamed(t testing.TB, now func() time.Time, caName string) *fakeBank {
	b := &fakeBank{t: t, ca: newTestCA(t, caName), now: now, revoked: map[string]bool{}, stalled: make(chan struct{}, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/est/cacerts", b.cacerts)
	mux.HandleFunc("GET /.well-known/est/csrattrs", b.csrattrs)
	mux.HandleFunc("POST /.well-known/est/simpleenroll", b.enroll)
	mux.HandleFunc("POST /.well-known/est/simplereenroll", b.enroll)
	mux.HandleFunc("POST /api/v1/login", b.login)
	mux.HandleFunc("GET /api/v1/policy", func(w http.ResponseWriter, r *http.Request) {
		if b.policy == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(b.policy)
	})
	b.srv = b.ca.serveCounting(t, mux, func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			b.accepted.Add(1)
			b.open.Add(1)
		case http.StateClosed, http.StateHijacked:
			b.open.Add(-1)
		}
	})
	return b
}

func (b *fakeBank) config() Config { return testConfig(b.srv.URL, b.ca) }

func (b *fakeBank) estRefuse(w http.ResponseWriter, code wire.Code) {
	w.Header().Set(wire.CodeHeader, string(code))
	http.Error(w, string(code), code.Status())
}

func (b *fakeBank) cacerts(w http.ResponseWriter, r *http.Request) {
	if stall := b.stall.Load(); stall != nil {
		b.stalled <- struct{}{}
		select {
		case <-*stall:
		case <-r.Context().Done():
			return
		}
	}
	p7, err := pkcs7.DegenerateCertificate(b.ca.cert.Raw)
	if err != nil {
		b.t.Error(err)
	}
	io.WriteString(w, base64.StdEncoding.EncodeToString(p7))
}

func (b *fakeBank) csrattrs(w http.ResponseWriter, r *http.Request) {
	attrs := wire.CSRAttrs{KeyType: b.keyType, BackupRoles: b.backupRoles}
	if attrs.KeyType == "" {
		attrs.KeyType = wire.KeyECDSAP256
	}
	if attrs.BackupRoles == nil {
		attrs.BackupRoles = []wire.Role{wire.RoleAdmin, wire.RoleApprover, wire.RoleGeneral}
	}
	if _, password, ok := r.BasicAuth(); ok {
		if password != "pw" {
			b.estRefuse(w, wire.CodeInvalidCredentials)
			return
		}
		attrs.Role = wire.RoleGeneral
	}
	der, err := wire.MarshalCSRAttrs(attrs)
	if err != nil {
		b.t.Error(err)
	}
	w.Header().Set("Content-Type", "application/csrattrs")
	io.WriteString(w, base64.StdEncoding.EncodeToString(der))
}

func (b *fakeBank) enroll(w http.ResponseWriter, r *http.Request) {
	b.requests++
	if b.busy > 0 {
		b.busy--
		w.Header().Set("Retry-After", b.retryAfter)
		b.estRefuse(w, wire.CodeUnavailable)
		return
	}
	if b.refuse != "" {
		if b.retryAfter != "" {
			w.Header().Set("Retry-After", b.retryAfter)
		}
		b.estRefuse(w, b.refuse)
		return
	}
	loginID, password, ok := r.BasicAuth()
	if r.URL.Path == pathSimpleReenroll {
		if len(r.TLS.PeerCertificates) == 0 {
			b.estRefuse(w, wire.CodeClientCertRequired)
			return
		}
		subj, err := wire.SubjectOf(r.TLS.PeerCertificates[0])
		loginID, password, ok = subj.LoginID, "pw", err == nil
	}
	if !ok || password != "pw" {
		b.estRefuse(w, wire.CodeInvalidCredentials)
		return
	}
	body, _ := io.ReadAll(r.Body)
	b.csrs = append(b.csrs, string(body))
	der, err := base64.StdEncoding.DecodeString(string(body))
	if err != nil {
		b.estRefuse(w, wire.CodeBadRequest)
		return
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil || csr.CheckSignature() != nil {
		b.estRefuse(w, wire.CodeBadCSR)
		return
	}
	now := b.now()
	subj := wire.Subject{LoginID: loginID, Role: wire.RoleGeneral, ContractID: "C1", ContractName: "株式会社テスト", BankCode: "1376"}
	cert := b.ca.issue(b.t, csr.PublicKey, &subj, now, now.Add(365*day))
	p7, err := pkcs7.DegenerateCertificate(append(cert.Raw, b.ca.cert.Raw...))
	if err != nil {
		b.t.Error(err)
	}
	if b.lose > 0 {
		b.lose--
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
		return
	}
	w.Header().Set("Content-Type", "application/pkcs7-mime; smime-type=certs-only")
	io.WriteString(w, base64.StdEncoding.EncodeToString(p7))
}

func (b *fakeBank) login(w http.ResponseWriter, r *http.Request) {
	b.requests++
	refuse := func(code wire.Code) {
		w.WriteHeader(code.Status())
		json.NewEncoder(w).Encode(wire.Error{Code: code, Message: string(code)})
	}
	var req wire.LoginRequest
	json.NewDecoder(r.Body).Decode(&req)
	switch {
	case b.refuse != "":
		refuse(b.refuse)
	case len(r.TLS.PeerCertificates) == 0:
		refuse(wire.CodeCertificateRequired)
	case b.revoked[r.TLS.PeerCertificates[0].SerialNumber.String()]:
		refuse(wire.CodeCertificateRevoked)
	case req.Password != "pw":
		refuse(wire.CodeInvalidCredentials)
	default:
		json.NewEncoder(w).Encode(wire.LoginResponse{Token: "t", User: wire.User{LoginID: loginIDOf(r.TLS.PeerCertificates[0])}})
	}
}

// loginIDOf is the login ID a certificate of the fake bank was issued to.
func loginIDOf(cert *x509.Certificate) string {
	subj, _ := wire.SubjectOf(cert)
	return subj.LoginID
}
