package listen

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"testing"
)

func TestPairSamePort(t *testing.T) {
	tcp, udp, err := Pair("127.0.0.1:0", 0)
	if err != nil {
		t.Fatalf("Pair: %v", err)
	}
	defer tcp.Close()
	defer udp.Close()

	tcpPort := tcp.Addr().(*net.TCPAddr).Port
	udpPort := udp.LocalAddr().(*net.UDPAddr).Port
	if tcpPort != udpPort {
		t.Errorf("UDP port = %d, want the TCP port %d", udpPort, tcpPort)
	}
	if tcpPort == 0 {
		t.Error("TCP port = 0, want a bound port")
	}
}

func TestPairUDPTaken(t *testing.T) {
	taken, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("listen UDP: %v", err)
	}
	defer taken.Close()

	addr := "127.0.0.1:" + strconv.Itoa(taken.LocalAddr().(*net.UDPAddr).Port)
	tcp, udp, err := Pair(addr, 0)
	if err == nil {
		tcp.Close()
		udp.Close()
		t.Fatalf("Pair(%q) succeeded on a taken UDP port", addr)
	}
}

func TestPairInvalidAddress(t *testing.T) {
	if _, _, err := Pair("no-port", 0); err == nil {
		t.Error("Pair returned no error for an address without a port")
	}
}

func TestCounter(t *testing.T) {
	var counter Counter
	tests := []struct {
		name  string
		state http.ConnState
		want  int64
	}{
		{name: "new", state: http.StateNew, want: 1},
		{name: "second new", state: http.StateNew, want: 2},
		{name: "active", state: http.StateActive, want: 2},
		{name: "idle", state: http.StateIdle, want: 2},
		{name: "closed", state: http.StateClosed, want: 1},
		{name: "hijacked", state: http.StateHijacked, want: 0},
	}
	for _, tt := range tests {
		counter.ConnState(nil, tt.state)
		if got := counter.Open(); got != tt.want {
			t.Errorf("after %s: Open = %d, want %d", tt.name, got, tt.want)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	counter.Track(ctx)
	if got := counter.Open(); got != 1 {
		t.Errorf("after Track: Open = %d, want 1", got)
	}
	cancel()
	for counter.Open() != 0 {
		// AfterFunc runs in its own goroutine, so wait for it.
		runtime.Gosched()
	}
}
