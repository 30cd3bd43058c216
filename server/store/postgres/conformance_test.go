package postgres_test

import (
	"testing"

	"github.com/inkan-dev/inkan/server/store/storetest"
	"github.com/inkan-dev/inkan/server/store/testdb"
)

// TestConformance holds the PostgreSQL store to the contract of every store,
// on a fresh database per subtest in the cluster INKAN_TEST_POSTGRES names.
func TestConformance(t *testing.T) { storetest.Run(t, testdb.Postgres) }
