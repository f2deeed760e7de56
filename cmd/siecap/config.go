package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/siecap/siecap/ctl"
	"github.com/siecap/siecap/internal/buildinfo"
	"github.com/siecap/siecap/internal/config"
)

func newConfigCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check and print the daemon's configuration",
		Long: `config validates a configuration file offline and prints the effective
configuration: the file (` + config.DefaultPath + ` by default), then the
SIECAP_* environment variables (SIECAP_SPOOL_DIR sets spool.dir), then
--set flags.`,
	}
	cmd.AddCommand(newConfigValidateCommand(), newConfigShowCommand())
	return cmd
}

func newConfigValidateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a configuration file; problems are reported with their line",
		Long: `validate checks FILE as the daemon would, without the environment, and
reports every problem with its line. The channel, operator and group alias
files a channel names are read. Exit status: 0 valid, 1 invalid, 2 usage.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := config.Load(args[0], nil, nil)
			if err != nil {
				return reportConfigError(cmd, err)
			}
			cmd.Printf("%s: valid, %d interface(s), %d channel(s)\n", args[0], len(c.Interfaces), len(c.Channels))
			return nil
		},
	}
}

func newConfigShowCommand() *cobra.Command {
	var path string
	var sets []string
	var demo bool
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration (file, then environment, then --set)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			flags := map[string]string{}
			for _, s := range sets {
				k, v, ok := strings.Cut(s, "=")
				if !ok {
					return usageError("--set %q: want KEY=VALUE (keys: %s)", s, strings.Join(config.Keys(), ", "))
				}
				flags[k] = v
			}
			var c *config.Config
			var err error
			if demo {
				if path != "" {
					return usageError("--demo and --config exclude each other")
				}
				c, err = config.Parse("built-in demo.toml", config.DemoTOML(), os.Environ(), flags)
			} else {
				c, err = config.Load(path, os.Environ(), flags)
			}
			if err != nil {
				return reportConfigError(cmd, err)
			}
			_, err = cmd.OutOrStdout().Write(c.TOML())
			return err
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "configuration `FILE` (default "+config.DefaultPath+")")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a setting, `KEY=VALUE` (e.g. spool.dir=/srv/spool); repeatable")
	cmd.Flags().BoolVar(&demo, "demo", false, "start from the built-in demo configuration instead of a file")
	return cmd
}

// reportConfigError prints one line per configuration problem and returns
// exit status 1.
func reportConfigError(cmd *cobra.Command, err error) error {
	var list config.Errors
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintln(cmd.ErrOrStderr(), e)
		}
		return &exitError{code: 1}
	}
	return &exitError{code: 1, err: err}
}

// controlOptions are the control API server's options from the
// configuration.
func controlOptions(c *config.Config, log *slog.Logger) ctl.Options {
	cc := c.Control
	return ctl.Options{
		Socket: cc.Socket, SocketMode: fs.FileMode(cc.SocketMode),
		TCP: cc.TCP, TokenFile: cc.TokenFile, TLSCert: cc.TLSCert, TLSKey: cc.TLSKey, ClientCA: cc.ClientCA,
		ReadTimeout: cc.ReadTimeout, WriteTimeout: cc.WriteTimeout, IdleTimeout: cc.IdleTimeout,
		MaxBodyBytes: int(cc.MaxBodyBytes), TailRate: cc.TailRate, TailBuffer: cc.TailBuffer, TailClients: cc.TailClients,
		Version: buildinfo.String(), Logger: log,
	}
}

// ruleSet is the configuration's rules in the control API's form.
func ruleSet(c *config.Config) ctl.RuleSet {
	rs := ctl.RuleSet{Channels: make([]ctl.ChannelRule, 0, len(c.Channels))}
	for _, ch := range c.Channels {
		r := ctl.ChannelRule{Channel: ch.Number, Action: ch.Rules.Action.String(), CountPayloads: ch.Rules.CountPayloads}
		for _, t := range ch.Rules.Types {
			r.Types = append(r.Types, t.String())
		}
		rs.Channels = append(rs.Channels, r)
	}
	return rs
}

// configRules turns a rule set received through the control API (already
// checked by ctl.RuleSet.Validate) into the configuration's form, by
// channel number.
func configRules(rs ctl.RuleSet) (map[uint16]config.Rules, error) {
	out := make(map[uint16]config.Rules, len(rs.Channels))
	for i, r := range rs.Channels {
		cr := config.Rules{CountPayloads: r.CountPayloads}
		if err := cr.Action.UnmarshalText([]byte(r.Action)); err != nil {
			return nil, &ctl.InvalidError{Field: fmt.Sprintf("channels[%d].action", i), Msg: err.Error()}
		}
		for j, s := range r.Types {
			t, err := config.ParseTypeRef(s)
			if err != nil {
				return nil, &ctl.InvalidError{Field: fmt.Sprintf("channels[%d].types[%d]", i, j), Msg: err.Error()}
			}
			cr.Types = append(cr.Types, t)
		}
		out[r.Channel] = cr
	}
	return out, nil
}
