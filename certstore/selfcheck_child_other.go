//go:build !windows

package certstore

// RunSelfCheckChild is the second process of the Windows self-check; elsewhere
// there is none, and it returns at once.
func RunSelfCheckChild() {}
