package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/server/ca"
	"github.com/inkan-dev/inkan/server/hsm"
)

// passphraseEnv is the environment variable the CA key passphrase may come from.
const passphraseEnv = "INKAN_CA_PASSPHRASE"

// minPassphrase is the shortest CA key passphrase init accepts.
const minPassphrase = 12

// passphrase returns the CA key passphrase source of a command: --passphrase-file,
// else $INKAN_CA_PASSPHRASE, else a prompt on the terminal (twice when confirm),
// asked at most once. Never argv.
func (c *cli) passphrase(file string, confirm bool) ca.Passphrase {
	var once sync.Once
	var pass []byte
	var err error
	return func() ([]byte, error) {
		once.Do(func() { pass, err = c.readPassphrase(file, confirm) })
		return pass, err
	}
}

func (c *cli) readPassphrase(file string, confirm bool) ([]byte, error) {
	switch {
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read the passphrase file: %w", err)
		}
		return []byte(strings.TrimRight(string(data), "\r\n")), nil
	case os.Getenv(passphraseEnv) != "":
		return []byte(os.Getenv(passphraseEnv)), nil
	}
	f, ok := c.in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, fmt.Errorf("the CA keys need a passphrase: give --passphrase-file FILE or %s, or run on a terminal to be prompted (CA鍵のパスフレーズを指定してください)", passphraseEnv)
	}
	fmt.Fprint(c.err, "CA key passphrase: ")
	first, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.err)
	if err != nil {
		return nil, err
	}
	if confirm {
		fmt.Fprint(c.err, "Again: ")
		second, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.err)
		if err != nil {
			return nil, err
		}
		if string(first) != string(second) {
			return nil, errors.New("the two passphrases differ")
		}
	}
	return first, nil
}

func (c *cli) caCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "ca", Short: "The offline root key's jobs: root CRL, revoking an issuing CA, issuing CA rollover, key encryption"}
	var rootKey, passFile, kms, module string
	rootFlags := func(sub *cobra.Command) {
		sub.Flags().StringVar(&rootKey, "root-key", "", "the root CA key (default DIR/offline/root-ca.key)")
		sub.Flags().StringVar(&passFile, "passphrase-file", "", "file holding the CA key passphrase (else $"+passphraseEnv+" or a prompt)")
	}
	rootKeyPath := func() (string, error) {
		if c.dataDir == "" {
			return "", errors.New("--data is required")
		}
		if rootKey == "" {
			return ca.RootKeyPath(c.dataDir), nil
		}
		return rootKey, nil
	}

	var days int
	rootCRL := &cobra.Command{
		Use:   "root-crl --data DIR [--root-key PATH] [--days 400]",
		Short: "Sign a new root CRL with the offline root key (serve publishes DIR/root.crl at /crl/root.crl)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := rootKeyPath()
			if err != nil {
				return err
			}
			crl, err := ca.SignRootCRL(c.dataDir, path, c.passphrase(passFile, false), time.Duration(days)*24*time.Hour, time.Now())
			if err != nil {
				return fmt.Errorf("sign the root CRL: %w", err)
			}
			return c.print(map[string]any{"number": crl.Number, "this_update": crl.ThisUpdate, "next_update": crl.NextUpdate},
				fmt.Sprintf("Root CRL number %s signed, valid until %s: sign the next one before then.\nPut the root key back in offline storage.\n",
					crl.Number, crl.NextUpdate.Local().Format("2006-01-02")))
		},
	}
	rootFlags(rootCRL)
	rootCRL.Flags().IntVar(&days, "days", int(ca.RootCRLValidity/(24*time.Hour)), "how many days the root CRL stays current (its nextUpdate)")

	var reason string
	revoke := &cobra.Command{
		Use:   "revoke-issuer ID --reason key-compromise|ca-compromise|superseded|cessation-of-operation --data DIR [--root-key PATH] [--days 400]",
		Short: "Revoke a retired issuing CA in the root CRL (its key is compromised, or the bank stops it): every certificate it signed is refused",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := rootKeyPath()
			if err != nil {
				return err
			}
			if reason == "" {
				return errors.New("--reason is required: key-compromise, ca-compromise, superseded or cessation-of-operation (失効理由を --reason で指定してください)")
			}
			id := strings.ToLower(args[0])
			crl, cert, err := ca.RevokeIssuer(c.dataDir, path, c.passphrase(passFile, false), id, reason, time.Duration(days)*24*time.Hour, time.Now())
			again := errors.Is(err, ca.ErrIssuerAlreadyRevoked)
			if err != nil && !again {
				return fmt.Errorf("revoke the issuing CA: %w", err)
			}
			// The records: every active certificate of that CA becomes revoked
			// too, so admins and cert list see what logins already get. Run
			// again after a failure here, it does only this part.
			var ids []string
			if err := c.withServer(func(s *server.Server) error {
				ids, err = s.Operator().RevokeIssuedBy(cmd.Context(), id)
				return err
			}); err != nil {
				return fmt.Errorf("the root CRL lists issuing CA %s, but its certificates are not marked revoked in the records (run this command again): %w", id, err)
			}
			who := "なし / none"
			if len(ids) > 0 {
				who = strings.Join(ids, ", ")
			}
			var b strings.Builder
			if again {
				fmt.Fprintf(&b, "発行CA %q はルートCRLで失効済みです。\nIssuing CA %q was revoked in the root CRL already.\n", cert.Subject.CommonName, cert.Subject.CommonName)
			} else {
				fmt.Fprintf(&b, "発行CA %q を失効し、ルートCRL（番号 %s、次回更新 %s）に載せました。\n"+
					"この発行CAが発行した電子証明書は、openssl などの検証でもこのサーバーへのログイン・更新でも失効として扱われます。\n"+
					"Issuing CA %q is revoked, on root CRL number %s (next update %s).\n"+
					"Every certificate it signed is now refused as revoked, by relying parties and by this server's login and renewal.\n",
					cert.Subject.CommonName, crl.Number, crl.NextUpdate.Local().Format("2006-01-02"),
					cert.Subject.CommonName, crl.Number, crl.NextUpdate.Local().Format("2006-01-02"))
			}
			fmt.Fprintf(&b, "記録上も失効にした電子証明書の利用者（再発行が必要: 管理者IDは当金庫が、承認者ID・一般者IDは管理者が再発行）/ IDs whose certificate is now revoked in the records too, each needing a reissue (admin IDs by the bank, the others by their admin): %s\n"+
				"inkan-server serve を再起動してください。ルート鍵はオフラインの保管場所に戻してください。\n"+
				"Restart inkan-server serve. Put the root key back in offline storage.\n", who)
			out := map[string]any{"revoked": id, "subject": cert.Subject.String(), "reason": reason, "revoked_login_ids": ids}
			if crl != nil {
				out["root_crl_number"], out["next_update"] = crl.Number, crl.NextUpdate
			}
			return c.print(out, b.String())
		},
	}
	rootFlags(revoke)
	revoke.Flags().StringVar(&reason, "reason", "", "why: key-compromise, ca-compromise, superseded or cessation-of-operation")
	revoke.Flags().IntVar(&days, "days", int(ca.RootCRLValidity/(24*time.Hour)), "how many days the new root CRL stays current (its nextUpdate)")

	rollover := &cobra.Command{
		Use:   "rollover --data DIR [--root-key PATH]",
		Short: "Make a new issuing CA signed with the root key; the old one keeps answering CRL and OCSP until it expires",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := rootKeyPath()
			if err != nil {
				return err
			}
			cfg, err := server.LoadConfig(c.dataDir + "/" + server.ConfigFile)
			if err != nil {
				return err
			}
			if cfg.RevocationURL == "" || cfg.CertificatePolicyOID == "" {
				return errors.New("config.json needs revocation_url and certificate_policy_oid before a rollover: they are written into the new issuing CA (see docs/server.md)")
			}
			opts := ca.RolloverOptions{OldKeyURI: cfg.CAKey}
			committed := false
			if kms != "" {
				u, err := kmsURI(kms, module)
				if err != nil {
					return err
				}
				if cfg.CAKey != "" {
					if old, err := hsm.ParseURI(cfg.CAKey); err == nil && old.Object == u.Object && string(old.ID) == string(u.ID) {
						return fmt.Errorf("--kms names the current issuing key (%s): give the new key another object=, such as issuing-ca-%d", cfg.CAKey, time.Now().Year())
					}
				}
				pin, err := c.readPIN(u)
				if err != nil {
					return err
				}
				old, err := issuingAlgorithm(c.dataDir)
				if err != nil {
					return err
				}
				key, err := hsm.Create(u, pin, old)
				if err != nil {
					return err
				}
				c.closers = append(c.closers, key.Close)
				opts.NewSigner = key
				opts.Commit = func() error {
					if err := server.SetCAKey(c.dataDir, u.String()); err != nil {
						return err
					}
					committed = true
					return nil
				}
			}
			cert, err := ca.RolloverWith(c.dataDir, path, c.passphrase(passFile, false), cfg.RevocationURL, cfg.CertificatePolicyOID, time.Now(), opts)
			if err != nil {
				if key, ok := opts.NewSigner.(*hsm.Key); ok && !committed {
					// config.json never named the new key: take it out of the token again.
					if derr := key.Delete(); derr != nil {
						return fmt.Errorf("roll the issuing CA over: %w; the new key %s is still in the token: delete it with the HSM's tool: %v", err, kms, derr)
					}
					return fmt.Errorf("roll the issuing CA over: %w (the new key was removed from the token again)", err)
				}
				return fmt.Errorf("roll the issuing CA over: %w", err)
			}
			return c.print(map[string]any{"subject": cert.Subject.String(), "not_after": cert.NotAfter, "id": fmt.Sprintf("%x", cert.SubjectKeyId)},
				fmt.Sprintf("New issuing CA %q, valid until %s.\nRestart inkan-server serve: new certificates come from it; the old CA's keep their CRL and OCSP until they expire.\nPut the root key back in offline storage.\n",
					cert.Subject.CommonName, cert.NotAfter.Local().Format("2006-01-02")))
		},
	}
	rootFlags(rollover)
	rollover.Flags().StringVar(&kms, "kms", "", "make the new issuing key in an HSM: a pkcs11: URI with a new object= (see init --kms); needed when the current key is in one")
	rollover.Flags().StringVar(&module, "pkcs11-module", "", "the PKCS#11 module for --kms when its URI has no module-path")

	var keyPath string
	encrypt := &cobra.Command{
		Use:   "encrypt-key --key PATH [--passphrase-file FILE]",
		Short: "Encrypt a CA key file written in clear by an earlier version (PKCS#8, passphrase from file, env or prompt)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if keyPath == "" {
				return errors.New("--key is required: the key file to encrypt (DIR/issuing-ca.key or the root key)")
			}
			enc, err := ca.KeyIsEncrypted(keyPath)
			if err != nil {
				return err
			}
			if enc {
				return fmt.Errorf("%s is already encrypted", keyPath)
			}
			key, err := ca.ReadKey(keyPath, nil)
			if err != nil {
				return err
			}
			pass, err := c.readPassphrase(passFile, true)
			if err != nil {
				return err
			}
			if len(pass) < minPassphrase {
				return fmt.Errorf("the passphrase is %d characters: give at least %d", len(pass), minPassphrase)
			}
			if err := ca.WriteKey(keyPath, key, pass); err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.err, "%s is encrypted now.\n", keyPath)
			return err
		},
	}
	encrypt.Flags().StringVar(&keyPath, "key", "", "the key file to encrypt in place")
	encrypt.Flags().StringVar(&passFile, "passphrase-file", "", "file holding the passphrase (else $"+passphraseEnv+" or a prompt)")

	cmd.AddCommand(rootCRL, revoke, rollover, encrypt)
	return cmd
}
