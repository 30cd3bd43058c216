package server

import (
	"os"
	"strings"
	"testing"

	"github.com/inkan-dev/inkan/wire"
)

// TestDocsListEveryErrorCode keeps docs/server.md's table in step with wire.Codes.
func TestDocsListEveryErrorCode(t *testing.T) {
	doc, err := os.ReadFile("../docs/server.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range wire.Codes {
		if !strings.Contains(string(doc), "| `"+string(c.Code)+"` |") {
			t.Errorf("docs/server.md does not list the error code %s", c.Code)
		}
	}
}
