package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/server/store/sqlite"
)

func (c *cli) dbCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "Back up and restore the SQLite database, or migrate it to PostgreSQL"}
	var to, from string
	backup := &cobra.Command{
		Use:   "backup --data DIR --to FILE",
		Short: "Write a consistent, checked copy of inkan.db to FILE; safe while serve runs (the way to copy the database)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := c.databasePath()
			if err != nil {
				return err
			}
			if to == "" {
				return errors.New("--to FILE is required: where to write the backup")
			}
			if err := sqlite.Backup(cmd.Context(), path, to); err != nil {
				return err
			}
			version, err := sqlite.Check(cmd.Context(), to)
			if err != nil {
				return err
			}
			return c.print(map[string]any{"backup": to, "schema_version": version},
				fmt.Sprintf("backed up %s to %s (schema version %d, integrity ok)\n", path, to, version))
		},
	}
	backup.Flags().StringVar(&to, "to", "", "the new backup file (must not exist)")
	restore := &cobra.Command{
		Use:   "restore --data DIR --from FILE",
		Short: "Replace inkan.db with a checked backup; refused while serve or anything else has the database open",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := c.databasePath()
			if err != nil {
				return err
			}
			if from == "" {
				return errors.New("--from FILE is required: the backup to restore")
			}
			saved, err := sqlite.Restore(cmd.Context(), path, from)
			if err != nil {
				return err
			}
			version, err := sqlite.Check(cmd.Context(), path)
			if err != nil {
				return fmt.Errorf("restored database does not check: %w", err)
			}
			human := fmt.Sprintf("restored %s from %s (schema version %d, integrity ok)\n", path, from, version)
			if saved != "" {
				human += fmt.Sprintf("the database it replaced is kept as %s\n", saved)
			}
			return c.print(map[string]any{"restored": path, "from": from, "previous": saved, "schema_version": version}, human)
		},
	}
	restore.Flags().StringVar(&from, "from", "", "the backup file written by db backup")
	cmd.AddCommand(backup, restore, c.dbMigrateCmd())
	return cmd
}

// databasePath is the SQLite database of --data.
func (c *cli) databasePath() (string, error) {
	if c.dataDir == "" {
		return "", errors.New("--data is required")
	}
	return filepath.Join(c.dataDir, server.DatabaseFile), nil
}
