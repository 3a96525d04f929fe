package edge

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
)

// chromiumPath is where Debian installs Chromium.
const chromiumPath = "/usr/bin/chromium"

// tenantHost is the host name of tenant acme that Chromium loads.
const tenantHost = "acme.localhost"

// viaRecorder is an upstream that serves a small HTML page and records the
// Via header of each request, whose first entry names the HTTP version the
// edge received ("1.1", "2" or "3").
type viaRecorder struct {
	mu   sync.Mutex
	vias []string
}

func (v *viaRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	v.vias = append(v.vias, r.Header.Get("Via"))
	v.mu.Unlock()

	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, "<!doctype html><title>acme</title><p>tenant page</p>")
}

func (v *viaRecorder) seen() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.vias...)
}

// spkiHash returns the base64 SHA-256 of the certificate's public key
// info, the form --ignore-certificate-errors-spki-list takes.
func spkiHash(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// TestChromiumUsesHTTP3 loads a tenant page in headless Chromium until the
// browser switches to HTTP/3 after the edge's Alt-Svc header, and checks on
// the edge's side that a request arrived over HTTP/3.
func TestChromiumUsesHTTP3(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("Chromium is not installed at %s (Debian package chromium): %v", chromiumPath, err)
	}
	if testing.Short() {
		t.Skip("starts Chromium; skipped with -short")
	}

	recorder := &viaRecorder{}
	source := newMemorySource(tenantBundle(t, "acme", 1, newHTTPServer(t, recorder), allRoute, nil))
	te := startEdge(t, source, nil)
	cert := te.cfg.TLSConfig.Certificates[0].Leaf

	_, port, _ := strings.Cut(te.addrs.HTTPS, ":")
	page := "https://" + tenantHost + ":" + port + "/"
	ctx := startChromium(t, spkiHash(cert))

	// Chromium learns the Alt-Svc entry on the first load and races QUIC
	// against TCP on later loads, so it may take more than one.
	var protocols []string
	for range 5 {
		if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
			t.Fatalf("load %s in Chromium: %v", page, err)
		}
		protocol, err := chromedp.Run(ctx, chromedp.Evaluate[string](`performance.getEntriesByType("navigation")[0].nextHopProtocol`))
		if err != nil {
			t.Fatalf("read the protocol of the load: %v", err)
		}
		protocols = append(protocols, protocol)
		if protocol == "h3" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}

	t.Logf("Chromium protocols by load: %v", protocols)
	if protocols[0] == "h3" {
		t.Errorf("first load used h3, want TCP before Chromium sees Alt-Svc (loads: %v)", protocols)
	}
	if last := protocols[len(protocols)-1]; last != "h3" {
		t.Fatalf("Chromium protocols by load = %v, want h3 after the Alt-Svc upgrade", protocols)
	}
	vias := recorder.seen()
	if len(vias) == 0 || !strings.HasPrefix(vias[len(vias)-1], "3 portcullis") {
		t.Errorf("upstream Via headers = %q, want the last request received by the edge over HTTP/3", vias)
	}
}

// startChromium starts headless Chromium with a fresh profile that trusts
// the certificate with spki only, resolves every host name to 127.0.0.1,
// and makes no background requests. It returns a browser context that
// ends with the test.
func startChromium(t *testing.T, spki string) context.Context {
	t.Helper()
	options := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// The tenant's host name resolves to 127.0.0.1 and every other
		// name fails, so the browser's own background requests reach no
		// socket at all.
		chromedp.Flag("host-resolver-rules", "MAP "+tenantHost+" 127.0.0.1, MAP * ~NOTFOUND"),
		chromedp.Flag("ignore-certificate-errors-spki-list", spki),
		chromedp.Flag("enable-quic", true),
		// Chromium accepts a certificate outside its built-in roots over
		// QUIC only for host names listed here (Chromium's QUIC proof
		// verifier, seen with Debian's chromium in 2026), and TCP needs
		// no such entry. Port 1 is never loaded, so the edge's own port
		// still switches to HTTP/3 through Alt-Svc alone.
		chromedp.Flag("origin-to-force-quic-on", tenantHost+":1"),
	}

	allocator, cancelAllocator := chromedp.NewExecAllocator(context.Background(), options...)
	browser, cancelBrowser := chromedp.NewContext(allocator, chromedp.WithErrorf(func(format string, args ...any) {
		t.Logf("chromedp: "+format, args...)
	}))
	ctx, cancelTimeout := context.WithTimeout(browser, 60*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelBrowser()
		cancelAllocator()
	})

	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// pageAndSocket is an upstream that accepts WebSocket handshakes, sending
// "welcome" and echoing each text message, and serves a small HTML page for
// other requests. It records the Via header of each handshake.
type pageAndSocket struct {
	viaRecorder
	handshakes chan string
}

func (p *pageAndSocket) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Upgrade") == "" {
		p.viaRecorder.ServeHTTP(w, r)
		return
	}

	p.handshakes <- r.Header.Get("Via")
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer conn.CloseNow()
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	if err := conn.Write(ctx, websocket.MessageText, []byte("welcome")); err != nil {
		return
	}
	for {
		kind, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		if err := conn.Write(ctx, kind, data); err != nil {
			return
		}
	}
}

// echoScript opens a WebSocket to the page's origin, sends "hello" and
// resolves to the echoed message.
const echoScript = `new Promise((resolve, reject) => {
	const socket = new WebSocket("wss://" + location.host + "/ws");
	socket.onopen = () => socket.send("hello");
	socket.onmessage = (event) => {
		if (event.data === "welcome") return;
		resolve(event.data);
		socket.close(1000, "done");
	};
	socket.onerror = () => reject(new Error("WebSocket failed"));
	setTimeout(() => reject(new Error("no echo within 5s")), 5000);
})`

// TestChromiumWebSocket opens a WebSocket from a tenant page in Chromium.
// Without extended CONNECT Chromium opens it over HTTP/1.1. In a child
// process with GODEBUG=http2xconnect=1 the edge announces RFC 8441, and
// Chromium opens it on the page's HTTP/2 connection.
func TestChromiumWebSocket(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("Chromium is not installed at %s (Debian package chromium): %v", chromiumPath, err)
	}
	if testing.Short() {
		t.Skip("starts Chromium; skipped with -short")
	}

	wantVia := "1.1 portcullis"
	if strings.Contains(os.Getenv("GODEBUG"), godebugExtendedConnect) {
		wantVia = "2 portcullis"
	} else {
		runWithGODEBUG(t, godebugExtendedConnect)
	}

	upstream := &pageAndSocket{handshakes: make(chan string, 4)}
	source := newMemorySource(tenantBundle(t, "acme", 1, newHTTPServer(t, upstream), allRoute, nil))
	te := startEdge(t, source, nil)
	cert := te.cfg.TLSConfig.Certificates[0].Leaf
	_, port, _ := strings.Cut(te.addrs.HTTPS, ":")
	ctx := startChromium(t, spkiHash(cert))

	if err := chromedp.Do(ctx, chromedp.Navigate("https://"+tenantHost+":"+port+"/")); err != nil {
		t.Fatalf("load the tenant page: %v", err)
	}
	echo, err := chromedp.Run(ctx, chromedp.Evaluate[string](echoScript, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("WebSocket from the page: %v", err)
	}
	if echo != "hello" {
		t.Errorf("echo = %q, want %q", echo, "hello")
	}

	select {
	case via := <-upstream.handshakes:
		if !strings.HasPrefix(via, wantVia) {
			t.Errorf("handshake Via = %q, want it to start with %q", via, wantVia)
		}
	default:
		t.Error("the upstream saw no WebSocket handshake")
	}
}
