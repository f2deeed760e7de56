package ctl

import (
	"fmt"
	"strings"
	"sync"

	"github.com/valyala/fasthttp"
)

// checks are the readiness checks, in the order they were added.
type checks struct {
	mu    sync.Mutex
	names []string
	fns   map[string]func() error
}

// AddCheck registers a readiness check: /readyz answers 503 until every
// check returns nil. Adding a name again replaces its check.
func (s *Server) AddCheck(name string, fn func() error) {
	c := &s.checks
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fns == nil {
		c.fns = map[string]func() error{}
	}
	if _, ok := c.fns[name]; !ok {
		c.names = append(c.names, name)
	}
	c.fns[name] = fn
}

// RemoveCheck drops a readiness check (e.g. of a channel no longer
// configured).
func (s *Server) RemoveCheck(name string) {
	c := &s.checks
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.fns[name]; !ok {
		return
	}
	delete(c.fns, name)
	for i, n := range c.names {
		if n == name {
			c.names = append(c.names[:i], c.names[i+1:]...)
			break
		}
	}
}

type checkResult struct {
	name string
	err  error
}

// run runs every check; ready is false when one fails or none is
// registered (nothing has come up yet).
func (c *checks) run() (results []checkResult, ready bool) {
	c.mu.Lock()
	names := append([]string(nil), c.names...)
	fns := make([]func() error, len(names))
	for i, n := range names {
		fns[i] = c.fns[n]
	}
	c.mu.Unlock()
	ready = len(names) > 0
	for i, n := range names {
		err := fns[i]()
		if err != nil {
			ready = false
		}
		results = append(results, checkResult{n, err})
	}
	return results, ready
}

func (s *Server) livez(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString("ok\n")
}

// readyz answers 200 "ok" when every check passes, else 503; with
// ?verbose it lists the checks, "[+]name ok" or "[-]name failed: why".
func (s *Server) readyz(ctx *fasthttp.RequestCtx) {
	results, ready := s.checks.run()
	ctx.SetContentType("text/plain; charset=utf-8")
	if !ready {
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
	}
	if !ctx.QueryArgs().Has("verbose") {
		if ready {
			ctx.SetBodyString("ok\n")
		} else {
			ctx.SetBodyString("not ready\n")
		}
		return
	}
	var b strings.Builder
	for _, r := range results {
		if r.err == nil {
			fmt.Fprintf(&b, "[+]%s ok\n", r.name)
		} else {
			fmt.Fprintf(&b, "[-]%s failed: %v\n", r.name, r.err)
		}
	}
	if len(results) == 0 {
		b.WriteString("[-]no checks registered yet\n")
	}
	if ready {
		b.WriteString("ready\n")
	} else {
		b.WriteString("not ready\n")
	}
	ctx.SetBodyString(b.String())
}
