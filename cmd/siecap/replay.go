package main

import (
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/siecap/siecap/lab"
)

func newReplayCommand() *cobra.Command {
	var f labFlags
	var cfg lab.ReplayConfig
	var vlan, pps, bps string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "replay FILE",
		Short: "Send an NMSG file's payloads into the lab's SIE link at a given rate",
		Long: `replay reads an NMSG file (as nmsgtool writes it) and sends its payloads into the
lab's SIE link on one channel, repacked into datagram-sized containers with
fresh sequence numbers, as nmsgtool does when it reads a file and writes to
UDP. A progress bar shows the file's bytes, the ETA and the frames per second.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if cfg.VLAN, err = lab.ParseVLANMode(vlan); err != nil {
				return usageError("replay: %v", err)
			}
			if cfg.PPS, err = parseRate(pps); err != nil {
				return usageError("replay: --pps: %v", err)
			}
			if cfg.BPS, err = parseRate(bps); err != nil {
				return usageError("replay: --bps: %v", err)
			}
			if err := lab.CheckChannel(cfg.Channel); err != nil {
				return usageError("replay: %v", err)
			}
			file, err := os.Open(args[0])
			if err != nil {
				return fmt.Errorf("replay: %w", err)
			}
			defer file.Close()
			fi, err := file.Stat()
			if err != nil {
				return fmt.Errorf("replay: %w", err)
			}
			l, err := lab.Open(f.prefix, f.stateDir)
			if err != nil {
				return fmt.Errorf("replay: %w", err)
			}
			defer l.Close()
			var bar *progressbar.ProgressBar
			if !quiet {
				bar = progressbar.NewOptions64(fi.Size(),
					progressbar.OptionSetWriter(cmd.ErrOrStderr()),
					progressbar.OptionSetDescription(fmt.Sprintf("channel %d", cfg.Channel)),
					progressbar.OptionShowBytes(true),
					progressbar.OptionSetPredictTime(true),
					progressbar.OptionThrottle(100*1000*1000),
					progressbar.OptionShowElapsedTimeOnFinish(),
				)
				start := time.Now()
				cfg.Progress = func(off int64, sent lab.ChannelStats) {
					secs := time.Since(start).Seconds()
					if secs > 0 {
						bar.Describe(fmt.Sprintf("channel %d, %.0f pps", cfg.Channel, float64(sent.Frames)/secs))
					}
					_ = bar.Set64(off)
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			st, dstats, err := l.Replay(ctx, file, cfg)
			if bar != nil {
				_ = bar.Finish()
				fmt.Fprintln(cmd.ErrOrStderr())
			}
			if st != nil {
				printFeedStats(cmd.OutOrStdout(), st)
			}
			if d := dstats.Damage(); d != 0 {
				cmd.PrintErrf("replay: %d damaged containers skipped: %s\n", d, dstats.String())
			}
			if err != nil {
				return fmt.Errorf("replay: %w", err)
			}
			return nil
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.IntVar(&cfg.Channel, "channel", 202, "send on channel `N` (1..511)")
	fl.StringVar(&vlan, "vlan", "inline", "carry the VLAN id as `MODE`: inline, metadata or none")
	fl.BoolVar(&cfg.Zlib, "zlib", false, "compress every container")
	fl.IntVar(&cfg.ContainerSize, "container-size", 8192, "largest container in bytes")
	fl.IntVar(&cfg.MTU, "mtu", 0, "IP MTU: larger datagrams are IP-fragmented (default: the link's)")
	fl.StringVar(&pps, "pps", "10k", "limit to `RATE` frames per second (0: no limit)")
	fl.StringVar(&bps, "bps", "0", "limit to `RATE` frame bits per second (0: no limit)")
	fl.BoolVar(&quiet, "quiet", false, "no progress bar")
	return cmd
}
