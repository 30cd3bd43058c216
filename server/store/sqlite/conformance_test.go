package sqlite_test

import (
	"testing"

	"github.com/inkan-dev/inkan/server/store/storetest"
	"github.com/inkan-dev/inkan/server/store/testdb"
)

// TestConformance holds the SQLite store to the contract of every store.
func TestConformance(t *testing.T) { storetest.Run(t, testdb.SQLite) }
