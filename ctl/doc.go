// Package ctl is the appliance's control API: a fasthttp server on a unix
// socket (its file mode is the access control) and optionally on TCP,
// where a bearer token, a client certificate (mTLS) or both are required;
// and Client, its Go client, which the siecap CLI uses.
//
// Endpoints: /livez; /readyz (503 until every registered check passes,
// ?verbose lists them); /metrics (Prometheus text format); and under
// /api/v1/: status, channels (with the discovery counters of unconfigured
// traffic), rules (GET; PUT replaces them atomically), spool (segments,
// usage, loss ledger), spool/export (a channel's time range, streamed) and
// channels/{n}/tail (live payloads, streamed as NDJSON or server-sent
// events).
//
// The server knows the daemon only through the small interfaces in
// api.go (StatusSource, ChannelSource, RuleStore, SpoolSource, Exporter,
// TailSource, MetricsSource), bundled in a Backend; a nil one answers 501.
//
// Lifetimes: fasthttp reuses a request's memory once its handler returns,
// so handlers copy what a stream writer needs before returning and never
// keep the RequestCtx. A tail client is a Subscriber the daemon offers
// payloads to without ever blocking: a token bucket samples them down to
// the client's rate and a bounded queue absorbs bursts; what does not fit
// is dropped and counted, so a slow client never slows capture. Streams
// refresh the connection's write deadline on every flush, so a client that
// stops reading is cut off after the write timeout.
//
// Errors are JSON objects {"error": "..."} with a 4xx status for the
// client's mistakes (ErrNotFound → 404, *InvalidError → 400 or 422) and 500
// otherwise.
package ctl
