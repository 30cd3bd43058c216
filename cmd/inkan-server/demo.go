package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/wire"
)

// demoUser is one ID the demo creates, with the password it printed.
type demoUser struct {
	LoginID  string    `json:"login_id"`
	Role     wire.Role `json:"role"`
	Password string    `json:"password"`
}

func (c *cli) demoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "demo --data DIR",
		Short: "Create a demo contract: an admin, an approver and two general users, certificates awaiting pickup",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withServer(func(s *server.Server) error {
				op := s.Operator()
				ctx := cmd.Context()
				name := "デモ商事株式会社"
				cid, err := op.CreateContract(ctx, name)
				if err != nil {
					return err
				}
				users := []demoUser{
					{LoginID: "demo-admin", Role: wire.RoleAdmin},
					{LoginID: "demo-approver", Role: wire.RoleApprover},
					{LoginID: "demo-general1", Role: wire.RoleGeneral},
					{LoginID: "demo-general2", Role: wire.RoleGeneral},
				}
				var b strings.Builder
				fmt.Fprintf(&b, "Demo contract %s: %s\nCertificates are issued and wait for pickup (80 days).\n\n", cid, name)
				fmt.Fprintf(&b, "%-16s %-9s %s\n", "LOGIN ID", "ROLE", "PASSWORD")
				for i := range users {
					u := &users[i]
					u.Password = demoPassword()
					if err := op.CreateUser(ctx, cid, u.LoginID, u.Role, u.LoginID, u.LoginID+"@demo.example.jp", u.Password); err != nil {
						return err
					}
					if err := op.IssueCertificate(ctx, u.LoginID); err != nil {
						return err
					}
					fmt.Fprintf(&b, "%-16s %-9s %s\n", u.LoginID, u.Role, u.Password)
				}
				return c.print(map[string]any{"contract_id": cid, "contract_name": name, "users": users}, b.String())
			})
		},
	}
}

func (c *cli) agentConfigCmd() *cobra.Command {
	var url, out string
	cmd := &cobra.Command{
		Use:   "agent-config --data DIR --url https://HOST:PORT [--out FILE]",
		Short: "Write the bank configuration (wire.BankConfig JSON) shipped to PCs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" {
				return errors.New("--url is required: how PCs reach this server")
			}
			return c.withServer(func(s *server.Server) error {
				bc, err := s.BankConfig(strings.TrimRight(url, "/"))
				if err != nil {
					return err
				}
				data, err := json.MarshalIndent(bc, "", "  ")
				if err != nil {
					return err
				}
				data = append(data, '\n')
				if out == "" {
					_, err = c.out.Write(data)
					return err
				}
				if err := os.WriteFile(out, data, 0o644); err != nil {
					return fmt.Errorf("write agent config: %w", err)
				}
				fmt.Fprintf(c.err, "wrote %s\n", out)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "the server URL PCs use, e.g. https://127.0.0.1:8443")
	cmd.Flags().StringVar(&out, "out", "", "write to FILE instead of stdout")
	return cmd
}

// demoPassword is a random 17-character password that always meets the
// server's password policy (two kinds of character at least): rand.Text's
// base32 alone is sometimes all letters.
func demoPassword() string {
	t := rand.Text()
	return strings.ToLower(t[:8]) + "-" + t[8:16]
}
