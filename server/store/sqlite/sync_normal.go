//go:build inkan_test_sync_normal

package sqlite

// syncPragma, in a build with the tag inkan_test_sync_normal only, is NORMAL:
// commits are not synced before they return. No release build has this tag;
// it exists so that e2e's power-loss test can show that it catches unsynced
// commits (TestPowerLossCatchesUnsyncedCommits).
const syncPragma = "NORMAL"
