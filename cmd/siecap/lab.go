package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/siecap/siecap/lab"
)

// defaultLabPrefix names the lab the CLI commands use unless told.
const defaultLabPrefix = "siecap"

type labFlags struct {
	prefix   string
	stateDir string
}

func (f *labFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.prefix, "prefix", defaultLabPrefix, "name the lab's namespaces and links with `P` (at most 11 bytes)")
	cmd.Flags().StringVar(&f.stateDir, "state-dir", lab.DefaultStateDir, "keep the lab's state file in `DIR`")
}

func newLabCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lab up|down|status",
		Short: "Build, inspect or remove the network-namespace lab (SIE switch, appliance, receiver)",
		Long: `The lab is three network namespaces: an SIE switch (P-sw), the appliance (P-app)
and a receiver (P-rx). The switch and the appliance are joined by the SIE link
(veth P-sw <-> P-sie, MTU 9000), the appliance and the receiver by the uplink
(veth P-up <-> P-rx, shaped to 100 Mbit/s with TBF on P-up). Channel N (1..511)
uses the N-th /24 of 198.18.0.0/15 (switch .1, appliance .2, datagrams to .255
port 8430) and VLAN id N; channel 0's /24 numbers the uplink (appliance .1,
receiver .2). Enter a namespace with "ip netns exec P-app ...". The lab's state
file (DIR/lab-P.json) lets gen and replay find it and down remove it; down also
finds by name what a crashed run left. status exits with 3 when the lab does
not exist.`,
	}
	cmd.AddCommand(newLabUpCommand(), newLabDownCommand(), newLabStatusCommand())
	return cmd
}

func newLabUpCommand() *cobra.Command {
	var f labFlags
	var channels string
	var mtu int
	var uplink string
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Create the lab",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			chans, err := parseChannels(channels)
			if err != nil {
				return usageError("lab up: %v", err)
			}
			rate, err := parseRate(uplink)
			if err != nil {
				return usageError("lab up: --uplink-rate: %v", err)
			}
			l, err := lab.Up(lab.Config{Prefix: f.prefix, Channels: chans, MTU: mtu, UplinkRate: uint64(rate), StateDir: f.stateDir})
			if err != nil {
				return fmt.Errorf("lab up: %w", err)
			}
			l.Keep()
			defer l.Close()
			cmd.Printf("lab %s up: namespaces %s; SIE link %s <-> %s (MTU %d, channels %s); uplink %s <-> %s at %s\n",
				l.Prefix, strings.Join(l.Names.Namespaces(), " "), l.Names.SwitchLink, l.Names.SIELink, l.MTU,
				formatChannels(l.Channels), l.Names.UplinkLink, l.Names.ReceiverLink, formatRate(rate))
			cmd.Printf("state %s\n", l.StateFile)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&channels, "channels", formatChannels(lab.DefaultChannels), "carry `LIST` of channels (1..511, e.g. 202,204,207 or 200-210)")
	cmd.Flags().IntVar(&mtu, "mtu", lab.DefaultMTU, "MTU of the SIE link")
	cmd.Flags().StringVar(&uplink, "uplink-rate", "100Mbit", "shape the uplink to `RATE` bit/s (k, M, G suffixes)")
	return cmd
}

func newLabDownCommand() *cobra.Command {
	var f labFlags
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Remove the lab (also what a crashed run left behind)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			removed, err := lab.Down(f.prefix, f.stateDir)
			for _, r := range removed {
				cmd.Printf("removed %s\n", r)
			}
			if err != nil {
				return fmt.Errorf("lab down: %w", err)
			}
			if len(removed) == 0 {
				cmd.Printf("lab %s: nothing to remove\n", f.prefix)
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func newLabStatusCommand() *cobra.Command {
	var f labFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Report what exists of the lab, with link counters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := lab.StatusOf(f.prefix, f.stateDir)
			if err != nil {
				return fmt.Errorf("lab status: %w", err)
			}
			if !st.Exists() {
				cmd.Printf("lab %s: down\n", f.prefix)
				return &exitError{code: 3}
			}
			state := st.StateFile
			if state == "" {
				state = "none (leftovers: run lab down)"
			}
			cmd.Printf("lab %s: state %s, channels %s\n", st.Prefix, state, formatChannels(st.Channels))
			for _, n := range lab.NamesFor(f.prefix).Namespaces() {
				if ok, seen := st.Namespaces[n]; seen || ok {
					cmd.Printf("netns %-14s %s\n", n, map[bool]string{true: "present", false: "missing"}[ok])
				}
			}
			for _, ls := range st.Links {
				up := "down"
				if ls.Up {
					up = "up"
				}
				q := ls.Qdisc
				if q == "" {
					q = "-"
				}
				cmd.Printf("link %-14s netns %-14s %-4s mtu %-5d addrs %-3d first %-17s qdisc %-20s rx %d pkts %d drop, tx %d pkts %d drop\n",
					ls.Name, ls.Namespace, up, ls.MTU, ls.Addrs, ls.FirstAddr, q,
					ls.Stats.RxPackets, ls.Stats.RxDropped, ls.Stats.TxPackets, ls.Stats.TxDropped)
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

// parseChannels parses "202,204,300-310".
func parseChannels(s string) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("parse channel %q: not a number", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("parse channel range %q", part)
			}
		}
		for ch := a; ch <= b; ch++ {
			if err := lab.CheckChannel(ch); err != nil {
				return nil, err
			}
			out = append(out, ch)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("parse channels %q: none given", s)
	}
	return out, nil
}

func formatChannels(chans []int) string {
	s := make([]string, len(chans))
	for i, c := range chans {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}

// parseRate parses a rate such as "100Mbit", "2.5G", "400k" or "1e6".
func parseRate(s string) (float64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(s), "bit"), "pps")
	mult := 1.0
	switch {
	case strings.HasSuffix(t, "k"), strings.HasSuffix(t, "K"):
		mult, t = 1e3, t[:len(t)-1]
	case strings.HasSuffix(t, "M"):
		mult, t = 1e6, t[:len(t)-1]
	case strings.HasSuffix(t, "G"):
		mult, t = 1e9, t[:len(t)-1]
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("parse rate %q: want a number with an optional k, M or G", s)
	}
	return v * mult, nil
}

func formatRate(bps float64) string {
	switch {
	case bps >= 1e9:
		return strconv.FormatFloat(bps/1e9, 'f', -1, 64) + " Gbit/s"
	case bps >= 1e6:
		return strconv.FormatFloat(bps/1e6, 'f', -1, 64) + " Mbit/s"
	}
	return strconv.FormatFloat(bps, 'f', -1, 64) + " bit/s"
}
