package integration

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"portcullis.dev/portal/store"
)

// redisServer is a redis-server process of the test's own, on a free
// loopback port, without persistence.
type redisServer struct {
	t    testing.TB
	addr string
	cmd  *exec.Cmd
}

func startRedis(t testing.TB) *redisServer {
	t.Helper()
	r := &redisServer{t: t, addr: freeAddr(t)}
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *redisServer) url(db int) string {
	return fmt.Sprintf("redis://%s/%d", r.addr, db)
}

func (r *redisServer) start() {
	r.t.Helper()
	port := r.addr[strings.LastIndex(r.addr, ":")+1:]
	r.cmd = exec.Command("redis-server", "--port", port, "--save", "", "--appendonly", "no", "--bind", "127.0.0.1")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server on %s: %v", r.addr, err)
	}

	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if reply, err := r.command("PING"); err == nil && strings.HasPrefix(reply, "+PONG") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatalf("redis-server on %s did not answer PING within 10s", r.addr)
}

// kill ends the server with SIGKILL, as a crash would.
func (r *redisServer) kill() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	_ = r.cmd.Wait()
	r.cmd = nil
}

// command sends one inline command and returns the first reply line.
func (r *redisServer) command(line string) (string, error) {
	conn, err := dialRedis(r.addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	fmt.Fprintf(conn, "%s\r\n", line)
	return bufio.NewReader(conn).ReadString('\n')
}

// metrics scrapes the edge's /metrics and returns each sample by its name
// with labels, such as `portcullis_edge_l1_entries` or
// `portcullis_edge_bundle_fetches_total{layer="l2",result="hit"}`.
func (e *edgeProc) metrics(t testing.TB) map[string]float64 {
	t.Helper()
	response, err := http.Get("http://" + e.adminAddr + "/metrics")
	if err != nil {
		t.Fatalf("scrape metrics of %s: %v", e.name, err)
	}
	defer response.Body.Close()

	samples := map[string]float64{}
	scanner := bufio.NewScanner(response.Body)
	for scanner.Scan() {
		line := scanner.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		cut := strings.LastIndexByte(line, ' ')
		if cut < 0 {
			continue
		}
		value, err := strconv.ParseFloat(line[cut+1:], 64)
		if err == nil {
			samples[line[:cut]] = value
		}
	}
	return samples
}

// rssBytes returns the resident set size of the process from
// /proc/PID/status.
func (p *proc) rssBytes(t testing.TB) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("read status of %s: %v", p.name, err)
	}
	for line := range strings.Lines(string(data)) {
		if rest, found := strings.CutPrefix(line, "VmRSS:"); found {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("parse VmRSS %q: %v", rest, err)
			}
			return kib << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", p.cmd.Process.Pid)
	return 0
}

// edgeNode is one entry of GET /api/v1/edges.
type edgeNode struct {
	NodeID    string           `json:"node_id"`
	Position  int64            `json:"position"`
	Revisions map[string]int64 `json:"revisions"`
}

func (p *portal) edges(t testing.TB) (int64, map[string]edgeNode) {
	t.Helper()
	var answer struct {
		Head  int64      `json:"head"`
		Edges []edgeNode `json:"edges"`
	}
	p.call(t, http.MethodGet, "/edges", nil, &answer)
	nodes := map[string]edgeNode{}
	for _, node := range answer.Edges {
		nodes[node.NodeID] = node
	}
	return answer.Head, nodes
}

// waitCaughtUp waits until every edge reported a position at the feed head.
func (c *cluster) waitCaughtUp(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		head, nodes := c.portal.edges(t)
		caught := len(nodes) == len(c.edges)
		for _, node := range nodes {
			caught = caught && node.Position >= head
		}
		if caught {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("edges did not report the feed head within %s", timeout)
}

// openStore opens the portal's database directly, for writes while the
// portal process is down and for fast bulk setup.
func openStore(t testing.TB, p *portal) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), p.db, store.Options{Compiler: func(string, string, string) error { return nil }})
	if err != nil {
		t.Fatalf("open store %s: %v", store.RedactURL(p.db), err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
