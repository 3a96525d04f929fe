package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"portcullis.dev/services/internal/benchenv"
)

// The reference listeners split what tenant chain5 costs into the cost of
// its hooks and the cost of the headers that they add. They serve the
// edge's own handler (edge.Edge.Handler) on two more loopback listeners,
// HTTP/1.1 and HTTP/2 over TLS, wrapped by headerAdder. For tenant
// headers5, a route without plugins, the wrapper adds in Go code the five
// request headers that chain5's rewrite hooks set and the five response
// headers that its header_filter hooks set. Every other tenant passes
// through unchanged, so plain, headers5, empty5 and chain5 can be compared
// on one listener.

// headersTenant is the tenant whose requests and responses headerAdder
// changes.
const headersTenant = "headers5"

// lightHeaders are the canonical names of the light plugins' headers.
var lightHeaders = func() []string {
	names := make([]string, chainLength)
	for i := range names {
		names[i] = http.CanonicalHeaderKey(benchenv.ResponseHeader(i))
	}
	return names
}()

// The values that the light plugins set: the config tag on a request, and
// version and tag on a response.
const (
	lightRequestValue  = "t0"
	lightResponseValue = "1.0.0/t0"
)

// headerAdder adds the light plugins' headers to the requests of tenant
// headers5 and to their responses, where chain5's hooks would.
type headerAdder struct {
	next http.Handler
}

func (h headerAdder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host, _, _ := strings.Cut(r.Host, ".")
	if host != headersTenant {
		h.next.ServeHTTP(w, r)
		return
	}

	for _, name := range lightHeaders {
		r.Header[name] = []string{lightRequestValue}
	}
	h.next.ServeHTTP(&headerWriter{ResponseWriter: w}, r)
}

// headerWriter adds the light plugins' response headers before the
// response header is written.
type headerWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *headerWriter) WriteHeader(code int) {
	if !w.wrote && code >= http.StatusOK {
		w.wrote = true
		header := w.Header()
		for _, name := range lightHeaders {
			header[name] = []string{lightResponseValue}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *headerWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the server's writer, to flush
// it as the reverse proxy does.
func (w *headerWriter) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}

// referenceServer is the pair of reference listeners.
type referenceServer struct {
	plain, tls *http.Server
	// HTTP and HTTPS are the listeners' addresses.
	HTTP, HTTPS string
}

// startReference starts the reference listeners on free loopback ports.
func startReference(env *benchenv.Env) (*referenceServer, error) {
	cert, err := tls.LoadX509KeyPair(env.CertFile, env.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("load the development certificate for the reference listener: %w", err)
	}
	plainListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the reference HTTP/1.1 server: %w", err)
	}
	tlsListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = plainListener.Close()
		return nil, fmt.Errorf("listen for the reference HTTP/2 server: %w", err)
	}

	handler := headerAdder{next: env.Server.Edge().Handler()}
	ref := &referenceServer{
		plain: &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second},
		tls: &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: 10 * time.Second,
			TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		},
		HTTP:  plainListener.Addr().String(),
		HTTPS: tlsListener.Addr().String(),
	}
	go func() { reportStop(ref.plain.Serve(plainListener)) }()
	go func() { reportStop(ref.tls.ServeTLS(tlsListener, "", "")) }()
	return ref, nil
}

// reportStop reports a reference listener that stopped for a reason other
// than Shutdown.
func reportStop(err error) {
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "benchserver: reference listener:", err)
	}
}

// Shutdown stops both listeners.
func (ref *referenceServer) Shutdown(ctx context.Context) {
	_ = ref.plain.Shutdown(ctx)
	_ = ref.tls.Shutdown(ctx)
}
