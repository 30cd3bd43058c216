package e2e

import (
	"bytes"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"
)

// lockedBuffer collects a child process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// servingLine is serve's log line once its HTTPS listener is open.
var servingLine = regexp.MustCompile(`msg=serving addr=https://(\S+)`)

// failed is how inkan-server begins the line of an error it ends with.
var failed = regexp.MustCompile(`(?m)^inkan-server: `)

// startServing starts serve, an `inkan-server serve --addr 127.0.0.1:0 …`,
// and returns the address it logs once it listens, with its output so far and
// to come. serve asks the kernel for the port itself: a port a test picked and
// closed beforehand could be taken by another test's server meanwhile, and
// the agent would then meet a stranger's CA (x509: unknown authority).
func startServing(t *testing.T, serve *exec.Cmd) (string, *lockedBuffer) {
	t.Helper()
	log := &lockedBuffer{}
	serve.Stdout, serve.Stderr = log, log
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out := log.String()
		if m := servingLine.FindStringSubmatch(out); m != nil {
			return m[1], log
		}
		if failed.MatchString(out) {
			t.Fatalf("inkan-server serve failed before it listened:\n%s", out)
		}
		if time.Now().After(deadline) {
			t.Fatalf("inkan-server serve did not listen in 30 s:\n%s", log.String())
		}
	}
}
