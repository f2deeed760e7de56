package ctl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siecap/siecap/internal/testutil"
)

func TestUnixSocket(t *testing.T) {
	d := newFakeDaemon()
	s := startServer(t, d.backend(), Options{})
	fi, err := os.Stat(s.opts.Socket)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode %v, want a socket with 0660", fi.Mode())
	}
	c := unixClient(t, s)
	if err := c.Live(context.Background()); err != nil {
		t.Errorf("Live: %v", err)
	}
	st, err := c.Status(context.Background())
	if err != nil || st.Version != "test" || len(st.Interfaces) != 1 {
		t.Errorf("Status = %+v, %v", st, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(s.opts.Socket); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket left behind after Close: %v", err)
	}
}

func TestUnixSocketModeAndStaleFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ctl.sock")
	// A stale socket (its server gone) is replaced.
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	s := startServer(t, newFakeDaemon().backend(), Options{Socket: path, SocketMode: 0o600})
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode: %v, %v", fi.Mode(), err)
	}
	// A second server does not steal a live socket.
	s2, err := New(newFakeDaemon().backend(), Options{Socket: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Start(); err == nil || !strings.Contains(err.Error(), "another server") {
		t.Errorf("second Start on a live socket: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A regular file is never removed.
	writeFile(t, path, []byte("data"), 0o644)
	s3, _ := New(newFakeDaemon().backend(), Options{Socket: path})
	if err := s3.Start(); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("Start over a regular file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "data" {
		t.Error("the regular file was touched")
	}
	if _, err := New(Backend{}, Options{Socket: path, SocketMode: 0o666}); err == nil {
		t.Error("New accepted a world-writable socket mode")
	}
}

func TestTCPToken(t *testing.T) {
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "token")
	token := "s3cret-token-0123456789"
	writeFile(t, tokFile, []byte(token+"\n"), 0o600)
	d := newFakeDaemon()
	s := startServer(t, d.backend(), Options{Socket: filepath.Join(dir, "s.sock"), TCP: "127.0.0.1:0", TokenFile: tokFile})
	url := "http://" + s.TCPAddr().String()
	ctx := context.Background()

	for _, tc := range []struct {
		name  string
		token string
	}{{"no token", ""}, {"wrong token", "s3cret-token-0123456788"}, {"prefix of the token", "s3cret"}} {
		c, err := NewClient(url, ClientOptions{Token: tc.token})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Rules(ctx)
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
			t.Errorf("%s: %v, want 401", tc.name, err)
		}
		c.Close()
	}
	if _, err := NewClient("127.0.0.1:8443", ClientOptions{}); err == nil {
		t.Error("NewClient took host:port without a scheme")
	}
	c, err := NewClient(url, ClientOptions{TokenFile: tokFile})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if rs, err := c.Rules(ctx); err != nil || len(rs.Channels) != 2 {
		t.Errorf("with the token: %+v, %v", rs, err)
	}
	// The unix socket needs no token.
	if _, err := unixClient(t, s).Rules(ctx); err != nil {
		t.Errorf("unix socket: %v", err)
	}
}

func TestTokenFileChecks(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		data string
		mode os.FileMode
		want string
	}{
		{"readable by group", "s3cret-token-0123456789", 0o640, "chmod 0600"},
		{"readable by others", "s3cret-token-0123456789", 0o604, "chmod 0600"},
		{"too short", "short", 0o600, "shorter than 16"},
	} {
		f := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
		writeFile(t, f, []byte(tc.data), tc.mode)
		_, err := New(Backend{}, Options{TCP: "127.0.0.1:0", TokenFile: f})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := New(Backend{}, Options{TCP: "127.0.0.1:0"}); err == nil {
		t.Error("New accepted TCP without authentication")
	}
}

func TestMTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testutil.NewCA(t, dir, "good")
	rogue := testutil.NewCA(t, dir, "rogue")
	srvCert, srvKey := ca.Issue(t, "server", true)
	goodCert, goodKey := ca.Issue(t, "operator", false)
	badCert, badKey := rogue.Issue(t, "intruder", false)
	d := newFakeDaemon()
	s := startServer(t, d.backend(), Options{Socket: filepath.Join(dir, "s.sock"), TCP: "127.0.0.1:0",
		TLSCert: srvCert, TLSKey: srvKey, ClientCA: ca.File})
	url := "https://" + s.TCPAddr().String()
	ctx := context.Background()

	good, err := NewClient(url, ClientOptions{CertFile: goodCert, KeyFile: goodKey, CAFile: ca.File})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	if st, err := good.Status(ctx); err != nil || st.Version != "test" {
		t.Errorf("good client certificate: %+v, %v", st, err)
	}
	for name, opts := range map[string]ClientOptions{
		"certificate of another CA": {CertFile: badCert, KeyFile: badKey, CAFile: ca.File},
		"no certificate":            {CAFile: ca.File},
	} {
		c, err := NewClient(url, opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Status(ctx); err == nil {
			t.Errorf("%s: accepted", name)
		} else if ae := (*APIError)(nil); errors.As(err, &ae) {
			t.Errorf("%s: got an HTTP reply %v, want the handshake to fail", name, err)
		}
		c.Close()
	}
}

func TestReadyz(t *testing.T) {
	s := startServer(t, newFakeDaemon().backend(), Options{})
	c := unixClient(t, s)
	ctx := context.Background()
	ready, body, err := c.Ready(ctx)
	if err != nil || ready || !strings.Contains(body, "no checks registered") {
		t.Errorf("with no checks: ready %v, %q, %v", ready, body, err)
	}
	captureUp := false
	s.AddCheck("capture:eth1", func() error {
		if !captureUp {
			return errors.New("no packets read yet")
		}
		return nil
	})
	s.AddCheck("spool", func() error { return nil })
	ready, body, _ = c.Ready(ctx)
	if ready || !strings.Contains(body, "[-]capture:eth1 failed: no packets read yet") || !strings.Contains(body, "[+]spool ok") {
		t.Errorf("capture down: ready %v, %q", ready, body)
	}
	if st, _ := c.Status(ctx); st.Ready {
		t.Error("status says ready while a check fails")
	}
	// Without ?verbose: just the status.
	code, body := rawGet(t, s, "/readyz")
	if code != http.StatusServiceUnavailable || body != "not ready\n" {
		t.Errorf("readyz: %d %q", code, body)
	}
	captureUp = true
	if code, body = rawGet(t, s, "/readyz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("readyz when up: %d %q", code, body)
	}
	if st, _ := c.Status(ctx); !st.Ready {
		t.Error("status says not ready while every check passes")
	}
	s.RemoveCheck("capture:eth1")
	if _, body, _ = c.Ready(ctx); strings.Contains(body, "capture") {
		t.Errorf("removed check still listed: %q", body)
	}
}

// rawGet GETs path over the unix socket and returns status and body.
func rawGet(t *testing.T, s *Server, path string) (int, string) {
	t.Helper()
	c := unixClient(t, s)
	resp, err := c.hc.Get(c.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

func TestEndpoints(t *testing.T) {
	d := newFakeDaemon()
	s := startServer(t, d.backend(), Options{})
	c := unixClient(t, s)
	ctx := context.Background()
	ch, err := c.Channels(ctx)
	if err != nil || len(ch.Channels) != 1 || ch.Channels[0].Counters["captured"] != 10 || len(ch.Discovered) != 1 || ch.Discovered[0].VLAN != 999 {
		t.Errorf("Channels = %+v, %v", ch, err)
	}
	sp, err := c.Spool(ctx)
	if err != nil || len(sp.Segments) != 1 || len(sp.Ledger) != 1 || sp.Ledger[0].Reason != "budget" {
		t.Errorf("Spool = %+v, %v", sp, err)
	}
	code, body := rawGet(t, s, "/api/v1/nothing")
	if code != http.StatusNotFound || body != `{"error":"no such endpoint"}`+"\n" {
		t.Errorf("unknown endpoint: %d %q", code, body)
	}
	req, _ := http.NewRequest(http.MethodDelete, c.base+"/api/v1/rules", nil)
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("DELETE rules: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// A daemon without some parts answers 501 for them.
	bare := startServer(t, Backend{}, Options{})
	for _, p := range []string{"/api/v1/status", "/api/v1/channels", "/api/v1/rules", "/api/v1/spool", "/api/v1/spool/export?channel=1", "/api/v1/channels/1/tail"} {
		if code, body := rawGet(t, bare, p); code != http.StatusNotImplemented || !strings.HasPrefix(body, `{"error":`) {
			t.Errorf("%s without a backend: %d %q", p, code, body)
		}
	}
	if code, _ := rawGet(t, bare, "/metrics"); code != http.StatusOK {
		t.Errorf("metrics without a backend: %d", code)
	}
}

func TestRulesPut(t *testing.T) {
	d := newFakeDaemon()
	s := startServer(t, d.backend(), Options{MaxBodyBytes: 4096})
	c := unixClient(t, s)
	ctx := context.Background()
	before := d.Rules()

	put := func(body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, c.base+"/api/v1/rules", strings.NewReader(body))
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatalf("PUT: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		name, body string
		code       int
		msg        string
	}{
		{"not JSON", `{"channels": [`, 400, "decode rules"},
		{"unknown field", `{"channels": [], "extra": 1}`, 400, "unknown field"},
		{"two objects", `{"channels": []} {}`, 400, "data after the object"},
		{"wrong type", `{"channels": [{"channel": "204"}]}`, 400, "decode rules"},
		{"channel out of range", `{"channels": [{"channel": 5000, "action": "pass"}]}`, 422, "channels[0].channel: 5000 outside 0..4095"},
		{"bad action", `{"channels": [{"channel": 204, "action": "reject"}]}`, 422, "channels[0].action"},
		{"deny without types", `{"channels": [{"channel": 204, "action": "deny"}]}`, 422, "channels[0].types: an deny rule needs types"},
		{"drop with types", `{"channels": [{"channel": 204, "action": "drop", "types": ["SIE"]}]}`, 422, "channels[0].types"},
		{"unknown type", `{"channels": [{"channel": 204, "action": "deny", "types": ["SIE:dnsdedupe", "SIE:bogus"]}]}`, 422, "channels[0].types[1]: unknown message type"},
		{"duplicate channel", `{"channels": [{"channel": 204, "action": "pass"}, {"channel": 204, "action": "drop"}]}`, 422, "channels[1].channel"},
		{"daemon refuses", `{"channels": [{"channel": 207, "action": "pass"}]}`, 422, "channel 207 is not configured"},
		{"too large", `{"channels": [], "pad": "` + strings.Repeat("x", 5000) + `"}`, 413, "request body too large"},
	} {
		code, body := put(tc.body)
		if code != tc.code || !strings.Contains(body, tc.msg) {
			t.Errorf("%s: %d %q, want %d with %q", tc.name, code, body, tc.code, tc.msg)
		}
		if !strings.HasPrefix(body, `{"error":`) {
			t.Errorf("%s: error body %q is not JSON", tc.name, body)
		}
	}
	if got := d.Rules(); d.sets != 0 || len(got.Channels) != len(before.Channels) {
		t.Fatalf("rejected PUTs changed the rules: %+v", got)
	}
	want := RuleSet{Channels: []ChannelRule{{Channel: 202, Action: ActionDrop}, {Channel: 204, Action: ActionAllow, Types: []string{"SIE:dnsdedupe", "base", "2:3"}}}}
	got, err := c.SetRules(ctx, want)
	if err != nil || d.sets != 1 || len(got.Channels) != 2 || got.Channels[1].Types[2] != "2:3" {
		t.Errorf("SetRules = %+v, %v (sets %d)", got, err, d.sets)
	}
}

func TestExport(t *testing.T) {
	d := newFakeDaemon()
	s := startServer(t, d.backend(), Options{})
	c := unixClient(t, s)
	ctx := context.Background()
	var buf bytes.Buffer
	if _, err := c.Export(ctx, ExportQuery{Channel: 204}, &buf); err != nil || buf.String() != "NMSG-bytes-of-204" {
		t.Errorf("Export = %q, %v", buf.String(), err)
	}
	buf.Reset()
	from := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, err := c.Export(ctx, ExportQuery{Channel: 204, From: from, Format: ExportJSON}, &buf); err != nil ||
		buf.String() != "{\"channel\":204,\"from\":\"2026-01-02T03:04:05Z\",\"counts\":false}\n" {
		t.Errorf("Export json = %q, %v", buf.String(), err)
	}
	buf.Reset()
	if _, err := c.Export(ctx, ExportQuery{Channel: 204, Format: ExportJSON, WithCounts: true}, &buf); err != nil ||
		!strings.Contains(buf.String(), "\"counts\":true") {
		t.Errorf("Export json with counts = %q, %v", buf.String(), err)
	}
	var ae *APIError
	if _, err := c.Export(ctx, ExportQuery{Channel: 207}, io.Discard); !errors.As(err, &ae) || ae.Status != 404 {
		t.Errorf("unknown channel: %v, want 404", err)
	}
	for _, q := range []string{"", "?channel=x", "?channel=204&from=yesterday", "?channel=204&from=100&to=50", "?channel=204&format=pcap", "?channel=4096",
		"?channel=204&counts=true", "?channel=204&format=json&counts=maybe"} {
		if code, body := rawGet(t, s, "/api/v1/spool/export"+q); code != 400 || !strings.HasPrefix(body, `{"error":`) {
			t.Errorf("export%s: %d %q, want 400", q, code, body)
		}
	}
}

func TestTimeouts(t *testing.T) {
	s := startServer(t, newFakeDaemon().backend(), Options{ReadTimeout: 200 * time.Millisecond, IdleTimeout: 300 * time.Millisecond})
	srv := s.newHTTP("unix", s.handler)
	if srv.ReadTimeout != 200*time.Millisecond || srv.WriteTimeout != DefaultWriteTimeout || srv.IdleTimeout != 300*time.Millisecond ||
		srv.MaxRequestBodySize != DefaultMaxBodyBytes {
		t.Errorf("server limits: read %v write %v idle %v body %d", srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxRequestBodySize)
	}
	// A client that sends half a request is disconnected after the read
	// timeout.
	conn, err := net.Dial("unix", s.opts.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /livez HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	b, err := io.ReadAll(bufio.NewReader(conn))
	if err != nil {
		t.Fatalf("read: %v (the server never closed the connection)", err)
	}
	if bytes.Contains(b, []byte("200 OK")) {
		t.Errorf("half a request was answered: %q", b)
	}
	t.Logf("connection closed after %v", time.Since(start))
}
