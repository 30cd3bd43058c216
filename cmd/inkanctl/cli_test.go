package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// inkanctl runs one command line and returns its exit status, stdout and stderr.
func inkanctl(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHelpListsTheExitStatuses(t *testing.T) {
	code, out, _ := inkanctl(t, "", "--lang", "en", "--help")
	if code != exitOK || !strings.Contains(out, "2  refused by the bank's server") || !strings.Contains(out, "--password-file") {
		t.Fatalf("--help: exit %d\n%s", code, out)
	}
}

func TestUnknownFlagIsAUsageError(t *testing.T) {
	if code, _, _ := inkanctl(t, "", "list", "--no-such-flag"); code != exitUsage {
		t.Fatalf("exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := inkanctl(t, "", "pickup"); code != exitUsage {
		t.Fatalf("pickup without --login-id: exit %d, want %d", code, exitUsage)
	}
}

func TestMissingConfigurationExitsWithStatus5AndSaysWhatToDo(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "bank.json")
	code, out, errOut := inkanctl(t, "", "--config", missing, "--lang", "en", "--json", "list")
	if code != exitConfig {
		t.Fatalf("exit %d, want %d: %s", code, exitConfig, errOut)
	}
	if !strings.Contains(errOut, "configuration file your bank sent") {
		t.Errorf("stderr does not say what to do: %s", errOut)
	}
	var v struct {
		Error struct {
			ExitStatus int    `json:"exit_status"`
			Message    string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.Error.ExitStatus != exitConfig {
		t.Errorf("--json error: %v\n%s", err, out)
	}
}

func TestPasswordsComeFromFileOrStdinLineByLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(file, []byte("first\r\nsecond\n"), 0o600)
	c := &cli{passwordFile: file}
	for _, want := range []string{"first", "second"} {
		if got, err := c.password("p"); err != nil || got != want {
			t.Fatalf("file: %q, %v; want %q", got, err, want)
		}
	}
	if _, err := c.password("third"); err == nil {
		t.Fatal("file: a third password from two lines")
	}
	c = &cli{passwordStdin: true, stdin: strings.NewReader("one\ntwo")}
	for _, want := range []string{"one", "two"} {
		if got, err := c.password("p"); err != nil || got != want {
			t.Fatalf("stdin: %q, %v; want %q", got, err, want)
		}
	}
}

func TestNoPasswordSourceOffATerminalIsAUsageError(t *testing.T) {
	c := &cli{stdin: strings.NewReader("")}
	if _, err := c.password("login password"); err == nil || !strings.Contains(err.Error(), "--password-stdin") {
		t.Fatalf("password() off a terminal = %v", err)
	}
}
