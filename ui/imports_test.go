package ui

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsOnlyAgentAndWire holds the arrows of the design: the window talks to
// the agent and shares wire/'s codes, and never reaches past the agent into the
// certificate store or into the server. It asks `go list` for the package's
// imports, so a new import anywhere in ui/ is caught. The tests may also start the
// real server (realserver_test.go drives the window against it), but they too
// never touch the store: the fake backend speaks the agent's types.
func TestImportsOnlyAgentAndWire(t *testing.T) {
	module := strings.TrimSuffix(goList(t, "{{.ImportPath}}")[0], "/ui")
	allowed := map[string]bool{module + "/agent": true, module + "/wire": true, module + "/assets": true}
	checked := 0
	for _, imp := range goList(t, `{{join .Imports "\n"}}`) {
		if !strings.HasPrefix(imp, module+"/") {
			continue
		}
		checked++
		if !allowed[imp] {
			t.Errorf("ui imports %s: the window may use only agent/ and wire/ (and the bundled assets/); give the agent a type or method for what it needs", imp)
		}
	}
	if checked == 0 {
		t.Fatal("go list named none of the module's packages among ui's imports")
	}
	for _, imp := range goList(t, `{{join .TestImports "\n"}}`) {
		if imp == module+"/certstore" || strings.HasPrefix(imp, module+"/certstore/") {
			t.Errorf("ui's tests import %s: the fake backend must speak the agent's types only", imp)
		}
	}
}

// goList runs `go list -f format` on this package and returns its output's words.
func goList(t *testing.T, format string) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list ui's imports: %v", err)
	}
	out, err := exec.Command(goBin, "list", "-f", format, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -f %q: %v\n%s", format, err, out)
	}
	return strings.Fields(string(out))
}
