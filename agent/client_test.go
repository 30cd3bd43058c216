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

	"github.com/go-resty/resty/v2"
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
	if !strings.Contains(Message(err, "ja"), "当金庫のサーバーであることを確認できません") {
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
		if info.Code.Message("ja") == "" || ja == en || strings.Contains(ja, "予期しない") {
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
	if msg := Message(err, "ja"); !strings.Contains(msg, "ロック解除・パスワード再設定は当金庫") {
		t.Errorf("Message(ja) = %q, want it to send an admin ID's unlock to the bank", msg)
	}
	if _, err := a.UnlockUser(t.Context(), nil, "ippan"); !errors.Is(err, ErrNoSession) {
		t.Errorf("UnlockUser without a session = %v", err)
	}
}

func TestA503IsRetriedAfterItsRetryAfter(t *testing.T) {
	var calls atomic.Int32
	start := time.Now()
	n, err := passwordLoginAgainst(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			answerJSON(w, 503, wire.Error{Code: wire.CodeUnavailable})
			return
		}
		answerJSON(w, 200, wire.LoginResponse{Token: "t"})
	})
	if err != nil || n != 2 {
		t.Fatalf("after a 503 with Retry-After: 1: err %v after %d requests, want success after 2", err, n)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Fatalf("retried after %v, before the second the server asked for", waited)
	}
}

func TestA503AskingForLongerThanTheCapIsNotRetried(t *testing.T) {
	n, err := passwordLoginAgainst(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		answerJSON(w, 503, wire.Error{Code: wire.CodeUnavailable})
	})
	if Code(err) != wire.CodeUnavailable || n != 1 {
		t.Fatalf("503 with Retry-After: 3600: code %q after %d requests, want unavailable after 1", Code(err), n)
	}
	if msg := Message(err, "ja"); !strings.Contains(msg, "しばらく待ってから") {
		t.Errorf("Message(ja) = %q", msg)
	}
	if msg := Message(err, "en"); !strings.Contains(msg, "Wait") {
		t.Errorf("Message(en) = %q", msg)
	}
}

func TestA429IsNeverRetried(t *testing.T) {
	n, err := passwordLoginAgainst(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		answerJSON(w, 429, wire.Error{Code: wire.CodeRateLimited})
	})
	if Code(err) != wire.CodeRateLimited || n != 1 {
		t.Fatalf("429: code %q after %d requests, want rate_limited after 1", Code(err), n)
	}
	if msg := Message(err, "ja"); !strings.Contains(msg, "しばらく待ってから") {
		t.Errorf("Message(ja) = %q", msg)
	}
	if msg := Message(err, "en"); !strings.Contains(msg, "Wait") {
		t.Errorf("Message(en) = %q", msg)
	}
}

func TestAPickupIsRetriedAfter503AndNeverAfter429(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	a := newTestAgent(t, b, memoryStore(t), c)
	b.busy, b.retryAfter = 2, "0"
	if _, err := a.Pickup(t.Context(), "alice", "pw", nil); err != nil || b.requests != 3 {
		t.Fatalf("pickup after two 503s: %v after %d requests, want success after 3", err, b.requests)
	}
	b.requests, b.refuse, b.retryAfter = 0, wire.CodeRateLimited, "1"
	if _, err := a.Pickup(t.Context(), "bob", "pw", nil); Code(err) != wire.CodeRateLimited || b.requests != 1 {
		t.Fatalf("pickup answered 429: %v after %d requests, want rate_limited after 1", err, b.requests)
	}
}

func TestRetryAfterIsReadInSecondsOrAsADate(t *testing.T) {
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"", 0, false},
		{"5", 5 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"99999999999999999", 1 << 32 * time.Second, true},
	} {
		resp := &resty.Response{RawResponse: &http.Response{Header: http.Header{}}}
		if tc.header != "" {
			resp.RawResponse.Header.Set("Retry-After", tc.header)
		}
		if got, ok := retryAfter(resp, now); got != tc.want || ok != tc.ok {
			t.Errorf("Retry-After %q: %v, %v; want %v, %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
}

// TestLockedAndCertificateRequiredMessagesFitAnAnswerToTheRightPassword: the
// server reports a locked ID, or a contract in certificate mode, only once the
// password was right, so neither message may send the person back to retype it.
func TestLockedAndCertificateRequiredMessagesFitAnAnswerToTheRightPassword(t *testing.T) {
	for _, tc := range []struct {
		code   wire.Code
		ja, en []string
	}{
		{wire.CodeLocked, []string{"ロック", "正しいパスワードでも", "ロック解除を依頼"}, []string{"locked", "even the right password", "unlock"}},
		{wire.CodeCertificateRequired, []string{"電子証明書方式", "電子証明書ログイン", "取得"}, []string{"certificate login", "Log in with your certificate", "pick it up"}},
	} {
		err := &Error{Code: tc.code, Status: tc.code.Status()}
		ja, en := Message(err, "ja"), Message(err, "en")
		for _, want := range tc.ja {
			if !strings.Contains(ja, want) {
				t.Errorf("%s (ja) %q lacks %q", tc.code, ja, want)
			}
		}
		for _, want := range tc.en {
			if !strings.Contains(en, want) {
				t.Errorf("%s (en) %q lacks %q", tc.code, en, want)
			}
		}
		if strings.Contains(ja, "入力内容をご確認") || strings.Contains(en, "Check them") {
			t.Errorf("%s: the message sends the person back to a password that was right: %q / %q", tc.code, ja, en)
		}
	}
}
