package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/siecap/siecap/internal/buildinfo"
)

// newManCommand writes the man pages, one per command, generated from the
// commands themselves (make man). It is hidden: packaging runs it.
func newManCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:    "man --dir DIR",
		Short:  "Write the man pages of every command into DIR",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("man: create %s: %w", dir, err)
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			header := &doc.GenManHeader{Title: "SIECAP", Section: "1", Source: "siecap " + buildinfo.String(), Manual: "siecap manual"}
			if err := doc.GenManTree(root, header, dir); err != nil {
				return fmt.Errorf("man: write pages: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "write the pages into `DIR`")
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}
