package ctl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

// writeJSON answers with v as JSON.
func writeJSON(ctx *fasthttp.RequestCtx, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(ctx, fasthttp.StatusInternalServerError, "encode reply: "+err.Error())
		return
	}
	ctx.SetStatusCode(code)
	ctx.SetContentType("application/json")
	ctx.SetBody(append(b, '\n'))
}

// apiError is the body of every error reply.
type apiError struct {
	Error string `json:"error"`
}

func writeError(ctx *fasthttp.RequestCtx, code int, msg string) {
	b, _ := json.Marshal(apiError{msg})
	ctx.SetStatusCode(code)
	ctx.SetContentType("application/json")
	ctx.SetBody(append(b, '\n'))
}

// writeErr answers with the status err calls for: 404 for ErrNotFound,
// 422 for an *InvalidError, 500 otherwise.
func writeErr(ctx *fasthttp.RequestCtx, err error) {
	var inv *InvalidError
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(ctx, fasthttp.StatusNotFound, err.Error())
	case errors.As(err, &inv):
		writeError(ctx, fasthttp.StatusUnprocessableEntity, err.Error())
	default:
		writeError(ctx, fasthttp.StatusInternalServerError, err.Error())
	}
}

func notAvailable(ctx *fasthttp.RequestCtx, what string) {
	writeError(ctx, fasthttp.StatusNotImplemented, what+" is not available")
}

// parseChannel parses a channel number from the path.
func parseChannel(v any) (uint16, error) {
	s, _ := v.(string)
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n > MaxChannel {
		return 0, &InvalidError{Field: "channel", Msg: fmt.Sprintf("%q is not a channel number (0..%d)", s, MaxChannel)}
	}
	return uint16(n), nil
}

func (s *Server) status(ctx *fasthttp.RequestCtx) {
	if s.backend.Status == nil {
		notAvailable(ctx, "status")
		return
	}
	st := s.backend.Status.Status()
	_, st.Ready = s.checks.run()
	writeJSON(ctx, fasthttp.StatusOK, st)
}

func (s *Server) channels(ctx *fasthttp.RequestCtx) {
	if s.backend.Channels == nil {
		notAvailable(ctx, "channels")
		return
	}
	c := s.backend.Channels.Channels()
	if c.Channels == nil {
		c.Channels = []ChannelInfo{}
	}
	if c.Discovered == nil {
		c.Discovered = []Discovered{}
	}
	writeJSON(ctx, fasthttp.StatusOK, c)
}

func (s *Server) getRules(ctx *fasthttp.RequestCtx) {
	if s.backend.Rules == nil {
		notAvailable(ctx, "rules")
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, s.backend.Rules.Rules())
}

// putRules replaces every rule: the body is a RuleSet, checked here for
// form and by the RuleStore against the running configuration.
func (s *Server) putRules(ctx *fasthttp.RequestCtx) {
	if s.backend.Rules == nil {
		notAvailable(ctx, "rules")
		return
	}
	rs, err := decodeRuleSet(ctx.PostBody())
	if err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, err.Error())
		return
	}
	if err := rs.Validate(); err != nil {
		writeErr(ctx, err)
		return
	}
	if err := s.backend.Rules.SetRules(rs); err != nil {
		writeErr(ctx, err)
		return
	}
	s.log.Info("rules replaced through the control API", "channels", len(rs.Channels))
	writeJSON(ctx, fasthttp.StatusOK, s.backend.Rules.Rules())
}

// decodeRuleSet decodes a PUT body strictly: one JSON object, no unknown
// fields, nothing after it. The decoded strings are copies, so nothing of
// the request outlives the handler.
func decodeRuleSet(body []byte) (RuleSet, error) {
	var rs RuleSet
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rs); err != nil {
		return RuleSet{}, fmt.Errorf("decode rules: %w", err)
	}
	if dec.More() {
		return RuleSet{}, errors.New("decode rules: data after the object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return RuleSet{}, errors.New("decode rules: data after the object")
	}
	return rs, nil
}

func (s *Server) spool(ctx *fasthttp.RequestCtx) {
	if s.backend.Spool == nil {
		notAvailable(ctx, "spool")
		return
	}
	sp := s.backend.Spool.Spool()
	if sp.Segments == nil {
		sp.Segments = []SegmentInfo{}
	}
	if sp.Ledger == nil {
		sp.Ledger = []LossEntry{}
	}
	writeJSON(ctx, fasthttp.StatusOK, sp)
}

// export streams ?channel='s payloads with time in [?from, ?to) as
// ?format=nmsg (default) or json, the latter with each payload's
// suppressed duplicates when ?counts=true. Times are RFC 3339 or Unix
// seconds.
func (s *Server) export(ctx *fasthttp.RequestCtx) {
	if s.backend.Export == nil {
		notAvailable(ctx, "export")
		return
	}
	q, err := parseExportQuery(ctx.QueryArgs())
	if err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, err.Error())
		return
	}
	write, err := s.backend.Export.Export(q)
	if err != nil {
		writeErr(ctx, err)
		return
	}
	if q.Format == ExportJSON {
		ctx.SetContentType("application/x-ndjson")
	} else {
		ctx.SetContentType("application/octet-stream")
		ctx.Response.Header.Set(fasthttp.HeaderContentDisposition,
			fmt.Sprintf(`attachment; filename="ch%d.nmsg"`, q.Channel))
	}
	st := stream{conn: ctx.Conn(), timeout: s.opts.WriteTimeout, done: s.done}
	log := s.log
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		dw := &deadlineWriter{st: st, w: w}
		if err := write(dw); err != nil && !dw.failed {
			log.Warn("export ended early", "channel", q.Channel, "err", err)
		}
		_ = st.flush(w)
	})
}

// deadlineWriter flushes each write through with a fresh write deadline
// and stops when the server closes.
type deadlineWriter struct {
	st     stream
	w      *bufio.Writer
	failed bool // the client went away
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	select {
	case <-d.st.done:
		return 0, errors.New("write export: server closing")
	default:
	}
	n, err := d.w.Write(p)
	if err == nil && d.w.Buffered() >= 32<<10 {
		err = d.st.flush(d.w)
	}
	if err != nil {
		d.failed = true
	}
	return n, err
}

func parseExportQuery(args *fasthttp.Args) (ExportQuery, error) {
	var q ExportQuery
	chs := string(args.Peek("channel"))
	if chs == "" {
		return q, errors.New("channel: required")
	}
	ch, err := parseChannel(chs)
	if err != nil {
		return q, err
	}
	q.Channel = ch
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		v := string(args.Peek(p.name))
		if v == "" {
			continue
		}
		t, err := parseTime(v)
		if err != nil {
			return q, fmt.Errorf("%s: %w", p.name, err)
		}
		*p.t = t
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, errors.New("from: not before to")
	}
	switch f := ExportFormat(args.Peek("format")); f {
	case "", ExportNMSG:
		q.Format = ExportNMSG
	case ExportJSON:
		q.Format = ExportJSON
	default:
		return q, fmt.Errorf("format: want nmsg or json, got %q", string(f))
	}
	switch c := string(args.Peek("counts")); c {
	case "", "0", "false":
	case "1", "true":
		if q.Format != ExportJSON {
			return q, errors.New("counts: only with format=json")
		}
		q.WithCounts = true
	default:
		return q, fmt.Errorf("counts: want true or false, got %q", c)
	}
	return q, nil
}

// parseTime parses RFC 3339 or Unix seconds.
func parseTime(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want RFC 3339 or Unix seconds, got %q", s)
	}
	return t.UTC(), nil
}

// metrics writes the daemon's families and the server's own.
func (s *Server) metrics(ctx *fasthttp.RequestCtx) {
	w := newMetricWriter()
	w.Gauge("siecap_build_info", "The running siecap's version; always 1.", 1, L("version", s.opts.Version))
	_, ready := s.checks.run()
	w.Gauge("siecap_ready", "Whether every readiness check passes (1) or not (0).", b2f(ready))
	if s.backend.Metrics != nil {
		s.backend.Metrics.WriteMetrics(w)
	}
	t, active, clients := s.tails.totals()
	w.Gauge("siecap_ctl_tail_clients", "Tail clients connected.", float64(active))
	w.Counter("siecap_ctl_tail_clients_total", "Tail clients that connected.", float64(clients))
	const help = "Payloads offered to tail clients, by what became of them: queued for the client, sampled out to keep to its rate, or dropped because its queue was full."
	w.Counter("siecap_ctl_tail_payloads_total", help, float64(t.Queued), L("result", "queued"))
	w.Counter("siecap_ctl_tail_payloads_total", help, float64(t.Sampled), L("result", "sampled"))
	w.Counter("siecap_ctl_tail_payloads_total", help, float64(t.Dropped), L("result", "dropped"))
	for _, e := range w.errs {
		s.log.Warn("metric not written", "err", e)
	}
	w.Counter("siecap_ctl_metric_errors_total", "Samples of this scrape that broke the naming rules and were left out.", float64(len(w.errs)))
	var b bytes.Buffer
	if err := w.writeTo(&b); err != nil {
		writeError(ctx, fasthttp.StatusInternalServerError, err.Error())
		return
	}
	ctx.SetContentType(metricsContentType)
	ctx.SetBody(b.Bytes())
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
