package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"

	"github.com/siecap/siecap/lab"
	"github.com/siecap/siecap/lab/synth"
)

func newGenCommand() *cobra.Command {
	var f labFlags
	var channels, mix, vlan, pps, bps string
	var cfg lab.FeedConfig
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Send a synthetic SIE feed into the lab's SIE link",
		Long: `gen sends NMSG datagrams of SIE/dnsdedupe, SIE/newdomain and base/dnsqr payloads
from the lab's switch namespace into the SIE link, round robin over the
channels, through an AF_PACKET TX ring (--tx-rings N: N rings on N threads, each
sending its share of the channels, for more than one core can send). Channel N's datagrams go from
198.18.N.1 to the broadcast address of its /24, port 8430, with VLAN id N:
inline in the frame (--vlan inline, sent with PACKET_QDISC_BYPASS), as
metadata (--vlan metadata: tc egress moves the tag, the way a NIC with VLAN
offload delivers it; slower), or untagged (--vlan none). It stops after
--duration or --count datagrams, whichever comes first, and prints what it
sent per channel.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if channels != "" {
				if cfg.Channels, err = parseChannels(channels); err != nil {
					return usageError("gen: %v", err)
				}
			}
			if cfg.Mix, err = synth.ParseMix(mix); err != nil {
				return usageError("gen: %v", err)
			}
			if cfg.VLAN, err = lab.ParseVLANMode(vlan); err != nil {
				return usageError("gen: %v", err)
			}
			if cfg.PPS, err = parseRate(pps); err != nil {
				return usageError("gen: --pps: %v", err)
			}
			if cfg.BPS, err = parseRate(bps); err != nil {
				return usageError("gen: --bps: %v", err)
			}
			if cfg.RepeatShare < 0 || cfg.RepeatShare > 1 || cfg.LargeShare < 0 || cfg.LargeShare > 1 {
				return usageError("gen: --repeat and --large are shares between 0 and 1")
			}
			if cfg.TXRings < 1 || cfg.TXRings > lab.MaxTXRings {
				return usageError("gen: --tx-rings must be between 1 and %d", lab.MaxTXRings)
			}
			if cfg.TXBatch < 0 {
				return usageError("gen: --tx-batch must not be negative")
			}
			if cfg.Duration < 0 || cfg.Duration > 24*time.Hour {
				return usageError("gen: --duration must be between 0 and 24h")
			}
			l, err := lab.Open(f.prefix, f.stateDir)
			if err != nil {
				return fmt.Errorf("gen: %w", err)
			}
			defer l.Close()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			st, err := l.Feed(ctx, cfg)
			if st != nil {
				if asJSON {
					enc := json.NewEncoder(cmd.OutOrStdout())
					enc.SetIndent("", "  ")
					if jerr := enc.Encode(st); jerr != nil {
						return fmt.Errorf("gen: %w", jerr)
					}
				} else {
					printFeedStats(cmd.OutOrStdout(), st)
				}
			}
			if err != nil {
				return fmt.Errorf("gen: %w", err)
			}
			return nil
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&channels, "channels", "", "send on `LIST` of channels (e.g. 202,204 or 200-210; default: the lab's)")
	fl.StringVar(&mix, "mix", synth.DefaultMix.String(), "weigh the payload types with `LIST` (dnsdedupe=N,newdomain=N,dnsqr=N)")
	fl.Float64Var(&cfg.RepeatShare, "repeat", 0.3, "share of payloads repeating a recent one byte for byte")
	fl.Float64Var(&cfg.LargeShare, "large", 0, "share of dnsqr payloads with a 2-6 KB answer (NMSG fragments with small containers)")
	fl.Uint64Var(&cfg.Seed, "seed", 1, "generator seed (channel N uses seed+N)")
	fl.StringVar(&vlan, "vlan", "inline", "carry VLAN ids as `MODE`: inline, metadata or none")
	fl.BoolVar(&cfg.Zlib, "zlib", false, "compress every container")
	fl.IntVar(&cfg.ContainerSize, "container-size", 8192, "largest container in bytes (512..)")
	fl.IntVar(&cfg.MTU, "mtu", 0, "IP MTU: larger datagrams are IP-fragmented (default: the link's)")
	fl.StringVar(&pps, "pps", "0", "limit to `RATE` frames per second (k, M suffixes; 0: no limit)")
	fl.StringVar(&bps, "bps", "0", "limit to `RATE` frame bits per second (k, M, G suffixes; 0: no limit)")
	fl.DurationVar(&cfg.Duration, "duration", 10*time.Second, "stop after this long (0: only --count)")
	fl.Uint64Var(&cfg.Count, "count", 0, "stop after this many datagrams over all channels, finishing a fragment set (0: only --duration)")
	fl.IntVar(&cfg.Pool, "pool", 0, "pre-generate `N` containers per channel and cycle through them renumbered (fast path; 0: every payload live)")
	fl.IntVar(&cfg.TXFrames, "tx-frames", 0, "frames in the TX ring (default 512; with --pool, one cycle through the pools if at most 4096)")
	fl.IntVar(&cfg.TXRings, "tx-rings", 1, "send from `N` TX rings at once, each on its own thread, the channels dealt out to them in turn (at most the number of channels)")
	fl.IntVar(&cfg.TXBatch, "tx-batch", 0, "hand the kernel `N` frames per send call (default: half the TX ring)")
	fl.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func printFeedStats(w io.Writer, st *lab.FeedStats) {
	fmt.Fprintf(w, "%-8s %-5s %12s %12s %12s %15s %15s\n", "channel", "vlan", "datagrams", "frames", "payloads", "bytes", "frame_bytes")
	row := func(name, vlan string, c lab.ChannelStats) {
		fmt.Fprintf(w, "%-8s %-5s %12d %12d %12d %15d %15d\n", name, vlan, c.Datagrams, c.Frames, c.Payloads, c.Bytes, c.FrameBytes)
	}
	for _, c := range st.Channels {
		v := "-"
		if c.VLAN >= 0 {
			v = fmt.Sprint(c.VLAN)
		}
		row(fmt.Sprint(c.Channel), v, c)
	}
	tot := st.Total()
	row("total", st.VLAN, tot)
	secs := st.Elapsed.Seconds()
	if secs > 0 {
		fmt.Fprintf(w, "sent %d frames in %.3f s: %.0f pps, %.2f Gbit/s (vlan %s); tx ring: %d send calls, %d wrong format, %d send errors\n",
			tot.Frames, secs, float64(tot.Frames)/secs, float64(tot.FrameBytes)*8/secs/1e9, st.VLAN,
			st.TX.SendCalls, st.TX.WrongFormat, st.TX.SendErrors)
	}
}
