package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/siecap/siecap/internal/config"
	"github.com/siecap/siecap/internal/sdnotify"
)

type runOptions struct {
	configPath string
	builtin    bool
	readyFile  string
	overrides  map[string]*string
}

func newRunCommand() *cobra.Command {
	o := runOptions{overrides: map[string]*string{}}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the appliance: kernel filter, capture, pipelines, spool and control API",
		Long: `run is the siecap daemon. It reads its configuration (TOML, /etc/siecap/siecap.toml
by default; SIECAP_* environment variables override the file and flags
override both), loads the kernel pre-filter (XDP where the driver takes it,
otherwise a socket filter on every capture socket), captures the SIE
interfaces, decodes, filters, dedupes and compresses every channel into the
spool, and serves the control API.

SIGHUP re-reads the configuration and replaces rules and channels without
stopping the capture; SIGTERM or SIGINT drains the rings, seals the spool and
exits. It tells systemd when it is ready (Type=notify).

As a user other than root it needs CAP_NET_RAW, CAP_NET_ADMIN and CAP_BPF
(packaging/systemd/siecap.service grants them) and names any it lacks.
Without CAP_PERFMON it loads the kernel filter's hardened build, which the
BPF verifier accepts under its Spectre mitigations and which costs more per
frame; status and the log say which build runs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDaemon(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.configPath, "config", "c", config.DefaultPath, "configuration `file`")
	f.BoolVar(&o.builtin, "builtin", false, "use the built-in demonstration configuration instead of a file")
	f.StringVar(&o.readyFile, "ready-file", "", "create `file` once the daemon is ready (for scripts and tests)")
	for _, ov := range []struct{ key, flag, help string }{
		{"spool.dir", "spool-dir", "spool `directory`"},
		{"control.socket", "socket", "control API unix socket `path`"},
		{"control.tcp", "listen", "also serve the control API on TCP `host:port`"},
		{"capture.filter", "filter", "kernel filter: auto, xdp, socket or off"},
		{"log_level", "log-level", "log `level`: debug, info, warn or error"},
	} {
		o.overrides[ov.key] = f.String(ov.flag, "", ov.help)
	}
	return cmd
}

func (o runOptions) load() (*config.Config, error) {
	flags := map[string]string{}
	for k, v := range o.overrides {
		if *v != "" {
			flags[k] = *v
		}
	}
	if o.builtin {
		return config.Parse("built-in configuration", config.DemoTOML(), os.Environ(), flags)
	}
	return config.Load(o.configPath, os.Environ(), flags)
}

func runDaemon(cmd *cobra.Command, o runOptions) error {
	cfg, err := o.load()
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("run: %w", err)}
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: cfg.LogLevel}))
	d := &daemon{log: log, cfg: cfg, started: time.Now()}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	if err := d.start(); err != nil {
		return &exitError{code: 1, err: fmt.Errorf("run: %w", err)}
	}
	status := d.status()
	if _, err := sdnotify.Ready(status); err != nil {
		log.Warn("tell systemd", "err", err)
	}
	if o.readyFile != "" {
		if err := os.WriteFile(o.readyFile, []byte(status+"\n"), 0o644); err != nil {
			log.Warn("write ready file", "err", err)
		}
		defer os.Remove(o.readyFile)
	}
	log.Info("ready", "status", status)

	for sig := range sigs {
		if sig == syscall.SIGHUP {
			// systemd's reload protocol: RELOADING=1, then READY=1
			// once the new configuration is in place or refused.
			_, _ = sdnotify.Reloading()
			if err := d.reload(o); err != nil {
				log.Error("reload refused", "err", err)
			}
			if _, err := sdnotify.Ready(d.status()); err != nil {
				log.Warn("tell systemd", "err", err)
			}
			continue
		}
		log.Info("stopping", "signal", sig.String())
		_, _ = sdnotify.Stopping()
		start := time.Now()
		err := d.stop()
		log.Info("stopped", "took", time.Since(start).Round(time.Millisecond))
		if err != nil {
			return &exitError{code: 1, err: fmt.Errorf("run: %w", err)}
		}
		return nil
	}
	return nil
}

// status is the daemon's one-line state for systemd and the ready file.
func (d *daemon) status() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return fmt.Sprintf("capturing %d channels on %d interfaces", len(d.chans), len(d.ifaces))
}

// reload re-reads the configuration: new rules replace the old ones
// atomically, channels are added (with their pipelines) or no longer
// routed; VLAN sub-interfaces follow the channels. Interfaces, set-up,
// capture, spool and control settings need a restart.
func (d *daemon) reload(o runOptions) error {
	next, err := o.load()
	if err != nil {
		return fmt.Errorf("reload configuration: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if fmt.Sprint(next.Interfaces, next.Setup, next.Capture, next.Spool, next.Control) != fmt.Sprint(d.cfg.Interfaces, d.cfg.Setup, d.cfg.Capture, d.cfg.Spool, d.cfg.Control) {
		d.log.Warn("interface, set-up, capture, spool and control settings change only on restart")
	}
	next.Interfaces, next.Setup, next.Capture, next.Spool, next.Control = d.cfg.Interfaces, d.cfg.Setup, d.cfg.Capture, d.cfg.Spool, d.cfg.Control
	chans := make(map[uint16]*channel, len(next.Channels))
	for _, cc := range next.Channels {
		c := d.chans[cc.Number]
		if c == nil {
			var err error
			if c, err = d.newChannel(cc, next.Capture.RingSize); err != nil {
				return err
			}
			d.chans[cc.Number] = c
			d.log.Info("channel added", "channel", cc.Number)
		}
		c.cfg.VLAN, c.cfg.Addresses = cc.VLAN, cc.Addresses
		chans[cc.Number] = c
	}
	// A channel no longer configured is no longer routed; its pipeline
	// keeps what it holds until shutdown (a capture reader may be inside
	// it right now).
	for n, c := range d.chans {
		if _, ok := chans[n]; !ok {
			d.retired = append(d.retired, c)
			delete(d.chans, n)
			d.log.Info("channel removed", "channel", n)
		}
	}
	if err := d.applyRules(next); err != nil {
		return err
	}
	d.routes.Store(newRoutes(chans))
	// Capture runs on the parents: a sub-interface that failed to follow
	// the channels costs no traffic, so it is reported, not refused.
	if err := d.setup.Sync(setupVLANs(next)); err != nil {
		d.log.Error("VLAN sub-interfaces do not follow the channels", "err", err)
	}
	return nil
}
