package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/server/ca"
)

func (c *cli) initCmd() *cobra.Command {
	var cfg server.InitConfig
	var alg string
	cmd := &cobra.Command{
		Use:   "init --data DIR --bank-code CODE --bank-name NAME [--host NAME...]",
		Short: "Create a data directory: root and issuing CA, TLS certificate, database, config",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if c.dataDir == "" {
				return errors.New("--data is required")
			}
			cfg.KeyAlgorithm = ca.KeyAlgorithm(alg)
			d, err := c.database()
			if err != nil {
				return err
			}
			cfg.Database = d // init --db writes the database into the config file
			if err := server.Init(c.dataDir, cfg); err != nil {
				return err
			}
			s, err := c.openWith(server.Options{})
			if err != nil {
				return err
			}
			defer s.Shutdown(context.Background())
			bc, err := s.BankConfig("")
			if err != nil {
				return err
			}
			fmt.Fprintf(c.err, "The root CA key is in %s.\nMove it to offline storage (an encrypted USB key in the bank's safe): the server never needs it,\nonly `inkan-server tls renew` does, every two years.\n", ca.RootKeyPath(c.dataDir))
			return c.print(bc, fmt.Sprintf("Initialised %s for %s (%s).\nRoot CA SHA-256: %s\nPolicy: %s\n",
				c.dataDir, cfg.BankName, cfg.BankCode, bc.CAFingerprint, server.ConfigFile))
		},
	}
	cmd.Flags().StringVar(&cfg.BankCode, "bank-code", "", "the bank's four-digit code")
	cmd.Flags().StringVar(&cfg.BankName, "bank-name", "", "the bank's name")
	cmd.Flags().StringArrayVar(&cfg.Hosts, "host", nil, "an extra DNS name or IP address for the TLS certificate (repeatable)")
	cmd.Flags().StringVar(&cfg.PublicURL, "public-url", "", "how PCs reach the server (default https://127.0.0.1:8443)")
	cmd.Flags().StringVar(&alg, "key-algorithm", string(ca.ECDSAP256), "CA key: ecdsa-p256, ecdsa-p384 or rsa-3072")
	return cmd
}

func (c *cli) serveCmd() *cobra.Command {
	var addr, publicURL string
	cmd := &cobra.Command{
		Use:   "serve --data DIR [--addr 127.0.0.1:8443] [--db postgres://...]",
		Short: "Serve EST, the JSON API, CRL and OCSP over HTTPS until SIGINT or SIGTERM",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if c.dataDir == "" {
				return errors.New("--data is required")
			}
			logger := slog.New(slog.NewTextHandler(c.err, nil))
			s, err := c.openWith(server.Options{Logger: logger, PublicURL: publicURL})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				s.Shutdown(context.Background())
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			done := make(chan error, 1)
			go func() { done <- s.Serve(ln) }()
			logger.Info("serving", "addr", "https://"+ln.Addr().String(), "data", c.dataDir)
			select {
			case err := <-done:
				s.Shutdown(context.Background())
				return err
			case <-ctx.Done():
			}
			logger.Info("shutting down")
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			return errors.Join(s.Shutdown(shutdownCtx), <-done)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8443", "address to listen on")
	cmd.Flags().StringVar(&publicURL, "public-url", "", "how PCs reach the server, for this run (default: the config's public_url)")
	return cmd
}
