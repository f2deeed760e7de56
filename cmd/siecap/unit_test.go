package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/siecap/siecap/internal/config"
)

const unitFile = "../../packaging/systemd/siecap.service"

// readUnit returns the settings of a unit file's [Service] section (a
// setting given twice keeps both values, space separated).
func readUnit(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = line
		case section == "[Service]":
			k, v, _ := strings.Cut(line, "=")
			out[k] = strings.TrimSpace(out[k] + " " + v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSystemdUnit checks the shipped unit: Type=notify, the user, the
// hardening set, capabilities that are exactly those the daemon asks for
// with the default settings, a command line the daemon takes, and, where
// systemd-analyze is installed, that systemd accepts it.
func TestSystemdUnit(t *testing.T) {
	u := readUnit(t, unitFile)
	for k, v := range map[string]string{
		"Type": "notify", "User": "siecap", "Group": "siecap", "NoNewPrivileges": "yes",
		"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
		"RuntimeDirectory": "siecap", "StateDirectory": "siecap",
		"RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6 AF_PACKET AF_NETLINK",
		"SystemCallArchitectures": "native", "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes",
		"ProtectKernelTunables": "yes", "ProtectKernelModules": "yes", "ProtectControlGroups": "yes",
		"RestrictNamespaces": "yes", "RestrictSUIDSGID": "yes", "ExecReload": "/bin/kill -HUP $MAINPID",
	} {
		if u[k] != v {
			t.Errorf("%s=%q, want %q", k, u[k], v)
		}
	}
	cfg, err := config.Parse("default.toml", []byte(`interfaces = ["eth1"]`), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, p := range privileges(cfg) {
		want = append(want, p.cap.String())
	}
	slices.Sort(want)
	for _, k := range []string{"AmbientCapabilities", "CapabilityBoundingSet"} {
		got := strings.Fields(u[k])
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s=%v, want what the daemon asks for: %v", k, got, want)
		}
	}
	if !strings.Contains(u["ReadWritePaths"], config.DefaultSpoolDir) {
		t.Errorf("ReadWritePaths=%q lacks the default spool %s", u["ReadWritePaths"], config.DefaultSpoolDir)
	}
	args := strings.Fields(u["ExecStart"])
	if len(args) < 2 || args[0] != "/usr/bin/siecap" || args[1] != "run" {
		t.Fatalf("ExecStart=%q, want /usr/bin/siecap run ...", u["ExecStart"])
	}
	run := newRootCommand()
	cmd, rest, err := run.Find(args[1:])
	if err == nil {
		err = cmd.ParseFlags(rest)
	}
	if err != nil || cmd.Name() != "run" || cmd.Flag("config").Value.String() != config.DefaultPath {
		t.Errorf("ExecStart's arguments %v: %v", args[1:], err)
	}

	t.Run("systemd-analyze", func(t *testing.T) {
		sa, err := exec.LookPath("systemd-analyze")
		if err != nil {
			t.Skip("systemd-analyze not installed")
		}
		// verify wants ExecStart's program to exist: point it at this one.
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(unitFile)
		if err != nil {
			t.Fatal(err)
		}
		copy := filepath.Join(t.TempDir(), "siecap.service")
		if err := os.WriteFile(copy, []byte(strings.ReplaceAll(string(b), "/usr/bin/siecap", self)), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(sa, "verify", "--man=no", copy).CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
		out, err := exec.Command(sa, "security", "--offline=yes", copy).CombinedOutput()
		m := regexp.MustCompile(`Overall exposure level for siecap.service: ([0-9.]+) (\S+)`).FindSubmatch(out)
		if err != nil || m == nil {
			t.Skipf("systemd-analyze security --offline=yes does not work here (%v): %s", err, out)
		}
		t.Logf("systemd-analyze security: exposure %s %s", m[1], m[2])
		if x, _ := strconv.ParseFloat(string(m[1]), 64); x >= 5 {
			t.Errorf("exposure %s %s, want below 5 (OK or better)", m[1], m[2])
		}
	})
}
