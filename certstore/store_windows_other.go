//go:build !windows

package certstore

// openWindows reports that the Windows certificate store exists only on Windows.
func openWindows() (Store, error) {
	return nil, &UnavailableError{Kind: "windows", Reason: "the Windows certificate store exists only on Windows"}
}
