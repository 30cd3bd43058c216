//go:build windows

package e2e

import (
	"os"
	"testing"

	"github.com/inkan-dev/inkan/certstore"
)

// TestMain lets this test binary be the self-check's second process
// (certstore.RunSelfCheckChild), as inkan.exe and inkanctl.exe are.
func TestMain(m *testing.M) {
	certstore.RunSelfCheckChild()
	os.Exit(m.Run())
}
