package server

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// loadConfigWith writes the default config with old replaced by new and loads it.
func loadConfigWith(t *testing.T, old, new string) (Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), ConfigFile)
	if err := writeConfig(path, defaultConfig("1376", "Inkan Shinkin Bank")); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(old)) {
		t.Fatalf("the default config has no %s", old)
	}
	if err := os.WriteFile(path, bytes.Replace(raw, []byte(old), []byte(new), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	return LoadConfig(path)
}

func TestRepeatGraceHoursDefaultsTo24AndIsValidated(t *testing.T) {
	const field = `"repeat_grace_hours": 24,`
	c, err := loadConfigWith(t, field, "")
	if err != nil || c.lifecyclePolicy().RepeatGrace != 24*time.Hour {
		t.Fatalf("config written before repeat_grace_hours: %v, grace %s", err, c.lifecyclePolicy().RepeatGrace)
	}
	c, err = loadConfigWith(t, field, `"repeat_grace_hours": 0,`)
	if err != nil || c.lifecyclePolicy().RepeatGrace != 0 {
		t.Fatalf("repeat_grace_hours 0 (repeats off): %v, grace %s", err, c.lifecyclePolicy().RepeatGrace)
	}
	_, err = loadConfigWith(t, field, `"repeat_grace_hours": 200,`)
	if err == nil || !strings.Contains(err.Error(), "policy.repeat_grace_hours: 200 must be between 0 and 168") {
		t.Fatalf("repeat_grace_hours 200: %v", err)
	}
}
