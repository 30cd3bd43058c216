//go:build !inkan_test_sync_normal

package sqlite

// syncPragma is the synchronous mode of every connection: FULL, so that a
// commit returns only after the WAL is synced. Only a build with the tag
// inkan_test_sync_normal (sync_normal.go) runs with less.
const syncPragma = "FULL"
