package agent

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
)

// passwordLoginAgainst runs one ID・パスワード方式 login against h and counts the
// requests h saw.
func passwordLoginAgainst(t *testing.T, h http.HandlerFunc) (int32, error) {
	t.Helper()
	ca := newTestCA(t, "bank CA")
	var n atomic.Int32
	srv := ca.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	a, err := New(testConfig(srv.URL, ca), memoryStore(t), Options{StateDir: t.TempDir(), RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.PasswordLogin(t.Context(), "alice", "pw")
	return n.Load(), err
}

func answerJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func TestRequestsAreRetriedAfter503(t *testing.T) {
	var calls atomic.Int32
	n, err := passwordLoginAgainst(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			answerJSON(w, 503, wire.Error{Code: wire.CodeUnavailable})
			return
		}
		answerJSON(w, 200, wire.LoginResponse{Token: "t"})
	})
	if err != nil || n != 3 {
		t.Fatalf("after two 503s: err %v after %d requests, want success after 3", err, n)
	}
}

func TestRequestsAreNotRetriedAfter4xx(t *testing.T) {
	n, err := passwordLoginAgainst(t, func(w http.ResponseWriter, r *http.Request) {
		answerJSON(w, 403, wire.Error{Code: wire.CodeCertificateRequired, Message: "certificate mode"})
	})
	if Code(err) != wire.CodeCertificateRequired || n != 1 {
		t.Fatalf("403: code %q after %d requests, want certificate_required after 1", Code(err), n)
	}
	if Classify(err) != CategoryRefused || !strings.Contains(Message(err, "ja"), "電子証明書方式") {
		t.Errorf("Classify %d, Message %q", Classify(err), Message(err, "ja"))
	}
}

func TestGetIsRetriedAfterADroppedConnection(t *testing.T) {
	ca := newTestCA(t, "bank CA")
	var calls atomic.Int32
	srv := ca.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close() // the connection drops mid-request
			return
		}
		p7, _ := pkcs7.DegenerateCertificate(ca.cert.Raw)
		io.WriteString(w, base64.StdEncoding.EncodeToString(p7))
	}))
	a, err := New(testConfig(srv.URL, ca), memoryStore(t), Options{StateDir: t.TempDir(), RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.intermediates(t.Context()); err != nil || calls.Load() != 2 {
		t.Fatalf("GET cacerts after a dropped connection: %v after %d requests", err, calls.Load())
	}
}

func TestPostIsNotRetriedWhenTheAnswerWasLost(t *testing.T) {
	n, err := passwordLoginAgainst(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close() // the server got the request; its answer is lost
	})
	if err == nil || n != 1 || Classify(err) != CategoryNetwork {
		t.Fatalf("POST with a lost answer: %v after %d requests, want a network error after 1", err, n)
	}
}

func TestPostIsRetriedWhenTheServerWasNotListening(t *testing.T) {
	ca := newTestCA(t, "bank CA")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	a, err := New(testConfig("https://"+addr, ca), memoryStore(t), Options{StateDir: t.TempDir(), RetryWait: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// The server comes up while the agent backs off.
	started := make(chan *httptest.Server, 1)
	go func() {
		time.Sleep(10 * time.Millisecond)
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			answerJSON(w, 200, wire.LoginResponse{Token: "t"})
		}))
		srv.Listener, _ = net.Listen("tcp", addr)
		srv.TLS = ca.serverTLS(t)
		srv.StartTLS()
		started <- srv
	}()
	_, err = a.PasswordLogin(t.Context(), "alice", "pw")
	(<-started).Close()
	if err != nil {
		t.Fatalf("POST while the server was starting: %v", err)
	}
}

func TestRetriesGiveUpWithAMessageToTryLater(t *testing.T) {
	n, err := passwordLoginAgainst(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(503) // a proxy's 503, with no code
	})
	if n != Retries+1 || Code(err) != wire.CodeUnavailable {
		t.Fatalf("code %q after %d requests, want unavailable after %d", Code(err), n, Retries+1)
	}
	if !strings.Contains(Message(err, "en"), "try again") {
		t.Errorf("Message = %q", Message(err, "en"))
	}
}

func TestAgentTrustsOnlyTheConfiguredCA(t *testing.T) {
	bank, impostor := newTestCA(t, "bank CA"), newTestCA(t, "impostor CA")
	var n atomic.Int32
	srv := impostor.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }))
	a, err := New(testConfig(srv.URL, bank), memoryStore(t), Options{StateDir: t.TempDir(), RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.PasswordLogin(t.Context(), "alice", "pw")
	if err == nil || Classify(err) != CategoryNetwork || n.Load() != 0 {
		t.Fatalf("impostor server: err %v (category %d), %d requests reached it", err, Classify(err), n.Load())
	}
	if !strings.Contains(Message(err, "ja"), "銀行のサーバーであることを確認できません") {
		t.Errorf("Message = %q", Message(err, "ja"))
	}
}

// cacertsServer serves /.well-known/est/cacerts with ca and answers logins.
func cacertsServer(t *testing.T, ca *testCA) string {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/est/cacerts", func(w http.ResponseWriter, r *http.Request) {
		p7, _ := pkcs7.DegenerateCertificate(ca.cert.Raw)
		io.WriteString(w, base64.StdEncoding.EncodeToString(p7))
	})
	mux.HandleFunc("POST /api/v1/login", func(w http.ResponseWriter, r *http.Request) {
		answerJSON(w, 200, wire.LoginResponse{Token: "t"})
	})
	return ca.serve(t, mux).URL
}

func TestCAIsFetchedAndAcceptedOnlyIfItsFingerprintMatches(t *testing.T) {
	ca := newTestCA(t, "bank CA")
	url := cacertsServer(t, ca)
	for _, tc := range []struct {
		fingerprint string
		ok          bool
	}{
		{string(certstore.FingerprintOf(ca.cert)), true},
		{strings.Repeat("0", 64), false},
	} {
		cfg := testConfig(url, ca)
		cfg.CACertPEM, cfg.CAFingerprint = "", tc.fingerprint
		a, err := New(cfg, memoryStore(t), Options{StateDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.PasswordLogin(t.Context(), "alice", "pw")
		if tc.ok && err != nil {
			t.Errorf("matching fingerprint: %v", err)
		}
		if !tc.ok && (err == nil || !strings.Contains(Message(err, "en"), "Could not confirm")) {
			t.Errorf("wrong fingerprint: %v", err)
		}
	}
}

func TestEveryServerCodeHasAMessageInJapaneseAndEnglish(t *testing.T) {
	for _, info := range wire.Codes {
		err := &Error{Code: info.Code, Status: info.Status}
		ja, en := Message(err, "ja"), Message(err, "en")
		if _, ok := codeMessages[info.Code]; !ok || ja == en || strings.Contains(ja, "予期しない") {
			t.Errorf("code %s: ja %q, en %q", info.Code, ja, en)
		}
	}
}

func TestRepeatedCallsReuseTheAgentsConnectionsUntilClose(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	a := newTestAgent(t, b, memoryStore(t), c)
	var alice *Identity
	for range 5 {
		id, err := a.Pickup(t.Context(), "alice", "pw", nil)
		if err != nil {
			t.Fatal(err)
		}
		alice = id
	}
	for range 3 {
		if _, err := a.PasswordLogin(t.Context(), "alice", "pw"); Code(err) != wire.CodeCertificateRequired {
			t.Fatalf("password login: %v", err)
		}
	}
	if n := b.accepted.Load(); n != 1 {
		t.Fatalf("5 pickups and 3 password logins opened %d connections, want 1", n)
	}
	for range 3 {
		if _, err := a.Login(t.Context(), alice.Fingerprint, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	if n := b.accepted.Load(); n != 2 {
		t.Fatalf("3 logins with one certificate: %d connections in all, want 2", n)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.open.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open after Close", b.open.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestUnlockUserPostsToTheUnlockRouteAndAnAdminIDIsTheBanks(t *testing.T) {
	ca := newTestCA(t, "bank CA")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/login", func(w http.ResponseWriter, r *http.Request) {
		answerJSON(w, 200, wire.LoginResponse{Token: "admin-token"})
	})
	mux.HandleFunc("POST /api/v1/users/{loginID}/unlock", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer admin-token":
			answerJSON(w, 401, wire.Error{Code: wire.CodeUnauthenticated})
		case r.PathValue("loginID") == "kanri":
			answerJSON(w, 403, wire.Error{Code: wire.CodeForbidden, Message: "an admin ID is unlocked by the bank"})
		default:
			answerJSON(w, 200, wire.User{LoginID: r.PathValue("loginID"), Role: wire.RoleGeneral})
		}
	})
	srv := ca.serve(t, mux)
	a, err := New(testConfig(srv.URL, ca), memoryStore(t), Options{StateDir: t.TempDir(), RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s, err := a.PasswordLogin(t.Context(), "kanri", "pw")
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.UnlockUser(t.Context(), s, "ippan")
	if err != nil || u.LoginID != "ippan" || u.Locked {
		t.Fatalf("UnlockUser(ippan) = %+v, %v", u, err)
	}
	_, err = a.UnlockUser(t.Context(), s, "kanri")
	if Code(err) != wire.CodeForbidden || !strings.Contains(err.Error(), "unlock kanri") {
		t.Fatalf("UnlockUser(kanri) = %v, want forbidden with context", err)
	}
	if msg := Message(err, "ja"); !strings.Contains(msg, "ロック解除は当金庫") {
		t.Errorf("Message(ja) = %q, want it to send an admin ID's unlock to the bank", msg)
	}
	if _, err := a.UnlockUser(t.Context(), nil, "ippan"); !errors.Is(err, ErrNoSession) {
		t.Errorf("UnlockUser without a session = %v", err)
	}
}
