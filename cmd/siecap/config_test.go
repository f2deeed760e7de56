package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/siecap/siecap/ctl"
	"github.com/siecap/siecap/internal/config"
)

func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	bad := filepath.Join(dir, "bad.toml")
	writeConfig(t, good, "interfaces = [\"eth1\"]\n[[channel]]\nnumber = 204\n")
	writeConfig(t, bad, "interfaces = [\"eth1\"]\n[capture]\nsockets = 0\n[[channel]]\nnumber = 204\nrules = { action = \"deny\", types = [\"SIE:bogus\"] }\n")

	out, errs, code := siecap(t, nil, "config", "validate", good)
	if code != 0 || !strings.Contains(out, "valid") || errs != "" {
		t.Errorf("valid file: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	out, errs, code = siecap(t, nil, "config", "validate", bad)
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if code != 1 || out != "" || len(lines) != 2 ||
		!strings.HasPrefix(lines[0], bad+":3: capture.sockets: ") || !strings.HasPrefix(lines[1], bad+":6: channel[0].rules.types[0]: ") {
		t.Errorf("invalid file: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if _, errs, code = siecap(t, nil, "config", "validate", filepath.Join(dir, "none.toml")); code != 1 || !strings.Contains(errs, "no such file") {
		t.Errorf("missing file: exit %d, stderr %q", code, errs)
	}
	if _, _, code = siecap(t, nil, "config", "validate"); code != 2 {
		t.Errorf("no file: exit %d, want 2", code)
	}
	if _, _, code = siecap(t, nil, "config", "validate", good, bad); code != 2 {
		t.Errorf("two files: exit %d, want 2", code)
	}
}

func TestConfigShow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "siecap.toml")
	writeConfig(t, path, "interfaces = [\"eth1\"]\n[spool]\ndir = \"/from/file\"\n[[channel]]\nnumber = 204\n")
	t.Setenv("SIECAP_SPOOL_DIR", "/from/env")
	t.Setenv("SIECAP_CAPTURE_SOCKETS", "3")
	out, errs, code := siecap(t, nil, "config", "show", "--config", path, "--set", "capture.sockets=5")
	if code != 0 {
		t.Fatalf("show: exit %d, stderr %q", code, errs)
	}
	c, err := config.Parse("shown", []byte(out), nil, nil)
	if err != nil {
		t.Fatalf("the shown configuration does not parse: %v\n%s", err, out)
	}
	if c.Spool.Dir != "/from/env" || c.Capture.Sockets != 5 || len(c.Channels) != 1 || c.Channels[0].VLAN != 204 {
		t.Errorf("shown configuration: spool.dir %q, capture.sockets %d, channels %+v", c.Spool.Dir, c.Capture.Sockets, c.Channels)
	}

	t.Setenv("SIECAP_CAPTURE_SOCKETS", "0")
	if _, errs, code = siecap(t, nil, "config", "show", "--config", path); code != 1 || !strings.Contains(errs, "SIECAP_CAPTURE_SOCKETS") {
		t.Errorf("invalid environment: exit %d, stderr %q", code, errs)
	}
	os.Unsetenv("SIECAP_CAPTURE_SOCKETS")
	if _, _, code = siecap(t, nil, "config", "show", "--config", path, "--set", "nokeyvalue"); code != 2 {
		t.Errorf("bad --set: exit %d, want 2", code)
	}
	out, errs, code = siecap(t, nil, "config", "show", "--demo")
	if code != 0 || !strings.Contains(out, "[[channel]]") {
		t.Errorf("show --demo: exit %d, stderr %q", code, errs)
	}
}

func writeConfig(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConfigControl starts the control API from a configuration and
// checks that the configuration's rules survive the API's form.
func TestConfigControl(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "siecap.sock")
	c, err := config.Parse("demo.toml", config.DemoTOML(), nil, map[string]string{"control.socket": sock, "control.socket_mode": "0600"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ctl.New(ctl.Backend{}, controlOptions(c, slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket: %v, %v", fi, err)
	}
	cl, err := ctl.NewClient(sock, ctl.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Live(context.Background()); err != nil {
		t.Errorf("Live: %v", err)
	}

	rs := ruleSet(c)
	if err := rs.Validate(); err != nil {
		t.Fatalf("the configuration's rules do not validate: %v", err)
	}
	back, err := configRules(rs)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range c.Channels {
		if !reflect.DeepEqual(back[ch.Number], ch.Rules) {
			t.Errorf("channel %d: rules %+v came back as %+v", ch.Number, ch.Rules, back[ch.Number])
		}
	}
}
