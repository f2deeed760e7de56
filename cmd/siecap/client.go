package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/siecap/siecap/ctl"
)

// clientOptions reach a running daemon: its unix socket (the default) or
// its TCP address with a token or a client certificate.
type clientOptions struct {
	addr      string
	tokenFile string
	cert, key string
	ca        string
	format    string
}

// register adds the flags that reach the daemon and --format.
func (o *clientOptions) register(cmd *cobra.Command) {
	o.registerConn(cmd)
	cmd.PersistentFlags().StringVar(&o.format, "format", "table", "listing format: table or json")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
}

// registerConn adds the flags that reach the daemon.
func (o *clientOptions) registerConn(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	def := os.Getenv("SIECAP_ADDR")
	f.StringVar(&o.addr, "addr", def, "daemon `address`: a unix socket path (default "+ctl.DefaultSocket+") or an http(s):// URL; $SIECAP_ADDR")
	f.StringVar(&o.tokenFile, "token-file", os.Getenv("SIECAP_TOKEN_FILE"), "bearer token `file` for TCP")
	f.StringVar(&o.cert, "cert", "", "client certificate `file` (mTLS)")
	f.StringVar(&o.key, "key", "", "client key `file` (mTLS)")
	f.StringVar(&o.ca, "ca", "", "CA `file` of the daemon's certificate")
}

// checkFormat checks --format where it is registered.
func (o *clientOptions) checkFormat() error {
	if o.format != "" && o.format != "table" && o.format != "json" {
		return usageError("--format must be table or json")
	}
	return nil
}

// with adapts a command body that needs a client of the daemon.
func (o *clientOptions) with(fn func(cmd *cobra.Command, args []string, c *ctl.Client) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, err := o.client()
		if err != nil {
			return err
		}
		defer c.Close()
		return fn(cmd, args, c)
	}
}

func (o *clientOptions) client() (*ctl.Client, error) {
	if err := o.checkFormat(); err != nil {
		return nil, err
	}
	c, err := ctl.NewClient(o.addr, ctl.ClientOptions{TokenFile: o.tokenFile, CertFile: o.cert, KeyFile: o.key, CAFile: o.ca})
	if err != nil {
		return nil, fmt.Errorf("connect to daemon: %w", err)
	}
	return c, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newStatusCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the running daemon's status",
		Args:  cobra.NoArgs,
		RunE: o.with(func(cmd *cobra.Command, _ []string, c *ctl.Client) error {
			st, err := c.Status(cmd.Context())
			if err != nil {
				return fmt.Errorf("status: %w", err)
			}
			if o.format == "json" {
				return printJSON(cmd.OutOrStdout(), st)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "version\t%s\nnode\t%d\nstarted\t%s\nready\t%v\nchannels\t%d\n", st.Version, st.Node, st.Started.Format(time.RFC3339), st.Ready, st.Channels)
			for _, i := range st.Interfaces {
				fmt.Fprintf(tw, "interface\t%s up=%v filter=%s sockets=%d\n", i.Name, i.Up, i.FilterName(), i.Sockets)
			}
			return tw.Flush()
		}),
	}
}

func newChannelsCommand(o *clientOptions) *cobra.Command {
	var seen bool
	cmd := &cobra.Command{
		Use:   "channels",
		Short: "List the channels and their counters (--seen: traffic on unconfigured VLANs and addresses)",
		Args:  cobra.NoArgs,
		RunE: o.with(func(cmd *cobra.Command, _ []string, c *ctl.Client) error {
			chs, err := c.Channels(cmd.Context())
			if err != nil {
				return fmt.Errorf("channels: %w", err)
			}
			if o.format == "json" {
				if seen {
					return printJSON(cmd.OutOrStdout(), chs.Discovered)
				}
				return printJSON(cmd.OutOrStdout(), chs.Channels)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', tabwriter.AlignRight)
			if seen {
				fmt.Fprintln(tw, "VLAN\tADDRESS\tPACKETS\tBYTES\t")
				for _, d := range chs.Discovered {
					fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t\n", d.VLAN, d.Address, d.Packets, d.Bytes)
				}
				return tw.Flush()
			}
			fmt.Fprintln(tw, "CHANNEL\tACTION\tDEDUPE\tKERNEL-DROPPED\tCAPTURED\tFILTERED\tDEDUPED\tSTORED\tLOST\t")
			for _, ch := range chs.Channels {
				k := ch.Counters
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", ch.Number, ch.Action, ch.Dedupe,
					k["kernel_dropped"], k["captured"], k["filtered"], k["deduped"], k["stored"], k["lost"])
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&seen, "seen", false, "list NMSG traffic the kernel saw on no configured channel")
	return cmd
}

func newRulesCommand(o *clientOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "rules", Short: "Show or replace the channels' rules"}
	cmd.AddCommand(&cobra.Command{
		Use:   "get",
		Short: "List every channel's rule (--format json writes what rules set reads)",
		Args:  cobra.NoArgs,
		RunE: o.with(func(cmd *cobra.Command, _ []string, c *ctl.Client) error {
			rs, err := c.Rules(cmd.Context())
			if err != nil {
				return fmt.Errorf("rules get: %w", err)
			}
			return o.printRules(cmd.OutOrStdout(), rs)
		}),
	}, &cobra.Command{
		Use:   "set FILE",
		Short: "Replace every channel's rules at once from a JSON file (- for standard input); lists the rules now in force",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, closeFn, err := openInput(args[0], cmd.InOrStdin())
			if err != nil {
				return err
			}
			defer closeFn()
			var rs ctl.RuleSet
			dec := json.NewDecoder(r)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&rs); err != nil {
				return usageError("rules set: parse %s: %v", args[0], err)
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			defer c.Close()
			got, err := c.SetRules(cmd.Context(), rs)
			if err != nil {
				return fmt.Errorf("rules set: %w", err)
			}
			return o.printRules(cmd.OutOrStdout(), got)
		},
	})
	return cmd
}

// printRules lists rules as a table or as the JSON rules set reads.
func (o *clientOptions) printRules(w io.Writer, rs ctl.RuleSet) error {
	if o.format == "json" {
		return printJSON(w, rs)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANNEL\tACTION\tTYPES")
	for _, r := range rs.Channels {
		types := strings.Join(r.Types, ",")
		if types == "" {
			types = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", r.Channel, r.Action, types)
	}
	return tw.Flush()
}

func newTailCommand(o *clientOptions) *cobra.Command {
	var channel int
	var count, rate int
	cmd := &cobra.Command{
		Use:   "tail --channel N",
		Short: "Print a channel's live payloads as nmsgtool-style JSON lines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if channel < 0 || channel > 4095 {
				return usageError("tail: --channel must be 0 to 4095")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			out := cmd.OutOrStdout()
			err = c.Tail(ctx, uint16(channel), ctl.TailOptions{Rate: rate, Count: count}, func(line []byte) error {
				_, err := out.Write(line)
				return err
			})
			if err != nil && ctx.Err() == nil {
				return fmt.Errorf("tail: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&channel, "channel", -1, "channel `number`")
	cmd.Flags().IntVar(&count, "count", 0, "stop after `n` payloads")
	cmd.Flags().IntVar(&rate, "rate", 0, "at most `n` payloads per second")
	_ = cmd.MarkFlagRequired("channel")
	return cmd
}

// topColumns are the per-channel counters siecap top shows as rates.
var topColumns = []struct{ head, counter string }{
	{"KDROP/s", "kernel_dropped"},
	{"CAPT/s", "captured"},
	{"FILT/s", "filtered"},
	{"DEDUP/s", "deduped"},
	{"STORE/s", "stored"},
	{"LOST", "lost"},
}

func newTopCommand(o *clientOptions) *cobra.Command {
	var seconds int
	cmd := &cobra.Command{
		Use:   "top",
		Short: "Live 1 Hz view of every channel's payload rates and drop counters",
		Long: `top polls the daemon once a second and shows, per channel, payloads per second
dropped in the kernel, captured, filtered, deduped and stored, and the total
lost. When standard output is not a terminal it prints one plain line per
second (the channels one after another) instead of redrawing the screen.`,
		Args: cobra.NoArgs,
		RunE: o.with(func(cmd *cobra.Command, _ []string, c *ctl.Client) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if seconds > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, time.Duration(seconds)*time.Second)
				defer cancel()
			}
			out := cmd.OutOrStdout()
			tty := false
			if f, ok := out.(*os.File); ok {
				tty = term.IsTerminal(int(f.Fd()))
			}
			return runTop(ctx, c, out, tty)
		}),
	}
	cmd.Flags().IntVar(&seconds, "seconds", 0, "stop after `n` seconds (0: until interrupted)")
	return cmd
}

func runTop(ctx context.Context, c *ctl.Client, out io.Writer, tty bool) error {
	prev := map[uint16]map[string]uint64{}
	last := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		chs, err := c.Channels(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("top: %w", err)
		}
		now := time.Now()
		dt := now.Sub(last).Seconds()
		var b strings.Builder
		if tty {
			b.WriteString("\x1b[H\x1b[2J")
			fmt.Fprintf(&b, "siecap top  %s\n\n", now.Format("15:04:05"))
		}
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', tabwriter.AlignRight)
		if tty {
			fmt.Fprint(tw, "CHANNEL\t")
			for _, col := range topColumns {
				fmt.Fprintf(tw, "%s\t", col.head)
			}
			fmt.Fprintln(tw)
		}
		if !tty {
			fmt.Fprint(tw, now.Format(time.RFC3339))
		}
		for i, ch := range chs.Channels {
			p := prev[ch.Number]
			switch {
			case tty:
				fmt.Fprintf(tw, "%d\t", ch.Number)
			case i == 0:
				fmt.Fprintf(tw, " channel %d", ch.Number)
			default:
				fmt.Fprintf(tw, " | channel %d", ch.Number)
			}
			for _, col := range topColumns {
				v := ch.Counters[col.counter]
				shown := strconv.FormatUint(v, 10)
				if col.counter != "lost" {
					rate := 0.0
					if p != nil && dt > 0 {
						rate = float64(v-p[col.counter]) / dt
					}
					shown = strconv.FormatFloat(rate, 'f', 0, 64)
				}
				if tty {
					fmt.Fprintf(tw, "%s\t", shown)
				} else {
					fmt.Fprintf(tw, " %s=%s", strings.ToLower(strings.TrimSuffix(col.head, "/s")), shown)
				}
			}
			if tty {
				fmt.Fprintln(tw)
			}
			prev[ch.Number] = ch.Counters
		}
		if !tty {
			fmt.Fprintln(tw)
		}
		tw.Flush()
		if _, err := io.WriteString(out, b.String()); err != nil {
			return err
		}
		last = now
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// addClientCommands adds the commands that talk to a running daemon.
func addClientCommands(root *cobra.Command) {
	var o clientOptions
	cmds := []*cobra.Command{newStatusCommand(&o), newChannelsCommand(&o), newRulesCommand(&o), newTailCommand(&o), newTopCommand(&o)}
	for _, c := range cmds {
		o.register(c)
	}
	root.AddCommand(cmds...)
}
