// Package dnstest runs a DNS server on 127.0.0.1 for tests: it responds to TXT
// queries from a map and every other query with NXDOMAIN, so a test that
// verifies a custom domain never resolves a real name.
package dnstest

import (
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// Server is a running test DNS server on UDP.
type Server struct {
	conn *net.UDPConn

	mu      sync.Mutex
	txt     map[string][]string
	queries int
}

// Start starts a server on a free UDP port of 127.0.0.1 and stops it when
// the test ends.
func Start(t testing.TB) *Server {
	t.Helper()

	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("listen for DNS on 127.0.0.1: %v", err)
	}
	server := &Server{conn: conn, txt: map[string][]string{}}
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

// Addr returns the server's "host:port".
func (s *Server) Addr() string {
	return s.conn.LocalAddr().String()
}

// SetTXT sets the TXT records of a name, given without the trailing dot.
// Each value becomes one record.
func (s *Server) SetTXT(name string, values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txt[strings.ToLower(name)+"."] = values
}

// Queries returns how many queries the server has parsed so far.
func (s *Server) Queries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries
}

// serve responds to queries until the socket is closed.
func (s *Server) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFromUDP(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		if reply, ok := s.buildResponse(buf[:n]); ok {
			_, _ = s.conn.WriteToUDP(reply, from)
		}
	}
}

// buildResponse builds the response to one query, or false for a packet
// that is not a query.
func (s *Server) buildResponse(query []byte) ([]byte, bool) {
	var parser dnsmessage.Parser
	header, err := parser.Start(query)
	if err != nil {
		return nil, false
	}
	question, err := parser.Question()
	if err != nil {
		return nil, false
	}

	s.mu.Lock()
	s.queries++
	values, found := s.txt[strings.ToLower(question.Name.String())]
	s.mu.Unlock()

	response := dnsmessage.Header{ID: header.ID, Response: true, Authoritative: true, RecursionDesired: header.RecursionDesired, RecursionAvailable: true}
	if !found {
		response.RCode = dnsmessage.RCodeNameError
	}
	builder := dnsmessage.NewBuilder(nil, response)
	if builder.StartQuestions() != nil || builder.Question(question) != nil || builder.StartAnswers() != nil {
		return nil, false
	}
	if found && question.Type == dnsmessage.TypeTXT {
		// One record per value, so that a resolver does not join the values.
		for _, value := range values {
			resource := dnsmessage.ResourceHeader{Name: question.Name, Type: dnsmessage.TypeTXT, Class: dnsmessage.ClassINET, TTL: 60}
			if builder.TXTResource(resource, dnsmessage.TXTResource{TXT: []string{value}}) != nil {
				return nil, false
			}
		}
	}
	message, err := builder.Finish()
	return message, err == nil
}
