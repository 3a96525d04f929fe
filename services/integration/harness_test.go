package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"portcullis.dev/portal/store/pgtest"
)

const adminToken = "integration-operator-token-0123456789"

// binary is the portcullis binary that TestMain builds once.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "portcullis-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "create build folder:", err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "portcullis")

	build := exec.Command("go", "build", "-o", binary, "portcullis.dev/services/portcullis")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build portcullis:", err)
		os.Exit(1)
	}

	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is one portcullis process.
type proc struct {
	t    testing.TB
	name string
	args []string
	env  []string
	cmd  *exec.Cmd
	// logPath is the file that receives the process's log.
	logPath string
}

func startProc(t testing.TB, name string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, args: args, env: env, logPath: filepath.Join(t.TempDir(), name+".log")}
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *proc) start() {
	p.t.Helper()
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		p.t.Fatalf("open log of %s: %v", p.name, err)
	}
	defer logFile.Close()

	p.cmd = exec.Command(binary, append([]string{"serve"}, p.args...)...)
	// The tests' upstreams listen on loopback, which edges block unless
	// the operator allows it; a test's own env or flags override this.
	p.cmd.Env = append(append(os.Environ(), "PORTCULLIS_UPSTREAM_ALLOW=127.0.0.0/8"), p.env...)
	p.cmd.Stdout = logFile
	p.cmd.Stderr = logFile
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.name, err)
	}
}

// kill ends the process with SIGKILL, as a crash would. A failed test
// gets the end of the process's log.
func (p *proc) kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
	p.cmd = nil

	if p.t.Failed() {
		data, _ := os.ReadFile(p.logPath)
		p.t.Logf("log of %s (last 3000 bytes):\n%s", p.name, data[max(len(data)-3000, 0):])
	}
}

// waitHTTP polls url until it returns the status or the timeout passes.
func waitHTTP(t testing.TB, url string, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		response, err := http.Get(url)
		if err == nil {
			response.Body.Close()
			if response.StatusCode == want {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("GET %s did not return %d within %s", url, want, timeout)
}

// portal is the portal process and its API address.
type portal struct {
	*proc
	addr string
	db   string
}

func startPortal(t testing.TB) *portal {
	t.Helper()
	p := &portal{addr: freeAddr(t), db: pgtest.NewDatabase(t)}
	p.proc = startProc(t, "portal", []string{"PORTCULLIS_ADMIN_TOKEN=" + adminToken},
		"--role", "portal", "--db", p.db, "--portal-addr", p.addr, "--data-dir", t.TempDir())
	waitHTTP(t, p.url()+"/healthz", http.StatusOK, 20*time.Second)
	return p
}

func (p *portal) url() string { return "http://" + p.addr }

// restart starts the portal again on the same address and database.
func (p *portal) restart(t testing.TB) {
	t.Helper()
	p.start()
	waitHTTP(t, p.url()+"/healthz", http.StatusOK, 20*time.Second)
}

// call sends an operator request and decodes the JSON response into out.
func (p *portal) call(t testing.TB, method, path string, body, out any) {
	t.Helper()
	var reader io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		reader = bytes.NewReader(data)
	}
	request, _ := http.NewRequest(method, p.url()+"/api/v1"+path, reader)
	request.Header.Set("Authorization", "Bearer "+adminToken)
	request.Header.Set("Content-Type", "application/json")

	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer response.Body.Close()
	data, _ := io.ReadAll(response.Body)
	if response.StatusCode >= 300 {
		t.Fatalf("%s %s: status %d: %s", method, path, response.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
}

// edgeProc is one edge process.
type edgeProc struct {
	*proc
	httpAddr  string
	adminAddr string
}

// startEdge starts an edge process. extra are more flags, such as
// "--cache-bytes", "1048576".
func startEdge(t testing.TB, p *portal, token, node, region, redisURL, dataDir string, extra ...string) *edgeProc {
	t.Helper()
	e := &edgeProc{httpAddr: freeAddr(t), adminAddr: freeAddr(t)}
	args := []string{"--role", "edge", "--portal-url", p.url(), "--region", region, "--node-id", node,
		"--data-dir", dataDir, "--http-addr", e.httpAddr, "--https-addr", "", "--admin-addr", e.adminAddr}
	if redisURL != "" {
		args = append(args, "--redis", redisURL)
	}
	args = append(args, extra...)
	e.proc = startProc(t, node, []string{"PORTCULLIS_EDGE_TOKEN=" + token}, args...)
	waitHTTP(t, "http://"+e.adminAddr+"/healthz", http.StatusOK, 20*time.Second)
	return e
}

// restart starts the edge again with the same flags and data folder.
func (e *edgeProc) restart(t testing.TB) {
	t.Helper()
	e.start()
	waitHTTP(t, "http://"+e.adminAddr+"/healthz", http.StatusOK, 20*time.Second)
}

// get sends a request for the tenant's path to the edge and returns the
// status, or 0 when the request failed.
func (e *edgeProc) get(client *http.Client, tenant, path string) int {
	request, _ := http.NewRequest(http.MethodGet, "http://"+e.httpAddr+path, nil)
	request.Host = tenant + ".localhost"
	response, err := client.Do(request)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, response.Body)
	response.Body.Close()
	return response.StatusCode
}

// flushRedis empties one database of the machine's Redis.
func flushRedis(t testing.TB, db int) string {
	t.Helper()
	conn, err := dialRedis("127.0.0.1:6379")
	if err != nil {
		t.Fatalf("connect to redis on 127.0.0.1:6379: %v", err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "SELECT %d\r\nFLUSHDB\r\n", db)
	reply := make([]byte, 64)
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _ := conn.Read(reply)
	if !strings.Contains(string(reply[:n]), "+OK") {
		t.Fatalf("flush redis db %d: reply %q", db, reply[:n])
	}
	return fmt.Sprintf("redis://127.0.0.1:6379/%d", db)
}

// startUpstream starts a real HTTP server that returns 200 to every request.
func startUpstream(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	})}
	go server.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		server.Shutdown(ctx)
	})
	return "http://" + ln.Addr().String()
}

func dialRedis(addr string) (net.Conn, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	return conn, nil
}
