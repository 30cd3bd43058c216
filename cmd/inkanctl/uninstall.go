package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/certstore"
)

// uninstallCommand is what the Windows installer runs when Inkan is removed
// (packaging/windows/inkan.wxs), and what a user or administrator may run by
// hand first. By default the certificates stay on the PC and the user is told
// so; --delete-certificates deletes every one, with its key; --ask lets the
// user choose, in a dialog on Windows, "keep" being the default answer.
func (c *cli) uninstallCommand() *cobra.Command {
	var deleteCerts, ask bool
	cmd := &cobra.Command{
		Use:   "uninstall [--delete-certificates | --ask]",
		Short: "Before Inkan is removed: keep this PC's certificates (default), or delete them all with their keys",
		Long: `uninstall is what the installer runs when Inkan is removed. The certificates
and their keys are kept by default (a later Inkan, or another program, may still
use them), and the command says how many remain. With --delete-certificates every
certificate Inkan put on this PC is deleted, with its key: without a backup, a
deleted certificate must be issued again (再発行) by the bank's administrator.
With --ask the user chooses (on Windows in a dialog whose default is to keep).
The bank is not told either way; nothing is revoked.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Started by the installer, this program got a console window
			// of its own, which would only stand empty beside the dialog.
			leaveOwnConsole()
			if deleteCerts && ask {
				return &usageError{c.say("--delete-certificates と --ask はどちらか一方だけ指定してください", "use --delete-certificates or --ask, not both")}
			}
			store, err := c.uninstallStore()
			if err != nil {
				return err
			}
			ids, err := store.List(cmd.Context(), certstore.ListOptions{})
			if err != nil {
				return err
			}
			caption := c.say("Inkan のアンインストール", "Uninstalling Inkan")
			if ask && len(ids) > 0 {
				deleteCerts, err = askYesNo(caption, c.say(
					fmt.Sprintf("この PC には Inkan の電子証明書が %d 件あります:\n\n%s\n\n証明書と秘密鍵も削除しますか？\n\n「いいえ」(No、既定) を選ぶと、証明書は削除せずに残します。「はい」(Yes) を選ぶと削除します。\n削除した証明書は、バックアップがなければ管理者による再発行が必要です。", len(ids), labels(ids)),
					fmt.Sprintf("This PC holds %d Inkan certificate(s):\n\n%s\n\nDelete the certificates and their private keys too?\n\n\"No\" (the default) keeps them on this PC; \"Yes\" deletes them.\nA deleted certificate without a backup must be reissued by your administrator.", len(ids), labels(ids))), c.stdin, c.stdout)
				if err != nil {
					return err
				}
			}
			if !deleteCerts {
				msg := c.say(
					fmt.Sprintf("この PC の電子証明書 %d 件は削除せずに残します。削除するには、アンインストールの前に inkanctl uninstall --delete-certificates を実行するか、msiexec /x inkan.msi DELETECERTIFICATES=1 でアンインストールしてください。\n", len(ids)),
					fmt.Sprintf("the %d certificate(s) on this PC are kept. To delete them, run inkanctl uninstall --delete-certificates before uninstalling, or uninstall with msiexec /x inkan.msi DELETECERTIFICATES=1\n", len(ids)))
				if c.jsonOut {
					c.printJSON(map[string]any{"kept": len(ids), "deleted": 0})
				} else {
					fmt.Fprint(c.stdout, msg)
				}
				return nil
			}
			deleted, orphans, err := certstore.RemoveAll(cmd.Context(), store)
			if c.jsonOut {
				fps := make([]string, 0, len(deleted))
				for _, id := range deleted {
					fps = append(fps, string(id.Fingerprint))
				}
				if err == nil {
					c.printJSON(map[string]any{"kept": 0, "deleted": len(deleted), "deleted_fingerprints": fps, "deleted_without_key": orphans})
				}
			} else {
				for _, id := range deleted {
					fmt.Fprintf(c.stdout, c.say("%s を削除しました（拇印 %s）\n", "deleted %s (%s)\n"), id.Label, id.Fingerprint)
				}
				if orphans > 0 {
					fmt.Fprintf(c.stdout, c.say("鍵がなくなっていた証明書 %d 件も削除しました\n", "also deleted %d certificate(s) whose key was already gone\n"), orphans)
				}
			}
			if ask {
				done := c.say(fmt.Sprintf("電子証明書 %d 件を削除しました。", len(deleted)), fmt.Sprintf("Deleted %d certificate(s).", len(deleted)))
				if err != nil {
					done = c.say("削除できなかった証明書があります:\n\n", "Some certificates could not be deleted:\n\n") + err.Error()
				}
				tell(caption, done, err != nil)
			}
			if err != nil {
				return fmt.Errorf("delete the certificates: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&deleteCerts, "delete-certificates", false, "delete every certificate Inkan put on this PC, with its key")
	cmd.Flags().BoolVar(&ask, "ask", false, "ask the user whether to delete them (a dialog on Windows; the default answer keeps them)")
	return cmd
}

// uninstallStore opens the store the certificates are in: --store, else the
// first configured bank's, else the OS's own. No bank need be configured.
func (c *cli) uninstallStore() (certstore.Store, error) {
	if c.lang != "" && c.lang != "ja" && c.lang != "en" {
		return nil, &usageError{fmt.Sprintf("--lang %q: ja または en を指定してください (use ja or en)", c.lang)}
	}
	kind := c.storeKind
	if cfgs, err := agent.LoadBanks(c.bankDir(), c.configPath); err == nil && len(cfgs) > 0 {
		if kind == "" {
			kind = cfgs[0].Store
		}
		if c.lang == "" {
			c.lang = cfgs[0].Language
		}
	}
	c.resolveLanguage()
	if kind == "" {
		kind = certstore.DefaultKind()
	}
	return certstore.Open(kind)
}

// labels lists identities one a line, for the dialog.
func labels(ids []*certstore.Identity) string {
	lines := make([]string, 0, len(ids))
	for _, id := range ids {
		lines = append(lines, "・"+id.Label)
	}
	return strings.Join(lines, "\n")
}
