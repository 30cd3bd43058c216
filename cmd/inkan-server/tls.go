package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/inkan-dev/inkan/server/ca"
)

func (c *cli) tlsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tls", Short: "Manage the server's TLS certificate"}
	var rootKey, passFile string
	var hosts []string
	renew := &cobra.Command{
		Use:   "renew --data DIR [--root-key PATH] [--host NAME...]",
		Short: "Sign a new TLS certificate and key with the root key, swapped in by one rename of DIR/tls.pem (restart serve to use them)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if c.dataDir == "" {
				return errors.New("--data is required")
			}
			if rootKey == "" {
				rootKey = ca.RootKeyPath(c.dataDir)
			}
			cert, err := ca.RenewTLS(c.dataDir, rootKey, c.passphrase(passFile, false), hosts, time.Now())
			if err != nil {
				return fmt.Errorf("renew the TLS certificate: %w", err)
			}
			names := append([]string{}, cert.DNSNames...)
			for _, ip := range cert.IPAddresses {
				names = append(names, ip.String())
			}
			return c.print(map[string]any{"not_after": cert.NotAfter, "names": names, "serial": ca.SerialHex(cert.SerialNumber)},
				fmt.Sprintf("New TLS certificate for %v, valid until %s.\nRestart inkan-server serve to use it, then put the root key back in offline storage.\n",
					names, cert.NotAfter.Local().Format("2006-01-02")))
		},
	}
	renew.Flags().StringVar(&rootKey, "root-key", "", "the root CA key (default DIR/offline/root-ca.key)")
	renew.Flags().StringVar(&passFile, "passphrase-file", "", "file holding the root key's passphrase (else $"+passphraseEnv+" or a prompt)")
	renew.Flags().StringArrayVar(&hosts, "host", nil, "an extra DNS name or IP address for the certificate (repeatable)")
	cmd.AddCommand(renew)
	return cmd
}
