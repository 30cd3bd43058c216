package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/inkan-dev/inkan/agent"
)

// selected is the agent of --bank, or of every configured bank.
func (c *cli) selected() ([]*agent.Agent, error) {
	b, err := c.banks()
	if err != nil {
		return nil, err
	}
	if c.bank == "" {
		return b.All(), nil
	}
	a, err := b.Bank(c.bank)
	if err != nil {
		return nil, err
	}
	return []*agent.Agent{a}, nil
}

// identities lists the certificates of the selected banks, bank by bank.
func (c *cli) identities(ctx context.Context) ([]*agent.Identity, error) {
	agents, err := c.selected()
	if err != nil {
		return nil, err
	}
	var ids []*agent.Identity
	for _, a := range agents {
		got, err := a.Identities(ctx)
		if err != nil {
			return nil, err
		}
		ids = append(ids, got...)
	}
	return ids, nil
}

func (c *cli) bankCommand() *cobra.Command {
	bank := &cobra.Command{
		Use:   "bank",
		Short: "Add, list and remove the banks this PC logs in to (one configuration file per bank)",
	}
	var url, fingerprint, code, name string
	add := &cobra.Command{
		Use:   "add FILE | add --url https://HOST[:PORT] --fingerprint SHA256 --code CODE --name NAME",
		Short: "Add a bank: from the configuration file it sent, or from its URL and the SHA-256 fingerprint of its root CA",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var cfg agent.Config
			switch {
			case len(args) == 1 && url == "":
				var err error
				if cfg, err = agent.LoadConfig(args[0]); err != nil {
					return err
				}
			case len(args) == 0 && url != "":
				cfg.ServerURL, cfg.CAFingerprint, cfg.BankCode, cfg.BankName = strings.TrimRight(url, "/"), fingerprint, code, name
				var err error
				if cfg, err = agent.ProbeBank(cmd.Context(), cfg); err != nil {
					return err
				}
			default:
				return &usageError{c.say("当金庫から届いた設定ファイルを指定するか、--url と --fingerprint、--code、--name を指定してください", "give the bank's configuration file, or --url with --fingerprint, --code and --name")}
			}
			if err := agent.AddBank(c.bankDir(), cfg); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, c.say("%s %s（%s）を追加しました\n", "added %s %s (%s)\n"), cfg.BankCode, cfg.BankName, cfg.ServerURL)
			return nil
		},
	}
	add.Flags().StringVar(&url, "url", "", "the bank's Inkan server, https://host[:port]")
	add.Flags().StringVar(&fingerprint, "fingerprint", "", "the SHA-256 fingerprint of the bank's root CA, as the bank gave it (checked against /.well-known/est/cacerts)")
	add.Flags().StringVar(&code, "code", "", "the bank's four-digit code")
	add.Flags().StringVar(&name, "name", "", "the bank's name")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the configured banks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfgs, err := agent.LoadBanks(c.bankDir(), c.configPath)
			if err != nil {
				return err
			}
			if c.jsonOut {
				out := []map[string]any{}
				for _, cfg := range cfgs {
					out = append(out, map[string]any{"bank_code": cfg.BankCode, "bank_name": cfg.BankName, "server_url": cfg.ServerURL})
				}
				c.printJSON(out)
				return nil
			}
			if len(cfgs) == 0 {
				fmt.Fprintln(c.stdout, c.say("金融機関が設定されていません。当金庫から届いた設定ファイルを inkanctl bank add FILE で追加してください", "no bank is configured: inkanctl bank add FILE"))
			}
			for _, cfg := range cfgs {
				fmt.Fprintf(c.stdout, "%s  %-24s %s\n", cfg.BankCode, cfg.BankName, cfg.ServerURL)
			}
			return nil
		},
	}

	var deleteCerts bool
	remove := &cobra.Command{
		Use:   "remove CODE [--delete-certificates]",
		Short: "Remove a bank; its certificates stay on this PC unless --delete-certificates",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := c.banks()
			if err != nil {
				return err
			}
			a, err := b.Bank(args[0])
			if err != nil {
				return err
			}
			ids, err := a.Identities(cmd.Context())
			if err != nil {
				return err
			}
			if len(ids) > 0 && !deleteCerts {
				return &usageError{fmt.Sprintf(c.say("この PC には %s の電子証明書が %d 件あります。必要ならまずバックアップし、--delete-certificates を付けて削除してください。残す場合は削除しないでください", "%s has %d certificate(s) on this PC: back them up first if you need them, then remove the bank with --delete-certificates, or keep them by not removing it"), a.Config().BankName, len(ids))}
			}
			for _, id := range ids {
				if err := a.Delete(cmd.Context(), id.Fingerprint); err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, c.say("%s を削除しました（拇印 %s）\n", "deleted %s (%s)\n"), id.Label, id.Fingerprint)
			}
			if err := agent.RemoveBank(c.bankDir(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, c.say("%s %s を削除しました\n", "removed %s %s\n"), a.Config().BankCode, a.Config().BankName)
			return nil
		},
	}
	remove.Flags().BoolVar(&deleteCerts, "delete-certificates", false, "also delete the bank's certificates and keys from this PC")
	bank.AddCommand(add, list, remove)
	return bank
}
