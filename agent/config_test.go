package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkan-dev/inkan/certstore"
)

func TestConfigValidateNamesEveryWrongField(t *testing.T) {
	cfg := Config{Language: "fr"}
	cfg.ServerURL = "http://bank.example/path"
	cfg.BankCode = "13"
	err := cfg.Validate()
	for _, field := range []string{"server_url", "bank_code", "bank_name", "ca_cert_pem", "language"} {
		found := false
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var ce *ConfigError
			if errors.As(e, &ce) && ce.Field == field {
				found = true
			}
		}
		if !found {
			t.Errorf("Validate() = %v: no error for %s", err, field)
		}
	}
}

func TestConfigFingerprintMustMatchPEM(t *testing.T) {
	ca := newTestCA(t, "bank CA")
	cfg := testConfig("https://127.0.0.1:8443", ca)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	cfg.CAFingerprint = strings.ToUpper(string(certstore.FingerprintOf(ca.cert)))
	if err := cfg.Validate(); err != nil {
		t.Fatalf("upper-case matching fingerprint refused: %v", err)
	}
	cfg.CAFingerprint = strings.Repeat("ab", 32)
	var ce *ConfigError
	if err := cfg.Validate(); !errors.As(err, &ce) || ce.Field != "ca_fingerprint" {
		t.Fatalf("mismatching fingerprint: got %v", err)
	}
}

func TestLoadConfigSaysWhenTheFileIsMissing(t *testing.T) {
	_, err := LoadConfig(filepath.Join(t.TempDir(), "inkan.json"))
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("LoadConfig(missing) = %v", err)
	}
}

func TestLoadConfigRefusesUnknownFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inkan.json")
	os.WriteFile(path, []byte(`{"server_url":"https://x","bank_code":"1376","bank_name":"b","ca_fingerprint":"`+strings.Repeat("0", 64)+`","servr":"typo"}`), 0o600)
	if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), "servr") {
		t.Fatalf("LoadConfig(typo) = %v", err)
	}
}
