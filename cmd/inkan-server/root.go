package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/inkan-dev/inkan/server"
)

// cli carries what every command shares: the streams, --data and --json.
type cli struct {
	in       io.Reader
	out, err io.Writer
	dataDir  string
	json     bool
}

func newRoot(in io.Reader, out, errOut io.Writer) *cobra.Command {
	c := &cli{in: in, out: out, err: errOut}
	root := &cobra.Command{
		Use:           "inkan-server",
		Short:         "The bank's Inkan certificate server and its operator CLI",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	root.PersistentFlags().StringVar(&c.dataDir, "data", "", "the server's data directory (CA, config.json, inkan.db)")
	root.PersistentFlags().BoolVar(&c.json, "json", false, "print results as JSON")
	root.AddCommand(c.initCmd(), c.serveCmd(), c.contractCmd(), c.userCmd(), c.certCmd(), c.demoCmd(), c.agentConfigCmd(), c.tlsCmd(), c.dbCmd())
	return root
}

// open opens the data directory for an operator command.
func (c *cli) open() (*server.Server, error) {
	if c.dataDir == "" {
		return nil, errors.New("--data is required")
	}
	return server.Open(c.dataDir, server.Options{})
}

// withServer opens the data directory, runs fn and closes it.
func (c *cli) withServer(fn func(*server.Server) error) error {
	s, err := c.open()
	if err != nil {
		return err
	}
	return errors.Join(fn(s), s.Shutdown(context.Background()))
}

// print writes v as JSON with --json, else the human text.
func (c *cli) print(v any, human string) error {
	if c.json {
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := io.WriteString(c.out, human)
	return err
}

// readPassword takes a password from --password-file, from stdin with
// --password-stdin, or from a prompt on the terminal; never from argv.
func (c *cli) readPassword(file string, fromStdin bool) (string, error) {
	switch {
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read password file: %w", err)
		}
		return strings.TrimRight(string(data), "\r\n"), nil
	case fromStdin:
		data, err := io.ReadAll(io.LimitReader(c.in, 4096))
		if err != nil {
			return "", fmt.Errorf("read password from stdin: %w", err)
		}
		return strings.TrimRight(string(data), "\r\n"), nil
	}
	f, ok := c.in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("no password: use --password-file FILE, --password-stdin, or run on a terminal to be prompted")
	}
	fmt.Fprint(c.err, "Password: ")
	first, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.err)
	if err != nil {
		return "", err
	}
	fmt.Fprint(c.err, "Again: ")
	second, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.err)
	if err != nil {
		return "", err
	}
	if string(first) != string(second) {
		return "", errors.New("the two passwords differ")
	}
	return string(first), nil
}
