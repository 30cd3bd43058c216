package main

import (
	"context"
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
	var scenario string
	cmd := &cobra.Command{
		Use:   "demo --data DIR [--scenario all-states]",
		Short: "Create a demo contract: an admin, an approver and two general users, certificates awaiting pickup (or, with --scenario all-states, an ID for every state)",
		Long: `Create a demo contract in a data directory made by init --demo.

By default: an admin, an approver and two general users whose certificates
await pickup (80 days).

--scenario all-states: an ID for every state a user can meet, so that a demo
shows them all today. The server issues each certificate on the day (from
today) the table says, on a shifted clock; the PICKUP column is the day the
real agent must pick it up on (serve --demo-shift-days DAY, then inkanctl
pickup), and THEN what the admin does after the pickups, today: revoke it,
issue a new one (the one on the PC is superseded), or lock it with wrong
passwords. scripts/run.sh --scenario all-states does all of that. The policy's
auto_renew is turned off, so that the agent does not renew the certificates
whose renewal window is open before they are seen. The data directory must
have been made with init --demo --demo-shift-days older than the oldest day.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch scenario {
			case "":
				return c.withServer(func(s *server.Server) error { return c.demoContract(cmd.Context(), s) })
			case "all-states":
				return c.demoAllStates(cmd.Context())
			}
			return fmt.Errorf("--scenario %q: the only scenario is all-states / シナリオは all-states のみです", scenario)
		},
	}
	cmd.Flags().StringVar(&scenario, "scenario", "", "all-states: an ID for every state (valid, in the renewal window, 10 days left, expired but renewable, expired too long, revoked, superseded, locked, awaiting pickup, pickup lapsed, never issued)")
	return cmd
}

// demoContract is the default demo: four IDs whose certificates await pickup.
func (c *cli) demoContract(ctx context.Context, s *server.Server) error {
	op := s.Operator()
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
