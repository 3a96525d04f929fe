package api

import (
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsServer is a DNS server on 127.0.0.1 that answers TXT queries from a
// map and every other query with NXDOMAIN, so tests never resolve a real
// name.
type dnsServer struct {
	conn *net.UDPConn

	mu      sync.Mutex
	txt     map[string][]string
	queries int
}

func startDNSServer(t *testing.T) *dnsServer {
	t.Helper()

	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("listen for DNS on 127.0.0.1: %v", err)
	}
	server := &dnsServer{conn: conn, txt: map[string][]string{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		server.serve()
	}()
	t.Cleanup(func() {
		_ = conn.Close()
		<-done
	})
	return server
}

// addr returns the server's "host:port".
func (d *dnsServer) addr() string {
	return d.conn.LocalAddr().String()
}

// setTXT sets the TXT values of a name, given without the trailing dot.
func (d *dnsServer) setTXT(name string, values ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.txt[strings.ToLower(name)+"."] = values
}

func (d *dnsServer) queryCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queries
}

// serve responds to queries until the socket is closed.
func (d *dnsServer) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFromUDP(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		if answer, ok := d.answer(buf[:n]); ok {
			_, _ = d.conn.WriteToUDP(answer, from)
		}
	}
}

// answer builds the response to one query, or false for a packet that is
// not a query.
func (d *dnsServer) answer(query []byte) ([]byte, bool) {
	var parser dnsmessage.Parser
	header, err := parser.Start(query)
	if err != nil {
		return nil, false
	}
	question, err := parser.Question()
	if err != nil {
		return nil, false
	}

	d.mu.Lock()
	d.queries++
	values, found := d.txt[strings.ToLower(question.Name.String())]
	d.mu.Unlock()

	response := dnsmessage.Header{ID: header.ID, Response: true, Authoritative: true, RecursionDesired: header.RecursionDesired, RecursionAvailable: true}
	if !found {
		response.RCode = dnsmessage.RCodeNameError
	}
	builder := dnsmessage.NewBuilder(nil, response)
	if err := builder.StartQuestions(); err != nil {
		return nil, false
	}
	if err := builder.Question(question); err != nil {
		return nil, false
	}
	if err := builder.StartAnswers(); err != nil {
		return nil, false
	}
	if found && question.Type == dnsmessage.TypeTXT {
		// One record per value, so that values are not joined.
		for _, value := range values {
			resource := dnsmessage.ResourceHeader{Name: question.Name, Type: dnsmessage.TypeTXT, Class: dnsmessage.ClassINET, TTL: 60}
			if err := builder.TXTResource(resource, dnsmessage.TXTResource{TXT: []string{value}}); err != nil {
				return nil, false
			}
		}
	}
	message, err := builder.Finish()
	return message, err == nil
}
