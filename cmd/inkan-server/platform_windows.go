package main

import (
	"fmt"
	"os"
)

// init refuses to run on Windows. The server guards its CA keys and database
// with Unix file modes (0600/0700), which Windows ignores: there they would
// need ACLs for the service account, which this build does not set. Rather
// than leave the bank's keys readable, the server is for Linux only.
func init() {
	fmt.Fprintln(os.Stderr, `inkan-server: このプログラムは Linux 用です。Windows では CA の鍵とデータベースをアクセス制御 (ACL) で守れないため起動しません。当金庫のサーバーは Linux で動かしてください。
inkan-server: the server is for Linux. On Windows its CA keys and database would not be protected (this build sets no ACLs), so it does not start. Run the bank's server on Linux.`)
	os.Exit(exitNotSupported)
}

// exitNotSupported is the exit status on an operating system the server does not support.
const exitNotSupported = 3
