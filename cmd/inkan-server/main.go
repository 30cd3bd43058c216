// Command inkan-server is the bank's Inkan server and its operator CLI: init a
// data directory, serve HTTPS, and manage contracts, users and certificates
// (while the server runs, too).
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRoot(os.Stdin, os.Stdout, os.Stderr).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "inkan-server:", err)
		os.Exit(1)
	}
}
