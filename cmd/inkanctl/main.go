// Command inkanctl is the Inkan agent without a GUI, for scripts and support staff:
// it picks up, lists, renews, backs up, restores and deletes a bank's login
// certificates on this PC, logs in with them, and runs an admin's user and
// certificate management. Run "inkanctl --help" for the commands and exit codes.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/inkan-dev/inkan/certstore"
)

func main() {
	// The self-check (doctor) starts this program again to reopen its key in a
	// second process; that run ends here.
	certstore.RunSelfCheckChild()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
