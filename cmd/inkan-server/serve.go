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
	"github.com/inkan-dev/inkan/server/hsm"
)

func (c *cli) initCmd() *cobra.Command {
	var cfg server.InitConfig
	var alg, passFile, kms, module string
	cmd := &cobra.Command{
		Use:   "init --data DIR --bank-code CODE --bank-name NAME --revocation-url http://HOST[:PORT] --policy-oid OID [--host NAME...]",
		Short: "Create a data directory: root and issuing CA (keys encrypted), root CRL, TLS certificate, database, config",
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
			pass, err := c.readPassphrase(passFile, true)
			if err != nil {
				return err
			}
			if len(pass) < minPassphrase {
				return fmt.Errorf("the CA key passphrase is %d characters: give at least %d (パスフレーズが短すぎます)", len(pass), minPassphrase)
			}
			cfg.Passphrase = pass
			if c.shiftDays != 0 {
				if !cfg.Demo {
					return errors.New("--demo-shift-days needs --demo: a bank's CA starts on the real clock")
				}
				cfg.Now = shiftedClock(c.shiftDays)
			}
			var opts server.Options
			if kms != "" {
				u, err := kmsURI(kms, module)
				if err != nil {
					return err
				}
				if ca.Exists(c.dataDir) {
					return fmt.Errorf("%s already holds a CA: refusing to make a key in the token for it", c.dataDir)
				}
				pin, err := c.readPIN(u)
				if err != nil {
					return err
				}
				key, err := hsm.Create(u, pin, alg)
				if err != nil {
					return err
				}
				c.closers = append(c.closers, key.Close)
				cfg.IssuingSigner, cfg.CAKey, opts.IssuingSigner = key, u.String(), key
			}
			if err := server.Init(c.dataDir, cfg); err != nil {
				if key, ok := cfg.IssuingSigner.(*hsm.Key); ok && !ca.Exists(c.dataDir) {
					// The key was made for this init alone: take it out of the token again.
					if derr := key.Delete(); derr != nil {
						return fmt.Errorf("%w; the issuing key made for it is still in the token (%s): delete it with the HSM's tool before another init of that name: %v", err, cfg.CAKey, derr)
					}
					return fmt.Errorf("%w (the issuing key made for it was removed from the token again)", err)
				}
				return err
			}
			s, err := c.openWith(opts)
			if err != nil {
				return err
			}
			defer s.Shutdown(context.Background())
			bc, err := s.BankConfig("")
			if err != nil {
				return err
			}
			sc := s.Config()
			fmt.Fprintf(c.err, "The root CA key is in %s, encrypted with the passphrase.\nMove it to offline storage (an encrypted USB key in the bank's safe): serve refuses to start while it is inside %s unencrypted,\nand only `tls renew`, `ca root-crl` and `ca rollover` need it.\n", ca.RootKeyPath(c.dataDir), c.dataDir)
			return c.print(bc, fmt.Sprintf("Initialised %s for %s (%s).\nRoot CA SHA-256: %s\nRevocation (CRL, OCSP, CA certificates): %s, served on %s\nPolicy: %s\n",
				c.dataDir, cfg.BankName, cfg.BankCode, bc.CAFingerprint, sc.RevocationURL, sc.HTTPAddr, server.ConfigFile))
		},
	}
	cmd.Flags().StringVar(&cfg.BankCode, "bank-code", "", "the bank's four-digit code")
	cmd.Flags().StringVar(&cfg.BankName, "bank-name", "", "the bank's name")
	cmd.Flags().StringArrayVar(&cfg.Hosts, "host", nil, "an extra DNS name or IP address for the TLS certificate (repeatable)")
	cmd.Flags().StringVar(&cfg.PublicURL, "public-url", "", "how PCs reach the server (default https://127.0.0.1:8443)")
	cmd.Flags().StringVar(&cfg.RevocationURL, "revocation-url", "", "the public http:// base URL of CRL, OCSP and CA certificates, written into every certificate")
	cmd.Flags().StringVar(&cfg.HTTPAddr, "http-addr", "", "where serve's plain-HTTP revocation listener listens (default the revocation URL's port)")
	cmd.Flags().StringVar(&cfg.PolicyOID, "policy-oid", "", "the OID of the bank's certificate policy, written into every certificate")
	cmd.Flags().StringVar(&cfg.LoginIDPattern, "login-id-pattern", "", `the form of every login ID the bank issues, a regular expression the whole ID matches (e.g. "[0-9]{10}"); PCs with several banks find the bank of an ID by it (policy.login_id_pattern)`)
	cmd.Flags().BoolVar(&cfg.Demo, "demo", false, "a demo on this machine: allows a loopback revocation URL (default http://"+server.DemoHTTPAddr+") and an example policy OID")
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "file holding the passphrase that encrypts the CA keys (else $"+passphraseEnv+" or a prompt)")
	cmd.Flags().StringVar(&kms, "kms", "", "make the issuing CA key in an HSM: a pkcs11: URI (RFC 7512) such as 'pkcs11:token=inkan;object=issuing-ca?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/inkan/pin' (the PIN from pin-source, $"+hsm.PINEnv+" or a prompt)")
	cmd.Flags().StringVar(&module, "pkcs11-module", "", "the PKCS#11 module for --kms when its URI has no module-path")
	cmd.Flags().StringVar(&alg, "key-algorithm", string(ca.ECDSAP256), "CA key: ecdsa-p256, ecdsa-p384 or rsa-3072")
	return cmd
}

func (c *cli) serveCmd() *cobra.Command {
	var addr, httpAddr, passFile, publicURL string
	cmd := &cobra.Command{
		Use:   "serve --data DIR [--addr 127.0.0.1:8443] [--http-addr HOST:PORT] [--db postgres://...]",
		Short: "Serve EST and the JSON API over HTTPS, and CRL, OCSP and CA certificates over plain HTTP, until SIGINT or SIGTERM",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if c.dataDir == "" {
				return errors.New("--data is required")
			}
			if err := server.CheckRootKeyAway(c.dataDir); err != nil {
				return err
			}
			logger := slog.New(slog.NewTextHandler(c.err, nil))
			s, err := c.openWith(server.Options{Logger: logger, PublicURL: publicURL, Passphrase: c.passphrase(passFile, false)})
			if err != nil {
				return err
			}
			if err := s.Unlock(); err != nil {
				s.Shutdown(context.Background())
				return err
			}
			if httpAddr == "" {
				httpAddr = s.Config().HTTPAddr
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				s.Shutdown(context.Background())
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			done := make(chan error, 2)
			serving := 1
			if httpAddr != "" {
				plain, err := net.Listen("tcp", httpAddr)
				if err != nil {
					ln.Close()
					s.Shutdown(context.Background())
					return fmt.Errorf("listen on %s (http_addr, the plain-HTTP revocation listener): %w", httpAddr, err)
				}
				serving++
				go func() { done <- s.ServeRevocation(plain) }()
				logger.Info("serving revocation", "addr", "http://"+plain.Addr().String(), "published_as", s.Config().RevocationURL)
			} else {
				logger.Warn("no http_addr in config.json and no --http-addr: CRL and OCSP are served over HTTPS only, where relying parties cannot fetch them")
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go func() { done <- s.Serve(ln) }()
			logger.Info("serving", "addr", "https://"+ln.Addr().String(), "data", c.dataDir)
			select {
			case err := <-done:
				serving--
				s.Shutdown(context.Background())
				for ; serving > 0; serving-- {
					err = errors.Join(err, <-done)
				}
				return err
			case <-ctx.Done():
			}
			logger.Info("shutting down")
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			err = s.Shutdown(shutdownCtx)
			for ; serving > 0; serving-- {
				err = errors.Join(err, <-done)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8443", "address to listen on for HTTPS")
	cmd.Flags().StringVar(&publicURL, "public-url", "", "how PCs reach the server, for this run (default: the config's public_url)")
	cmd.Flags().StringVar(&httpAddr, "http-addr", "", "address of the plain-HTTP revocation listener (default http_addr from config.json)")
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "file holding the CA key passphrase (else $"+passphraseEnv+" or a prompt; only asked when the keys are encrypted)")
	return cmd
}
