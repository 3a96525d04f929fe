//go:build linux

package main

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestExtendedConnectEnviron(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		role    string
		want    []string
	}{
		{name: "no GODEBUG", environ: []string{"HOME=/root"}, role: "edge", want: []string{"HOME=/root", "GODEBUG=http2xconnect=1"}},
		{name: "all-in-one", environ: nil, role: "all", want: []string{"GODEBUG=http2xconnect=1"}},
		{name: "other GODEBUG settings kept", environ: []string{"GODEBUG=madvdontneed=1", "PATH=/bin"}, role: "edge", want: []string{"PATH=/bin", "GODEBUG=madvdontneed=1,http2xconnect=1"}},
		{name: "empty GODEBUG", environ: []string{"GODEBUG="}, role: "edge", want: []string{"GODEBUG=http2xconnect=1"}},
		{name: "opt-in spelled on", environ: []string{"PORTCULLIS_H2_WEBSOCKET=ON"}, role: "edge", want: []string{"PORTCULLIS_H2_WEBSOCKET=ON", "GODEBUG=http2xconnect=1"}},
		{name: "already set", environ: []string{"GODEBUG=http2xconnect=1"}, role: "edge", want: nil},
		{name: "turned off in GODEBUG", environ: []string{"GODEBUG=x=1, http2xconnect=0"}, role: "edge", want: nil},
		{name: "opt-out", environ: []string{"PORTCULLIS_H2_WEBSOCKET=off"}, role: "edge", want: nil},
		{name: "portal role", environ: nil, role: "portal", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := extendedConnectEnviron(tt.environ, tt.role)
			if err != nil {
				t.Fatalf("extendedConnectEnviron: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("environment = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExtendedConnectEnvironRejectsValue(t *testing.T) {
	_, err := extendedConnectEnviron([]string{"PORTCULLIS_H2_WEBSOCKET=maybe"}, "edge")
	if err == nil {
		t.Fatal("got nil error for PORTCULLIS_H2_WEBSOCKET=maybe, want one naming the value")
	}
	if !strings.Contains(err.Error(), `"maybe"`) || !strings.Contains(err.Error(), "on or off") {
		t.Errorf("error = %q, want it to name the value and the choices", err)
	}
}

// buildPortcullis builds the portcullis binary into a temporary folder of
// the test.
func buildPortcullis(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "portcullis")
	output, err := exec.Command("go", "build", "-o", path, "portcullis.dev/services/portcullis").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, output)
	}
	return path
}

// lockedBuffer is a bytes.Buffer that a process writes to while the test
// reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// loopbackAddr returns a 127.0.0.1 address whose port was free a moment ago.
func loopbackAddr(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer listener.Close()
	return listener.Addr().String()
}

// startAllInOne starts "portcullis serve" with the portal and the edge on
// loopback ports, plain HTTP only, and waits until the edge is healthy. It
// returns the edge's HTTP address and the process output.
func startAllInOne(t *testing.T, binary string, extraEnv ...string) (string, *lockedBuffer) {
	t.Helper()
	httpAddr, adminAddr := loopbackAddr(t), loopbackAddr(t)
	cmd := exec.Command(binary, "serve", "--role", "all", "--data-dir", t.TempDir(),
		"--http-addr", httpAddr, "--https-addr", "", "--admin-addr", adminAddr,
		"--portal-addr", loopbackAddr(t), "--plugin-workers", "0")

	var environ []string
	for _, entry := range os.Environ() {
		if !strings.HasPrefix(entry, "GODEBUG=") && !strings.HasPrefix(entry, "PORTCULLIS_") {
			environ = append(environ, entry)
		}
	}
	cmd.Env = append(environ, extraEnv...)
	output := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = output, output
	if err := cmd.Start(); err != nil {
		t.Fatalf("start portcullis: %v", err)
	}
	t.Cleanup(func() { stopProcess(t, cmd) })

	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + adminAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return httpAddr, output
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("edge not healthy on %s within 30s", adminAddr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stopProcess sends SIGTERM, and SIGKILL when the process has not exited
// 10 s later.
func stopProcess(t *testing.T, cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Errorf("portcullis did not exit within 10s of SIGTERM")
		_ = cmd.Process.Kill()
		<-done
	}
}

// serverSettings opens an HTTP/2 connection with prior knowledge to addr
// and returns the parameters of the server's first SETTINGS frame (RFC
// 9113 section 6.5).
func serverSettings(t *testing.T, addr string) map[uint16]uint32 {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))

	// The client preface, then an empty SETTINGS frame.
	preface := "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + "\x00\x00\x00\x04\x00\x00\x00\x00\x00"
	if _, err := io.WriteString(conn, preface); err != nil {
		t.Fatalf("write preface: %v", err)
	}

	for {
		header := make([]byte, 9)
		if _, err := io.ReadFull(conn, header); err != nil {
			t.Fatalf("read frame header: %v", err)
		}
		length := int(header[0])<<16 | int(header[1])<<8 | int(header[2])
		payload := make([]byte, length)
		if _, err := io.ReadFull(conn, payload); err != nil {
			t.Fatalf("read frame payload: %v", err)
		}
		const typeSettings, flagAck = 0x4, 0x1
		if header[3] != typeSettings || header[4]&flagAck != 0 {
			continue
		}

		settings := map[uint16]uint32{}
		for i := 0; i+6 <= len(payload); i += 6 {
			settings[binary.BigEndian.Uint16(payload[i:])] = binary.BigEndian.Uint32(payload[i+2:])
		}
		return settings
	}
}

// settingEnableConnectProtocol is SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441
// section 3).
const settingEnableConnectProtocol = 0x8

const reexecLogMessage = "re-executing with GODEBUG http2xconnect=1"

func TestServeAnnouncesExtendedConnect(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the portcullis binary")
	}
	binary := buildPortcullis(t)

	tests := []struct {
		name      string
		env       []string
		wantValue uint32
		wantLogs  int
	}{
		{name: "default", wantValue: 1, wantLogs: 1},
		{name: "opt-out", env: []string{"PORTCULLIS_H2_WEBSOCKET=off"}, wantValue: 0, wantLogs: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, output := startAllInOne(t, binary, tt.env...)

			settings := serverSettings(t, addr)
			if got := settings[settingEnableConnectProtocol]; got != tt.wantValue {
				t.Errorf("SETTINGS_ENABLE_CONNECT_PROTOCOL = %d, want %d (all settings %v)", got, tt.wantValue, settings)
			}
			if got := strings.Count(output.String(), reexecLogMessage); got != tt.wantLogs {
				t.Errorf("re-execution log lines = %d, want %d", got, tt.wantLogs)
			}
		})
	}
}
