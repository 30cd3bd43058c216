package server

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/inkan-dev/inkan/server/ca"
	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/wire"
)

// The fuzz targets of the server's decoders of untrusted bytes. Each runs the
// real decoder (the HTTP handler where the decoder is part of one), and checks
// what every answer to bad input must be: a coded 4xx, never a 500 or a panic.
// Seed corpora of real inputs are under testdata/fuzz/<target>/; scripts/fuzz.sh
// runs every target.

// unlimited is a PasswordLimiter that allows everything: the fuzzer sends all
// its requests from one address, and the per-IP limit would soon answer 429 to
// every one of them and hide the handlers behind it.
type unlimited struct{}

func (unlimited) Allow(string) (bool, time.Duration) { return true, 0 }
func (unlimited) Charge(string)                      {}

// fuzzServer is a data directory opened in-process, its handler called directly
// (no TLS: the fuzzed requests present no client certificate).
type fuzzServer struct {
	srv     *Server
	handler http.Handler
	clock   *fakeClock
}

func newFuzzServer(tb testing.TB) *fuzzServer {
	tb.Helper()
	return newInProcessServer(tb, Options{PasswordLimiter: unlimited{}})
}

// newInProcessServer opens a fresh data directory with opts (its clock is
// always the fake one) and calls its handler directly.
func newInProcessServer(tb testing.TB, opts Options) *fuzzServer {
	tb.Helper()
	dir := tb.TempDir()
	clock := &fakeClock{t: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
	argon := cheapArgon2
	if err := Init(dir, InitConfig{BankCode: "1376", BankName: "Inkan Shinkin Bank", Demo: true, Argon2: &argon, Now: clock.Now}); err != nil {
		tb.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, ca.OfflineDir)); err != nil {
		tb.Fatal(err)
	}
	opts.Now = clock.Now
	srv, err := Open(dir, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return &fuzzServer{srv: srv, handler: srv.Handler(), clock: clock}
}

// serve runs req through the handler and returns the recorded answer.
func (fs *fuzzServer) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	fs.handler.ServeHTTP(rec, req)
	return rec
}

// checkRefusal fails t unless rec is a success or a coded refusal in the
// format of its endpoint: never a 5xx, and the code travels with its status.
func checkRefusal(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s: answered %d: %s", what, rec.Code, rec.Body.Bytes())
	}
	if rec.Code < 400 {
		return
	}
	code := wire.Code(rec.Header().Get(wire.CodeHeader))
	if code == "" || code.Status() != rec.Code {
		t.Fatalf("%s: answered %d with code %q (%s)", what, rec.Code, code, rec.Body.Bytes())
	}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		var we wire.Error
		if err := json.Unmarshal(rec.Body.Bytes(), &we); err != nil || we.Code != code || we.Message == "" {
			t.Fatalf("%s: error body %q is not a wire.Error with code %q", what, rec.Body.Bytes(), code)
		}
	}
}

// FuzzESTBody feeds the EST enroll body decoder (RFC 7030 §4.2.1: base64 of a
// DER PKCS#10 request, line breaks allowed) arbitrary bytes: what
// simpleenroll and simplereenroll do with a body before any rule looks at it.
// A refusal is bad_request, bad_csr or key_not_allowed; an accepted CSR has a
// valid self-signature and an allowed key, and re-encodes to the same DER.
func FuzzESTBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		der, err := decodeBase64(body)
		if err != nil || len(der) == 0 {
			return // readCSR answers bad_request
		}
		csr, err := lifecycle.ParseCSR(der)
		if err != nil {
			var re *lifecycle.RuleError
			if !errors.As(err, &re) || (re.Code != wire.CodeBadCSR && re.Code != wire.CodeKeyNotAllowed) {
				t.Fatalf("CSR refused with %v, want bad_csr or key_not_allowed", err)
			}
			return
		}
		if err := csr.CheckSignature(); err != nil {
			t.Fatalf("accepted a CSR whose signature does not verify: %v", err)
		}
		again, err := decodeBase64(base64Lines(csr.Raw))
		if err != nil || !bytes.Equal(again, csr.Raw) {
			t.Fatalf("the accepted CSR does not survive base64 in lines: %v", err)
		}
		if _, err := x509.ParseCertificateRequest(csr.Raw); err != nil {
			t.Fatalf("the accepted CSR's raw bytes do not parse again: %v", err)
		}
	})
}

// apiRoute is one /api/v1 call as the fuzzer sends it: the body is the fuzzed
// JSON, or, for the calls on one user, the fuzzed bytes are the {loginID} path segment.
type apiRoute struct {
	method, path string
	authorized   bool // sent with the admin's bearer token
	pathID       bool // the fuzzed bytes go into {loginID}
}

// fuzzRoutes are the JSON API calls: every route of Handler under /api/v1.
var fuzzRoutes = []apiRoute{
	{"POST", "/api/v1/login", false, false},
	{"POST", "/api/v1/users", true, false},
	{"POST", "/api/v1/logout", true, false},
	{"GET", "/api/v1/users", true, false},
	{"DELETE", "/api/v1/users/{loginID}", true, true},
	{"POST", "/api/v1/users/{loginID}/certificate", true, true},
	{"POST", "/api/v1/users/{loginID}/certificate/revoke", true, true},
	{"POST", "/api/v1/users/{loginID}/certificate/reissue", true, true},
	{"POST", "/api/v1/users/{loginID}/unlock", true, true},
	{"POST", "/api/v1/users/{loginID}/password", true, true},
	{"POST", "/api/v1/password", true, false},
	{"GET", "/api/v1/policy", true, false},
}

// TestFuzzRoutesCoverEveryAPIRoute keeps fuzzRoutes in step with Handler: a
// route added there without being added here would go unfuzzed.
func TestFuzzRoutesCoverEveryAPIRoute(t *testing.T) {
	src, err := os.ReadFile("handler.go")
	if err != nil {
		t.Fatal(err)
	}
	fuzzed := map[string]bool{}
	for _, rt := range fuzzRoutes {
		fuzzed[rt.method+" "+rt.path] = true
	}
	routes := regexp.MustCompile(`mux\.HandleFunc\("([A-Z]+ /api/v1/[^"]*)"`).FindAllSubmatch(src, -1)
	if len(routes) < len(fuzzRoutes) {
		t.Fatalf("found only %d API routes in handler.go", len(routes))
	}
	for _, m := range routes {
		if !fuzzed[string(m[1])] {
			t.Errorf("%s is not in fuzzRoutes", m[1])
		}
	}
}

// FuzzAPIRequests sends the JSON API arbitrary bodies (and login IDs in the
// path) through the real handler, against a real SQLite database: a contract
// whose admin is logged in with a password, and a general ID to log in as.
// Every answer must be a success or a coded 4xx with a wire.Error body.
func FuzzAPIRequests(f *testing.F) {
	fs := newFuzzServer(f)
	op := fs.srv.Operator()
	ctx := context.Background()
	cid, err := op.CreateContract(ctx, "Sato Shoji")
	if err != nil {
		f.Fatal(err)
	}
	// The admin's ID is one the fuzzer will not hit on, so that it cannot
	// lock it or end its session and leave every authorized route at 401.
	const adminID = "fuzz-admin-7Qw2xR9mK4"
	for _, u := range []struct {
		id   string
		role wire.Role
	}{{adminID, wire.RoleAdmin}, {"general1", wire.RoleGeneral}} {
		if err := op.CreateUser(ctx, cid, u.id, u.role, "", "", pw(u.id)); err != nil {
			f.Fatal(err)
		}
	}
	login, _ := json.Marshal(wire.LoginRequest{LoginID: adminID, Password: pw(adminID)})
	rec := fs.serve(jsonRequest(ctx, "POST", "/api/v1/login", login))
	var res wire.LoginResponse
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &res) != nil {
		f.Fatalf("admin login: %d %s", rec.Code, rec.Body.Bytes())
	}
	token := res.Token
	f.Fuzz(func(t *testing.T, route uint8, data []byte) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		var req *http.Request
		if rt.pathID {
			u, err := url.Parse(strings.Replace(rt.path, "{loginID}", url.PathEscape(string(data)), 1))
			if err != nil {
				return
			}
			req = httptest.NewRequestWithContext(ctx, rt.method, "/", nil)
			req.URL, req.RequestURI = u, u.RequestURI()
		} else {
			req = jsonRequest(ctx, rt.method, rt.path, data)
		}
		if rt.authorized {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if rt.path == "/api/v1/logout" {
			req.Header.Set("Authorization", "Bearer "+string(data)) // never the admin's own
		}
		rec := fs.serve(req)
		checkRefusal(t, rt.method+" "+rt.path, rec)
		if rec.Code == http.StatusUnauthorized && rt.authorized && rt.path != "/api/v1/logout" {
			t.Fatalf("%s %s: the admin's session ended: %s", rt.method, rt.path, rec.Body.Bytes())
		}
	})
}

func jsonRequest(ctx context.Context, method, path string, body []byte) *http.Request {
	req := httptest.NewRequestWithContext(ctx, method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

// FuzzOCSPRequest sends the OCSP responder arbitrary requests, as a GET path
// (RFC 6960 A.1: /ocsp/ + URL-encoded base64) or a POST body. Every answer is
// 200 with an OCSP response: a signed one, or one of the unsigned error
// responses (malformed, unauthorized).
func FuzzOCSPRequest(f *testing.F) {
	fs := newFuzzServer(f)
	// Requests about this server's own CA, so that the fuzzer starts from
	// inputs that reach the status lookup and the signature.
	for _, serial := range []int64{1, 0x7fffffff} {
		der, err := ocsp.CreateRequest(&x509.Certificate{SerialNumber: big.NewInt(serial), RawIssuer: fs.srv.ca.Issuing.RawSubject}, fs.srv.ca.Issuing, nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(false, der)
	}
	f.Fuzz(func(t *testing.T, get bool, data []byte) {
		var req *http.Request
		if get {
			u, err := url.Parse(ocspGetPrefix + string(data))
			if err != nil || u.RawQuery != "" || u.Fragment != "" {
				return
			}
			req = httptest.NewRequest("GET", "/", nil)
			req.URL, req.RequestURI = u, u.RequestURI()
		} else {
			req = httptest.NewRequest("POST", "/ocsp", bytes.NewReader(data))
			req.Header.Set("Content-Type", "application/ocsp-request")
		}
		rec := fs.serve(req)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/ocsp-response" {
			t.Fatalf("answered %d %q: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes())
		}
		body, _ := io.ReadAll(rec.Body)
		if _, err := ocsp.ParseResponse(body, fs.srv.ca.Issuing); err != nil {
			var re ocsp.ResponseError
			if !errors.As(err, &re) || (re.Status != ocsp.Malformed && re.Status != ocsp.Unauthorized) {
				t.Fatalf("the answer is neither a signed response nor a malformed/unauthorized error: %v", err)
			}
		}
	})
}
