package ctl

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultSocket is where the daemon listens unless configured otherwise.
const DefaultSocket = "/run/siecap/siecap.sock"

// ClientOptions says how to reach and authenticate to a daemon over TCP.
type ClientOptions struct {
	// Token is the bearer token; TokenFile names a file holding it.
	Token     string
	TokenFile string
	// CertFile and KeyFile are the client certificate for mTLS; CAFile
	// the CA that signed the server's certificate (default: the system's).
	CertFile, KeyFile, CAFile string
	// ServerName overrides the name checked in the server's certificate.
	ServerName string
	// Timeout bounds a non-streaming request: 30 s by default.
	Timeout time.Duration
	// DialContext, when set, makes the TCP connections (e.g. from inside
	// another network namespace).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Client talks to the control API.
type Client struct {
	base   string // "http://siecap" for the unix socket, else the URL
	hc     *http.Client
	token  string
	reqTTL time.Duration
}

// APIError is an error reply of the API.
type APIError struct {
	Status int
	Msg    string
}

func (e *APIError) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.Msg, e.Status) }

// NewClient returns a client of the daemon at addr: a unix socket path
// ("" means DefaultSocket; "unix:///path" also works), or an http:// or
// https:// URL for TCP.
func NewClient(addr string, opts ClientOptions) (*Client, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	c := &Client{reqTTL: opts.Timeout, token: opts.Token}
	if opts.TokenFile != "" {
		b, err := os.ReadFile(opts.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("read token file: %w", err)
		}
		c.token = strings.TrimSpace(string(b))
	}
	tr := &http.Transport{MaxIdleConns: 4, IdleConnTimeout: 30 * time.Second, ResponseHeaderTimeout: opts.Timeout}
	switch {
	case strings.HasPrefix(addr, "http://"), strings.HasPrefix(addr, "https://"):
		u, err := url.Parse(addr)
		if err != nil {
			return nil, fmt.Errorf("parse address: %w", err)
		}
		c.base = strings.TrimSuffix(u.String(), "/")
		tr.DialContext = opts.DialContext
		if u.Scheme == "https" {
			tc, err := clientTLS(opts)
			if err != nil {
				return nil, err
			}
			tr.TLSClientConfig = tc
		}
	default:
		path := strings.TrimPrefix(addr, "unix://")
		if path == "" {
			path = DefaultSocket
		}
		if !strings.HasPrefix(path, "/") && !strings.HasPrefix(path, ".") {
			return nil, fmt.Errorf("parse address %q: want a socket path or an http:// or https:// URL", addr)
		}
		c.base = "http://siecap"
		var d net.Dialer
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", path)
		}
	}
	c.hc = &http.Client{Transport: tr}
	return c, nil
}

func clientTLS(opts ClientOptions) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: opts.ServerName}
	if opts.CAFile != "" {
		pool, err := loadPool(opts.CAFile)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = pool
	}
	if opts.CertFile != "" || opts.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(opts.CertFile, opts.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// do sends a request; the caller closes the body of a 2xx response.
func (c *Client) do(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return nil, fmt.Errorf("make request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var e apiError
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		return nil, &APIError{Status: resp.StatusCode, Msg: e.Error}
	}
	return resp, nil
}

// call sends in (if not nil) as JSON and decodes the reply into out.
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.reqTTL)
	defer cancel()
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
	}
	resp, err := c.do(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s reply: %w", path, err)
	}
	return nil
}

// text GETs path and returns the body (for any status) and the status.
func (c *Client) text(ctx context.Context, path string) (string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.reqTTL)
	defer cancel()
	resp, err := c.do(ctx, http.MethodGet, path, nil)
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Msg, ae.Status, nil
	}
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	return string(b), resp.StatusCode, nil
}

// Live reports whether the daemon answers /livez.
func (c *Client) Live(ctx context.Context) error {
	_, code, err := c.text(ctx, "/livez")
	if err == nil && code != http.StatusOK {
		err = &APIError{Status: code, Msg: "not live"}
	}
	return err
}

// Ready returns whether the daemon is ready and its check list.
func (c *Client) Ready(ctx context.Context) (bool, string, error) {
	body, code, err := c.text(ctx, "/readyz?verbose")
	if err != nil {
		return false, "", err
	}
	return code == http.StatusOK, body, nil
}

// Metrics returns the Prometheus text exposition.
func (c *Client) Metrics(ctx context.Context) (string, error) {
	body, code, err := c.text(ctx, "/metrics")
	if err == nil && code != http.StatusOK {
		err = &APIError{Status: code, Msg: body}
	}
	return body, err
}

// Status returns the daemon's overview.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	err := c.call(ctx, http.MethodGet, "/api/v1/status", nil, &s)
	return s, err
}

// Channels returns the channels and the discovery counters.
func (c *Client) Channels(ctx context.Context) (Channels, error) {
	var ch Channels
	err := c.call(ctx, http.MethodGet, "/api/v1/channels", nil, &ch)
	return ch, err
}

// Rules returns the rules in force.
func (c *Client) Rules(ctx context.Context) (RuleSet, error) {
	var rs RuleSet
	err := c.call(ctx, http.MethodGet, "/api/v1/rules", nil, &rs)
	return rs, err
}

// SetRules replaces every rule and returns the rules now in force.
func (c *Client) SetRules(ctx context.Context, rs RuleSet) (RuleSet, error) {
	var out RuleSet
	err := c.call(ctx, http.MethodPut, "/api/v1/rules", rs, &out)
	return out, err
}

// Spool returns the spool's segments, usage and loss ledger.
func (c *Client) Spool(ctx context.Context) (SpoolInfo, error) {
	var s SpoolInfo
	err := c.call(ctx, http.MethodGet, "/api/v1/spool", nil, &s)
	return s, err
}

// Export copies the export of q to w.
func (c *Client) Export(ctx context.Context, q ExportQuery, w io.Writer) (int64, error) {
	v := url.Values{"channel": {strconv.Itoa(int(q.Channel))}}
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339Nano))
	}
	if q.Format != "" {
		v.Set("format", string(q.Format))
	}
	if q.WithCounts {
		v.Set("counts", "true")
	}
	resp, err := c.do(ctx, http.MethodGet, "/api/v1/spool/export?"+v.Encode(), nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("copy export: %w", err)
	}
	return n, nil
}

// TailOptions shape a tail.
type TailOptions struct {
	Rate  int // payloads per second; 0: the server's limit
	Count int // end after this many; 0: until ctx ends
}

// Tail calls fn with every JSON line of channel's live payloads until ctx
// ends, fn returns an error, or Count lines were read. The line is valid
// only during the call.
func (c *Client) Tail(ctx context.Context, channel uint16, opts TailOptions, fn func(line []byte) error) error {
	v := url.Values{"format": {"json"}}
	if opts.Rate > 0 {
		v.Set("rate", strconv.Itoa(opts.Rate))
	}
	if opts.Count > 0 {
		v.Set("count", strconv.Itoa(opts.Count))
	}
	resp, err := c.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/channels/%d/tail?%s", channel, v.Encode()), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue // the stream's opening line or a keepalive
		}
		if err := fn(sc.Bytes()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("read tail: %w", err)
	}
	return nil
}
