package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siecap/siecap/ctl"
	"github.com/siecap/siecap/internal/testutil"
)

// TestDaemonControlTCP checks the running daemon's control API on TCP:
// with a bearer token (refused without it or with a wrong one, accepted
// with it, its request-body limit and JSON errors) and with mTLS (a client
// certificate of the configured CA accepted, one of another CA and none
// refused in the handshake). The unix socket needs neither.
func TestDaemonControlTCP(t *testing.T) {
	p := vethPair(t, 9000, 13)
	dir := t.TempDir()
	token := "s3cret-token-of-the-daemon"
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ca, rogue := testutil.NewCA(t, dir, "good"), testutil.NewCA(t, dir, "rogue")
	srvCert, srvKey := ca.Issue(t, "server", true)
	goodCert, goodKey := ca.Issue(t, "operator", false)
	badCert, badKey := rogue.Issue(t, "intruder", false)
	// The daemon listens in its namespace: the client dials from there.
	dial := func(ctx context.Context, network, addr string) (conn net.Conn, err error) {
		err = p.B.NS.Do(func() error {
			conn, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return conn, err
	}
	const channel = "[[channel]]\nnumber = 13\nvlan = 0\naddresses = [\"198.18.13.2/8430\"]\n"
	ctx := context.Background()
	client := func(url string, opts ctl.ClientOptions) *ctl.Client {
		t.Helper()
		opts.DialContext = dial
		c, err := ctl.NewClient(url, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	status := func(err error) int {
		var ae *ctl.APIError
		if errors.As(err, &ae) {
			return ae.Status
		}
		return 0
	}

	t.Run("token", func(t *testing.T) {
		state := t.TempDir()
		d, err := startDaemon(t, p.B.NS, daemonConfig(p.B.Link, state, fmt.Sprintf("tcp = \"127.0.0.1:0\"\ntoken_file = %q\nmax_body_bytes = \"1KiB\"\n", tokenFile)+channel))
		if err != nil {
			t.Fatalf("start daemon: %v", err)
		}
		url := "http://" + d.srv.TCPAddr().String()
		for name, tok := range map[string]string{"no token": "", "wrong token": token + "x", "a prefix of the token": token[:8]} {
			_, err := client(url, ctl.ClientOptions{Token: tok}).Rules(ctx)
			var ae *ctl.APIError
			if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || ae.Msg != "missing or wrong bearer token" {
				t.Errorf("%s: %v, want 401 with the JSON error", name, err)
			}
		}
		c := client(url, ctl.ClientOptions{TokenFile: tokenFile})
		if rs, err := c.Rules(ctx); err != nil || len(rs.Channels) != 1 || rs.Channels[0].Channel != 13 {
			t.Errorf("with the token: %+v, %v", rs, err)
		}
		if _, err := c.Channels(ctx); err != nil {
			t.Errorf("channels with the token: %v", err)
		}
		// The request-body limit (1 KiB here) and JSON errors of the
		// daemon's own checks.
		big := ctl.RuleSet{Channels: []ctl.ChannelRule{{Channel: 13, Action: "deny", Types: []string{strings.Repeat("SIE:dnsdedupe,", 100)}}}}
		if _, err := c.SetRules(ctx, big); status(err) != http.StatusRequestEntityTooLarge || !strings.Contains(err.Error(), "request body too large") {
			t.Errorf("PUT of 1.4 KB: %v, want 413", err)
		}
		_, err = c.SetRules(ctx, ctl.RuleSet{Channels: []ctl.ChannelRule{{Channel: 99, Action: "drop"}}})
		if status(err) != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "channel 99 is not configured") {
			t.Errorf("PUT for an unconfigured channel: %v, want 422", err)
		}
		// The unix socket: no token.
		u, err := ctl.NewClient(filepath.Join(state, "siecap.sock"), ctl.ClientOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close()
		if _, err := u.Rules(ctx); err != nil {
			t.Errorf("unix socket: %v", err)
		}
		// The CLI's rule listing, as a table and as the JSON rules set
		// reads back.
		sock := filepath.Join(state, "siecap.sock")
		if out, errs, code := siecap(t, nil, "rules", "get", "--addr", sock); code != 0 || !strings.Contains(out, "CHANNEL  ACTION  TYPES\n13       pass    -\n") {
			t.Errorf("rules get: exit %d:\n%s%s", code, out, errs)
		}
		js, errs, code := siecap(t, nil, "rules", "get", "--addr", sock, "--format", "json")
		if code != 0 {
			t.Fatalf("rules get --format json: exit %d: %s", code, errs)
		}
		denied := strings.Replace(js, `"action": "pass"`, `"action": "deny", "types": ["SIE:newdomain"]`, 1)
		out, errs, code := siecap(t, []byte(denied), "rules", "set", "-", "--addr", sock)
		if code != 0 || !strings.Contains(out, "13       deny    SIE:newdomain") {
			t.Errorf("rules set: exit %d:\n%s%s", code, out, errs)
		}
	})

	t.Run("mTLS", func(t *testing.T) {
		d, err := startDaemon(t, p.B.NS, daemonConfig(p.B.Link, t.TempDir(),
			fmt.Sprintf("tcp = \"127.0.0.1:0\"\ntls_cert = %q\ntls_key = %q\nclient_ca = %q\n", srvCert, srvKey, ca.File)+channel))
		if err != nil {
			t.Fatalf("start daemon: %v", err)
		}
		url := "https://" + d.srv.TCPAddr().String()
		if st, err := client(url, ctl.ClientOptions{CertFile: goodCert, KeyFile: goodKey, CAFile: ca.File}).Status(ctx); err != nil || st.Channels != 1 {
			t.Errorf("good client certificate: %+v, %v", st, err)
		}
		for name, opts := range map[string]ctl.ClientOptions{
			"certificate of another CA": {CertFile: badCert, KeyFile: badKey, CAFile: ca.File},
			"no certificate":            {CAFile: ca.File},
		} {
			if _, err := client(url, opts).Status(ctx); err == nil || status(err) != 0 {
				t.Errorf("%s: %v, want the TLS handshake to fail", name, err)
			}
		}
	})
}
