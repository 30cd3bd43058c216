package agent

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzConfig feeds the configuration file decoder arbitrary bytes: the file
// comes from outside (the bank's mail, a USB stick, a user's edits). It must
// never panic; a refusal must be a *ConfigError that names what is wrong; an
// accepted file must be valid and survive being written out and read back.
// Seeds: testdata/fuzz/FuzzConfig (files written by `inkan-server agent-config`
// and hand-edited variants).
func FuzzConfig(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := parseConfig("bank.json", data)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("refusal %v is not a *ConfigError", err)
			}
			if ce.Problem == "" || ce.Fix == "" {
				t.Fatalf("refusal %#v does not say what is wrong and what to do", ce)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("accepted a configuration that does not validate: %v", err)
		}
		again, err := json.Marshal(cfg)
		if err != nil {
			t.Fatalf("write the accepted configuration: %v", err)
		}
		back, err := parseConfig("bank.json", again)
		if err != nil {
			t.Fatalf("the accepted configuration, written out, is refused: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(back, cfg) {
			t.Fatalf("round trip changed the configuration:\n%+v\n%+v", cfg, back)
		}
	})
}
