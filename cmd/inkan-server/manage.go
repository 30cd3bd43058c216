package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/wire"
)

func (c *cli) contractCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "contract", Short: "Add and list contracts"}
	cmd.AddCommand(&cobra.Command{
		Use:   "add NAME",
		Short: "Record a new contract; prints its ID",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withServer(func(s *server.Server) error {
				id, err := s.Operator().CreateContract(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return c.print(map[string]string{"id": id, "name": args[0]}, fmt.Sprintf("contract %s: %s\n", id, args[0]))
			})
		},
	}, &cobra.Command{
		Use:   "list",
		Short: "List contracts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withServer(func(s *server.Server) error {
				cs, err := s.Operator().ListContracts(cmd.Context())
				if err != nil {
					return err
				}
				var b strings.Builder
				fmt.Fprintf(&b, "%-12s %-6s %-16s %s\n", "ID", "USERS", "MODE", "NAME")
				for _, ct := range cs {
					mode := "id+password"
					if ct.CertificateMode {
						mode = "certificate"
					}
					fmt.Fprintf(&b, "%-12s %-6d %-16s %s\n", ct.ID, ct.Users, mode, ct.Name)
				}
				return c.print(cs, b.String())
			})
		},
	})
	return cmd
}

func (c *cli) userCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Add, list, delete and unlock login IDs, and set their passwords"}
	var contract, role, name, email, pwFile string
	var pwStdin bool
	add := &cobra.Command{
		Use:   "add LOGIN_ID --contract ID --role admin|approver|general",
		Short: "Add a login ID (password from a prompt, --password-file or --password-stdin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			password, err := c.readPassword(pwFile, pwStdin)
			if err != nil {
				return err
			}
			return c.withServer(func(s *server.Server) error {
				if err := s.Operator().CreateUser(cmd.Context(), contract, args[0], wire.Role(role), name, email, password); err != nil {
					return err
				}
				return c.printUser(cmd.Context(), s, args[0])
			})
		},
	}
	add.Flags().StringVar(&contract, "contract", "", "the contract ID")
	add.Flags().StringVar(&role, "role", "", "admin, approver or general")
	add.Flags().StringVar(&name, "name", "", "display name")
	add.Flags().StringVar(&email, "email", "", "where expiry notices go")
	add.MarkFlagRequired("contract")
	add.MarkFlagRequired("role")
	passwordFlags(add, &pwFile, &pwStdin)

	var listContract string
	list := &cobra.Command{
		Use:   "list --contract ID",
		Short: "List a contract's login IDs with their certificate state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withServer(func(s *server.Server) error {
				users, err := s.Operator().ListUsers(cmd.Context(), listContract)
				if err != nil {
					return err
				}
				var b strings.Builder
				fmt.Fprintf(&b, "%-16s %-9s %-16s %-7s %s\n", "LOGIN ID", "ROLE", "CERTIFICATE", "LOCKED", "EXPIRES / PICKUP BY")
				for _, u := range users {
					fmt.Fprintln(&b, userLine(u))
				}
				return c.print(users, b.String())
			})
		},
	}
	list.Flags().StringVar(&listContract, "contract", "", "the contract ID")
	list.MarkFlagRequired("contract")

	var setFile string
	var setStdin bool
	setPassword := &cobra.Command{
		Use:   "set-password LOGIN_ID",
		Short: "Replace a login ID's password (and unlock it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			password, err := c.readPassword(setFile, setStdin)
			if err != nil {
				return err
			}
			return c.withServer(func(s *server.Server) error {
				if err := s.Operator().SetPassword(cmd.Context(), args[0], password); err != nil {
					return err
				}
				return c.printUser(cmd.Context(), s, args[0])
			})
		},
	}
	passwordFlags(setPassword, &setFile, &setStdin)

	cmd.AddCommand(add, list, setPassword,
		c.userAction("delete LOGIN_ID", "Delete a login ID and revoke its certificate", (*server.Operator).DeleteUser, false),
		c.userAction("unlock LOGIN_ID", "Unlock a login ID locked by wrong passwords", (*server.Operator).UnlockUser, true),
	)
	return cmd
}

func passwordFlags(cmd *cobra.Command, file *string, stdin *bool) {
	cmd.Flags().StringVar(file, "password-file", "", "read the password from this file")
	cmd.Flags().BoolVar(stdin, "password-stdin", false, "read the password from stdin")
}

// userAction is a command that acts on one login ID and prints its new state
// (show false: the ID is gone afterwards).
func (c *cli) userAction(use, short string, act func(*server.Operator, context.Context, string) error, show bool) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withServer(func(s *server.Server) error {
				if err := act(s.Operator(), cmd.Context(), args[0]); err != nil {
					return err
				}
				if !show {
					return c.print(map[string]string{"deleted": args[0]}, fmt.Sprintf("deleted %s (its certificate is revoked)\n", args[0]))
				}
				return c.printUser(cmd.Context(), s, args[0])
			})
		},
	}
}

func (c *cli) printUser(ctx context.Context, s *server.Server, loginID string) error {
	u, err := s.Operator().User(ctx, loginID)
	if err != nil {
		return err
	}
	return c.print(u, userLine(u)+"\n")
}

func userLine(u wire.User) string {
	when := ""
	switch {
	case u.Certificate.NotAfter != nil:
		when = u.Certificate.NotAfter.Local().Format("2006-01-02 15:04")
	case u.Certificate.PickupDeadline != nil:
		when = "pick up by " + u.Certificate.PickupDeadline.Local().Format("2006-01-02 15:04")
	}
	return fmt.Sprintf("%-16s %-9s %-16s %-7v %s", u.LoginID, u.Role, u.Certificate.State, u.Locked, when)
}

func (c *cli) certCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "cert", Short: "Issue, revoke, reissue and list certificates"}
	var loginID string
	list := &cobra.Command{
		Use:   "list [--login-id ID]",
		Short: "List certificates (every issuance), newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withServer(func(s *server.Server) error {
				certs, err := s.Operator().ListCertificates(cmd.Context(), loginID)
				if err != nil {
					return err
				}
				var b strings.Builder
				fmt.Fprintf(&b, "%-16s %-16s %-32s %s\n", "LOGIN ID", "STATE", "SERIAL", "NOT AFTER")
				for _, cr := range certs {
					na := ""
					if cr.NotAfter != nil {
						na = cr.NotAfter.Local().Format("2006-01-02 15:04")
					}
					fmt.Fprintf(&b, "%-16s %-16s %-32s %s\n", cr.LoginID, cr.State, cr.Serial, na)
				}
				return c.print(certs, b.String())
			})
		},
	}
	list.Flags().StringVar(&loginID, "login-id", "", "only this login ID")
	cmd.AddCommand(list,
		c.userAction("issue LOGIN_ID", "Issue a certificate: opens the pickup window", (*server.Operator).IssueCertificate, true),
		c.userAction("revoke LOGIN_ID", "Revoke the login ID's certificate at once", (*server.Operator).RevokeCertificate, true),
		c.userAction("reissue LOGIN_ID", "Revoke and open a new pickup window (再発行)", (*server.Operator).ReissueCertificate, true),
	)
	return cmd
}
