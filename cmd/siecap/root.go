package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"

	"github.com/siecap/siecap/internal/buildinfo"
)

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "siecap",
		Short: "Capture appliance for the Security Information Exchange (SIE)",
		Long: `siecap captures the SIE channels its owner subscribes to, filters them in the
kernel, decodes, dedupes and compresses the NMSG they carry, spools it safely
and ships it home. This binary is the daemon, its CLI and the NMSG tools.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageError("%v", err)
	})
	var cpuprofile string
	var profile *os.File
	root.PersistentFlags().StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile to `FILE`")
	_ = root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if cpuprofile == "" {
			return nil
		}
		f, err := os.Create(cpuprofile)
		if err != nil {
			return fmt.Errorf("create profile: %w", err)
		}
		profile = f
		return pprof.StartCPUProfile(f)
	}
	root.PersistentPostRun = func(*cobra.Command, []string) {
		if profile != nil {
			pprof.StopCPUProfile()
			profile.Close()
		}
	}
	root.AddCommand(newDumpCommand(), newVersionCommand(), newBenchdataCommand(), newIngestCommand(), newSpoolCommand(), newLabCommand(), newGenCommand(), newReplayCommand(), newConfigCommand(), newRunCommand(), newDemoCommand())
	root.AddCommand(newManCommand())
	addClientCommands(root)
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.Printf("siecap %s\n", buildinfo.String())
			return nil
		},
	}
}

// isUsage reports whether err is one of cobra's argument or flag errors.
func isUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires ", "invalid argument", "flag needs an argument"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}
