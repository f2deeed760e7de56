package ctl

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/valyala/fasthttp"
)

// readToken reads a bearer token file, refusing one that group or others
// may read or write, and returns the token's SHA-256 (compared in constant
// time, whatever the presented token's length).
func readToken(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read token file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("read token file %s: mode %#o lets group or others read it; chmod 0600", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read token file: %w", err)
	}
	tok := bytes.TrimSpace(b)
	if len(tok) < 16 {
		return nil, fmt.Errorf("read token file %s: token shorter than 16 bytes", path)
	}
	sum := sha256.Sum256(tok)
	return sum[:], nil
}

// authenticate wraps h for the TCP listener: with a token configured, a
// request must carry "Authorization: Bearer <token>". Client certificates
// were already verified by the TLS handshake.
func (s *Server) authenticate(h fasthttp.RequestHandler) fasthttp.RequestHandler {
	if s.token == nil {
		return h
	}
	prefix := []byte("Bearer ")
	return func(ctx *fasthttp.RequestCtx) {
		auth := ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)
		ok := false
		if bytes.HasPrefix(auth, prefix) {
			sum := sha256.Sum256(bytes.TrimSpace(auth[len(prefix):]))
			ok = subtle.ConstantTimeCompare(sum[:], s.token) == 1
		}
		if !ok {
			ctx.Response.Header.Set(fasthttp.HeaderWWWAuthenticate, `Bearer realm="siecap"`)
			writeError(ctx, fasthttp.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		h(ctx)
	}
}

// serverTLS loads the server's certificate and, with caFile, requires
// and verifies client certificates signed by that CA.
func serverTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pool, err := loadPool(caFile)
		if err != nil {
			return nil, err
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

func loadPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("read CA file %s: no PEM certificate in it", file)
	}
	return pool, nil
}
