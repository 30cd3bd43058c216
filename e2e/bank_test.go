package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/wire"
)

const day = 24 * time.Hour

// clock is the fake clock server and agents share; tests move it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// bank is a running Inkan server with one contract.
type bank struct {
	t        testing.TB
	clock    *clock
	dir      string // the server's data directory
	srv      *server.Server
	op       *server.Operator
	cfg      wire.BankConfig
	contract string
}

// cheapArgon2 keeps password hashing fast in tests.
var cheapArgon2 = &lifecycle.Argon2Params{Time: 1, Memory: 8, Threads: 1, KeyLen: 16}

// tempDir is t.TempDir, except under Wine (windows_test.go), whose ntdll lacks
// the POSIX delete that os.RemoveAll uses on Windows.
var tempDir = func(t testing.TB) string { return t.TempDir() }

// startBank initialises a data directory, opens the server on a loopback port and
// creates the contract 株式会社インカン商事.
func startBank(t testing.TB) *bank {
	t.Helper()
	return startBankWithPolicy(t, nil)
}

// startBankWithPolicy is startBank with the policy of the config file changed
// by edit before the server opens.
func startBankWithPolicy(t testing.TB, edit func(*server.PolicyConfig)) *bank {
	t.Helper()
	return startBankAs(t, "1376", "インカン信用金庫", &clock{t: time.Now().Truncate(time.Second)}, edit)
}

// startBankAs is startBankWithPolicy for the bank with this code and name, on
// clk (which several banks may share).
func startBankAs(t testing.TB, code, name string, clk *clock, edit func(*server.PolicyConfig)) *bank {
	t.Helper()
	dir := tempDir(t)
	if err := server.Init(dir, server.InitConfig{BankCode: code, BankName: name, Demo: true,
		Hosts: []string{"127.0.0.1"}, Argon2: cheapArgon2, Now: clk.now}); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		path := filepath.Join(dir, server.ConfigFile)
		cfg, err := server.LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		edit(&cfg.Policy)
		data, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := server.Open(dir, server.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	cfg, err := srv.BankConfig("https://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := &bank{t: t, clock: clk, dir: dir, srv: srv, op: srv.Operator(), cfg: cfg}
	if b.contract, err = b.op.CreateContract(context.Background(), "株式会社インカン商事"); err != nil {
		t.Fatal(err)
	}
	return b
}

// user creates an ID with password "<loginID>-Pass-2026" and, if issue, issues its certificate.
func (b *bank) user(loginID string, role wire.Role, issue bool) string {
	b.t.Helper()
	ctx := context.Background()
	pw := password(loginID)
	if err := b.op.CreateUser(ctx, b.contract, loginID, role, loginID+" さん", loginID+"@example.jp", pw); err != nil {
		b.t.Fatal(err)
	}
	if issue {
		if err := b.op.IssueCertificate(ctx, loginID); err != nil {
			b.t.Fatal(err)
		}
	}
	return pw
}

func password(loginID string) string { return loginID + "-Pass-2026" }

// pc is one PC: an agent with its own memory store and state directory.
func (b *bank) pc() *agent.Agent {
	b.t.Helper()
	return b.pcVia(b.cfg.ServerURL)
}

// pcVia is a PC that reaches the server at serverURL, e.g. through a proxy.
func (b *bank) pcVia(serverURL string) *agent.Agent {
	b.t.Helper()
	store, err := certstore.Open("memory")
	if err != nil {
		b.t.Fatal(err)
	}
	return b.pcWith(serverURL, store)
}

// pcWith is a PC that keeps its certificates in store.
func (b *bank) pcWith(serverURL string, store certstore.Store) *agent.Agent {
	b.t.Helper()
	cfg := b.cfg
	cfg.ServerURL = serverURL
	a, err := agent.New(agent.Config{BankConfig: cfg}, store,
		agent.Options{Now: b.clock.now, StateDir: tempDir(b.t), RetryWait: time.Millisecond})
	if err != nil {
		b.t.Fatal(err)
	}
	return a
}

// pickup picks up loginID's certificate on pc, failing the test if refused.
func (b *bank) pickup(pc *agent.Agent, loginID string) *agent.Identity {
	b.t.Helper()
	id, err := pc.Pickup(context.Background(), loginID, password(loginID), nil)
	if err != nil {
		b.t.Fatalf("pick up %s: %v", loginID, err)
	}
	return id
}

// login logs in on pc with id, failing the test if refused.
// adminAndGeneralOnOnePC is where most life-cycle tests start: the contract's
// admin "kanri" and general user "ippan", both issued and picked up on one PC.
func (b *bank) adminAndGeneralOnOnePC() (pc *agent.Agent, admin, ippan *agent.Identity) {
	b.user("kanri", wire.RoleAdmin, true)
	b.user("ippan", wire.RoleGeneral, true)
	pc = b.pc()
	return pc, b.pickup(pc, "kanri"), b.pickup(pc, "ippan")
}

func (b *bank) login(pc *agent.Agent, id *agent.Identity) *agent.Session {
	b.t.Helper()
	s, err := pc.Login(context.Background(), id.Fingerprint, password(id.Subject.LoginID))
	if err != nil {
		b.t.Fatalf("log in as %s: %v", id.Label, err)
	}
	return s
}

// wantCode fails the test unless err is a server refusal with code.
func wantCode(t testing.TB, what string, err error, code wire.Code) {
	t.Helper()
	if agent.Code(err) != code {
		t.Fatalf("%s: got %v, want refusal %s", what, err, code)
	}
	if agent.Message(err, "ja") == "" || agent.Message(err, "en") == "" {
		t.Fatalf("%s: no message for %v", what, err)
	}
}
