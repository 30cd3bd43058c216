package main

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// TestMetadataIsFyneAppToml: the metadata compiled into inkan is FyneApp.toml's,
// which scripts/version-resource.sh and build-msi.sh read for Windows' version
// information, so one version number holds everywhere.
func TestMetadataIsFyneAppToml(t *testing.T) {
	raw, err := os.ReadFile("../../FyneApp.toml")
	if err != nil {
		t.Fatal(err)
	}
	value := func(key string) string {
		t.Helper()
		m := regexp.MustCompile(`(?m)^\s*` + key + `\s*=\s*"?([^"\n]*)"?\s*$`).FindSubmatch(raw)
		if m == nil {
			t.Fatalf("FyneApp.toml has no %s", key)
		}
		return string(m[1])
	}
	meta := fyneMetadata()
	build, err := strconv.Atoi(value("Build"))
	if err != nil {
		t.Fatalf("FyneApp.toml's Build: %v", err)
	}
	for _, c := range []struct{ key, toml, compiled string }{
		{"ID", value("ID"), meta.ID},
		{"Name", value("Name"), meta.Name},
		{"Version", value("Version"), meta.Version},
		{"Build", strconv.Itoa(build), strconv.Itoa(meta.Build)},
		{"fyneDo", value("fyneDo"), strconv.FormatBool(meta.Migrations["fyneDo"])},
	} {
		if c.toml != c.compiled {
			t.Errorf("%s: FyneApp.toml says %q, cmd/inkan/metadata.go %q", c.key, c.toml, c.compiled)
		}
	}
	if !meta.Migrations["fyneDo"] {
		t.Error("inkan must run with Fyne's fyneDo migration: its background jobs reach widgets through fyne.Do")
	}
}
