package ctl

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"
)

// Defaults of the zero fields of Options.
const (
	DefaultSocketMode   = 0o660
	DefaultReadTimeout  = 10 * time.Second
	DefaultWriteTimeout = 30 * time.Second
	DefaultIdleTimeout  = 60 * time.Second
	DefaultMaxBodyBytes = 1 << 20
	DefaultTailRate     = 1000
	DefaultTailBuffer   = 1024
	DefaultTailClients  = 8
	// maxConcurrency bounds the requests served at once per listener.
	maxConcurrency = 256
)

// Options configures the server's listeners and limits. Zero fields take
// the defaults above.
type Options struct {
	// Socket is the unix socket path ("" for none); SocketMode its
	// permissions, the socket's access control.
	Socket     string
	SocketMode fs.FileMode
	// TCP is a host:port to listen on as well ("" for none). It requires
	// TokenFile, ClientCA, or both.
	TCP string
	// TokenFile holds the bearer token TCP clients must send; it must not
	// be readable by group or others.
	TokenFile string
	// TLSCert and TLSKey serve TCP over TLS; with ClientCA, clients must
	// present a certificate it signed (mTLS).
	TLSCert, TLSKey, ClientCA string

	// ReadTimeout bounds reading a request, IdleTimeout the wait for the
	// next one on a kept-alive connection. WriteTimeout bounds writing a
	// response; streams get it afresh for every chunk, so a client that
	// stops reading is disconnected after it.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxBodyBytes limits request bodies (413 beyond).
	MaxBodyBytes int
	// TailRate is the most payloads per second a tail client gets;
	// TailBuffer the payloads queued for it before more are dropped;
	// TailClients the most tail clients at once (503 beyond), which bounds
	// what tails cost the daemon to TailClients × TailRate renders a second.
	TailRate, TailBuffer, TailClients int

	// Version is reported in siecap_build_info.
	Version string
	Logger  *slog.Logger
}

func (o *Options) fill() error {
	if o.SocketMode == 0 {
		o.SocketMode = DefaultSocketMode
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.TailRate <= 0 {
		o.TailRate = DefaultTailRate
	}
	if o.TailBuffer <= 0 {
		o.TailBuffer = DefaultTailBuffer
	}
	if o.TailClients <= 0 {
		o.TailClients = DefaultTailClients
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	switch {
	case o.Socket == "" && o.TCP == "":
		return errors.New("check options: no listener")
	case o.TCP != "" && o.TokenFile == "" && o.ClientCA == "":
		return errors.New("check options: a TCP listener needs a token file, a client CA or both")
	case (o.TLSCert == "") != (o.TLSKey == ""):
		return errors.New("check options: TLS certificate and key go together")
	case o.ClientCA != "" && o.TLSCert == "":
		return errors.New("check options: mTLS needs a server certificate and key")
	case o.SocketMode&0o007 != 0:
		return fmt.Errorf("check options: socket mode %#o lets every local user in", o.SocketMode)
	}
	return nil
}

// Server is the control API server.
type Server struct {
	opts    Options
	backend Backend
	log     *slog.Logger
	handler fasthttp.RequestHandler
	token   []byte      // sha256 of the bearer token, nil for none
	tlsConf *tls.Config // nil: plain TCP

	checks checks
	tails  tailStats

	mu      sync.Mutex
	servers []*fasthttp.Server
	lns     []net.Listener
	unixLn  net.Listener
	tcpAddr net.Addr
	wg      sync.WaitGroup
	done    chan struct{} // closed by Close: streams end
	closed  bool
}

// New checks opts, reads the token file and TLS material, and returns a
// server that Start makes listen.
func New(b Backend, opts Options) (*Server, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	s := &Server{opts: opts, backend: b, log: opts.Logger, done: make(chan struct{})}
	if opts.TokenFile != "" {
		tok, err := readToken(opts.TokenFile)
		if err != nil {
			return nil, err
		}
		s.token = tok
	}
	if opts.TLSCert != "" {
		tc, err := serverTLS(opts.TLSCert, opts.TLSKey, opts.ClientCA)
		if err != nil {
			return nil, err
		}
		s.tlsConf = tc
	}
	s.handler = s.routes().Handler
	return s, nil
}

func (s *Server) routes() *router.Router {
	r := router.New()
	r.RedirectTrailingSlash = false
	r.NotFound = func(ctx *fasthttp.RequestCtx) { writeError(ctx, fasthttp.StatusNotFound, "no such endpoint") }
	r.MethodNotAllowed = func(ctx *fasthttp.RequestCtx) {
		writeError(ctx, fasthttp.StatusMethodNotAllowed, "method not allowed")
	}
	r.PanicHandler = func(ctx *fasthttp.RequestCtx, v any) {
		s.log.Error("control API handler panicked", "path", string(ctx.Path()), "panic", v)
		writeError(ctx, fasthttp.StatusInternalServerError, "internal error")
	}
	r.GET("/livez", s.livez)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.metrics)
	v1 := r.Group("/api/v1")
	v1.GET("/status", s.status)
	v1.GET("/channels", s.channels)
	v1.GET("/channels/{n}/tail", s.tail)
	v1.GET("/rules", s.getRules)
	v1.PUT("/rules", s.putRules)
	v1.GET("/spool", s.spool)
	v1.GET("/spool/export", s.export)
	return r
}

func (s *Server) newHTTP(name string, h fasthttp.RequestHandler) *fasthttp.Server {
	return &fasthttp.Server{
		Handler:            h,
		Name:               "siecap",
		ReadTimeout:        s.opts.ReadTimeout,
		WriteTimeout:       s.opts.WriteTimeout,
		IdleTimeout:        s.opts.IdleTimeout,
		MaxRequestBodySize: s.opts.MaxBodyBytes,
		Concurrency:        maxConcurrency,
		CloseOnShutdown:    true,
		ErrorHandler:       requestError,
		Logger:             fasthttpLogger{s.log.With("listener", name)},
	}
}

// Start listens on the configured unix socket and TCP address and serves
// them in the background.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("start control API: server closed")
	}
	if s.opts.Socket != "" {
		ln, err := listenUnix(s.opts.Socket, s.opts.SocketMode)
		if err != nil {
			s.closeLocked()
			return err
		}
		s.unixLn = ln
		s.serve(s.newHTTP("unix", s.handler), ln)
		s.log.Info("control API listening", "socket", s.opts.Socket, "mode", fmt.Sprintf("%#o", s.opts.SocketMode))
	}
	if s.opts.TCP != "" {
		ln, err := net.Listen("tcp", s.opts.TCP)
		if err != nil {
			s.closeLocked()
			return fmt.Errorf("listen on %s: %w", s.opts.TCP, err)
		}
		s.tcpAddr = ln.Addr()
		if s.tlsConf != nil {
			ln = tls.NewListener(ln, s.tlsConf)
		}
		s.serve(s.newHTTP("tcp", s.authenticate(s.handler)), ln)
		s.log.Info("control API listening", "tcp", s.tcpAddr.String(), "tls", s.tlsConf != nil,
			"mtls", s.opts.ClientCA != "", "token", s.token != nil)
		if s.tlsConf == nil {
			s.log.Warn("control API on TCP without TLS: the bearer token crosses the network in clear", "tcp", s.tcpAddr.String())
		}
	}
	return nil
}

func (s *Server) serve(srv *fasthttp.Server, ln net.Listener) {
	s.servers = append(s.servers, srv)
	s.lns = append(s.lns, ln)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("control API stopped", "err", err)
		}
	}()
}

// TCPAddr returns the TCP listener's address (useful with port 0), or nil.
func (s *Server) TCPAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tcpAddr
}

// Close ends the streams, stops the listeners, waits up to a few seconds
// for requests in flight and removes the unix socket.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeLocked()
}

func (s *Server) closeLocked() error {
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var errs []error
	for _, srv := range s.servers {
		if err := srv.ShutdownWithContext(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			errs = append(errs, err)
		}
	}
	s.servers = nil
	// Shutdown closes only the listeners Serve has registered; one whose
	// Serve has not started yet would be served forever.
	for _, ln := range s.lns {
		_ = ln.Close() // already closed by Shutdown, usually
	}
	s.lns = nil
	s.wg.Wait()
	if s.unixLn != nil {
		if err := os.Remove(s.opts.Socket); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		s.unixLn = nil
	}
	return errors.Join(errs...)
}

// listenUnix listens on path with mode, replacing a stale socket (never
// another kind of file).
func listenUnix(path string, mode fs.FileMode) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create socket directory: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("listen on %s: exists and is not a socket", path)
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("listen on %s: another server answers there", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale socket: %w", err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	// The socket is created with the umask's mode; until this chmod the
	// directory's mode (0750 when created here) keeps others out.
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("set socket mode: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	return ln, nil
}

// requestError answers a request fasthttp could not read.
func requestError(ctx *fasthttp.RequestCtx, err error) {
	var te interface{ Timeout() bool }
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		writeError(ctx, fasthttp.StatusRequestEntityTooLarge, "request body too large")
	case errors.As(err, &te) && te.Timeout():
		writeError(ctx, fasthttp.StatusRequestTimeout, "request not read in time")
	default:
		writeError(ctx, fasthttp.StatusBadRequest, "malformed request")
	}
}

// fasthttpLogger sends fasthttp's messages to slog.
type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	f.l.Debug(fmt.Sprintf(format, args...))
}
