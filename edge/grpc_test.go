package edge

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// grpcTestService is a grpc.testing.TestService upstream. UnaryCall echoes
// the payload and sets the trailer "x-deadline-ms" to the time left before
// the call's deadline. The payload "wait" blocks until the call ends, and
// a ResponseStatus becomes the call's status. StreamingOutputCall sends one
// message per ResponseParameters entry.
type grpcTestService struct {
	testpb.UnimplementedTestServiceServer
}

func (grpcTestService) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	if deadline, ok := ctx.Deadline(); ok {
		left := strconv.FormatInt(time.Until(deadline).Milliseconds(), 10)
		_ = grpc.SetTrailer(ctx, metadata.Pairs("x-deadline-ms", left))
	}
	if status := req.GetResponseStatus(); status != nil {
		return nil, statusError(codes.Code(status.GetCode()), status.GetMessage())
	}
	if string(req.GetPayload().GetBody()) == "wait" {
		<-ctx.Done()
		return nil, statusError(codes.Canceled, "the call ended before the upstream answered")
	}
	return &testpb.SimpleResponse{Payload: req.GetPayload()}, nil
}

func (grpcTestService) StreamingOutputCall(req *testpb.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	for i, params := range req.GetResponseParameters() {
		body := []byte("message " + strconv.Itoa(i))
		if err := stream.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: body}}); err != nil {
			return err
		}
		time.Sleep(time.Duration(params.GetIntervalUs()) * time.Microsecond)
	}
	stream.SetTrailer(metadata.Pairs("x-sent", strconv.Itoa(len(req.GetResponseParameters()))))
	return nil
}

func statusError(code codes.Code, message string) error {
	return status.Error(code, message)
}

// startGRPCUpstream starts a grpc-go server on 127.0.0.1 that speaks
// protocol, config.ProtocolH2C or config.ProtocolH2. It returns the
// upstream config for it.
func startGRPCUpstream(t *testing.T, protocol string) config.Upstream {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	upstream := config.Upstream{Name: "grpc", Protocol: protocol}

	var options []grpc.ServerOption
	if protocol == config.ProtocolH2 {
		serverTLS, _ := testTLS(t)
		options = append(options, grpc.Creds(credentials.NewTLS(serverTLS)))
		der := serverTLS.Certificates[0].Certificate[0]
		upstream.TLS = &config.UpstreamTLS{CAPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
	}
	server := grpc.NewServer(options...)
	testpb.RegisterTestServiceServer(server, grpcTestService{})
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(server.Stop)

	scheme := "http://"
	if protocol == config.ProtocolH2 {
		scheme = "https://"
	}
	upstream.Targets = []config.Target{{URL: scheme + listener.Addr().String()}}
	return upstream
}

// grpcEdge starts an edge whose tenant acme routes every path to a gRPC
// upstream spoken to over upstreamProtocol.
func grpcEdge(t *testing.T, upstreamProtocol string) *testEdge {
	t.Helper()
	b := &bundle.Bundle{
		Tenant:    "acme",
		Revision:  1,
		Upstreams: []config.Upstream{startGRPCUpstream(t, upstreamProtocol)},
		Routes:    []config.Route{{Name: "all", Paths: []string{"/"}, Upstream: "grpc"}},
		Plugins:   map[string]bundle.PluginCode{},
	}
	if err := b.Seal(); err != nil {
		t.Fatalf("seal bundle: %v", err)
	}
	return startEdge(t, newMemorySource(b), nil)
}

// grpcClient dials the edge for tenant acme over TLS with HTTP/2 ("h2") or
// cleartext HTTP/2 with prior knowledge ("h2c").
func grpcClient(t *testing.T, te *testEdge, protocol string) testpb.TestServiceClient {
	t.Helper()
	addr, creds := te.addrs.HTTP, insecure.NewCredentials()
	if protocol == "h2" {
		addr = te.addrs.HTTPS
		creds = credentials.NewTLS(&tls.Config{RootCAs: te.pool})
	}

	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(creds), grpc.WithAuthority("acme.localhost"))
	if err != nil {
		t.Fatalf("grpc client for %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return testpb.NewTestServiceClient(conn)
}

// grpcPaths are the client and upstream protocols a call crosses the edge
// with.
var grpcPaths = []struct{ client, upstream string }{
	{client: "h2", upstream: config.ProtocolH2C},
	{client: "h2c", upstream: config.ProtocolH2C},
	{client: "h2", upstream: config.ProtocolH2},
	{client: "h2c", upstream: config.ProtocolH2},
}

func TestGRPCUnary(t *testing.T) {
	for _, path := range grpcPaths {
		t.Run(path.client+" to "+path.upstream, func(t *testing.T) {
			te := grpcEdge(t, path.upstream)
			client := grpcClient(t, te, path.client)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()

			var trailer metadata.MD
			resp, err := client.UnaryCall(ctx, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("ping")}}, grpc.Trailer(&trailer))
			if err != nil {
				t.Fatalf("UnaryCall: %v", err)
			}
			if got := string(resp.GetPayload().GetBody()); got != "ping" {
				t.Errorf("payload = %q, want %q", got, "ping")
			}

			// The client's deadline reached the upstream as grpc-timeout.
			left := trailer.Get("x-deadline-ms")
			if len(left) != 1 {
				t.Fatalf("trailer x-deadline-ms = %v, want one value", left)
			}
			ms, err := strconv.Atoi(left[0])
			if err != nil || ms <= 0 || ms > 5000 {
				t.Errorf("upstream time left = %q ms, want 1 to 5000", left[0])
			}
		})
	}
}

func TestGRPCServerStreaming(t *testing.T) {
	for _, path := range grpcPaths {
		t.Run(path.client+" to "+path.upstream, func(t *testing.T) {
			te := grpcEdge(t, path.upstream)
			client := grpcClient(t, te, path.client)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()

			params := []*testpb.ResponseParameters{{IntervalUs: 20000}, {IntervalUs: 20000}, {}}
			stream, err := client.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{ResponseParameters: params})
			if err != nil {
				t.Fatalf("StreamingOutputCall: %v", err)
			}
			for i := range params {
				msg, err := stream.Recv()
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if want := "message " + strconv.Itoa(i); string(msg.GetPayload().GetBody()) != want {
					t.Errorf("message %d = %q, want %q", i, msg.GetPayload().GetBody(), want)
				}
			}
			if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
				t.Fatalf("after the last message: %v, want io.EOF with status OK", err)
			}
			if got := stream.Trailer().Get("x-sent"); len(got) != 1 || got[0] != "3" {
				t.Errorf("trailer x-sent = %v, want [3]", got)
			}
		})
	}
}

func TestGRPCStatusPassesThrough(t *testing.T) {
	te := grpcEdge(t, config.ProtocolH2C)
	for _, protocol := range []string{"h2", "h2c"} {
		t.Run(protocol, func(t *testing.T) {
			client := grpcClient(t, te, protocol)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()

			req := &testpb.SimpleRequest{ResponseStatus: &testpb.EchoStatus{Code: int32(codes.PermissionDenied), Message: "key 7 is revoked: ask for a new one"}}
			_, err := client.UnaryCall(ctx, req)
			got := status.Convert(err)
			if got.Code() != codes.PermissionDenied {
				t.Errorf("code = %v, want PermissionDenied (error %v)", got.Code(), err)
			}
			if got.Message() != "key 7 is revoked: ask for a new one" {
				t.Errorf("message = %q, want the upstream's message unchanged", got.Message())
			}
		})
	}
}

func TestGRPCDeadlineExceeded(t *testing.T) {
	te := grpcEdge(t, config.ProtocolH2C)
	for _, protocol := range []string{"h2", "h2c"} {
		t.Run(protocol, func(t *testing.T) {
			client := grpcClient(t, te, protocol)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()

			start := time.Now()
			_, err := client.UnaryCall(ctx, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("wait")}})
			if code := status.Code(err); code != codes.DeadlineExceeded {
				t.Errorf("code = %v, want DeadlineExceeded (error %v)", code, err)
			}
			if elapsed := time.Since(start); elapsed > 3*time.Second {
				t.Errorf("call took %v, want it to end near its 300ms deadline", elapsed)
			}
		})
	}
}

func TestGRPCEdgeFailureIsStatus(t *testing.T) {
	te := grpcEdge(t, config.ProtocolH2C)
	conn, err := grpc.NewClient("passthrough:///"+te.addrs.HTTP, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithAuthority("nobody.localhost"))
	if err != nil {
		t.Fatalf("grpc client: %v", err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	_, err = testpb.NewTestServiceClient(conn).UnaryCall(ctx, &testpb.SimpleRequest{})
	got := status.Convert(err)
	if got.Code() != codes.Unimplemented {
		t.Errorf("code = %v, want Unimplemented for an unknown tenant (error %v)", got.Code(), err)
	}
	if !strings.Contains(got.Message(), "No tenant is served at this host.") {
		t.Errorf("message = %q, want the edge's detail", got.Message())
	}
}

func TestParseGRPCTimeout(t *testing.T) {
	tests := []struct {
		value  string
		want   time.Duration
		wantOK bool
	}{
		{value: "300m", want: 300 * time.Millisecond, wantOK: true},
		{value: "2S", want: 2 * time.Second, wantOK: true},
		{value: "1H", want: time.Hour, wantOK: true},
		{value: "5u", want: 5 * time.Microsecond, wantOK: true},
		{value: "99999999H", wantOK: false},
		{value: "123456789S", wantOK: false},
		{value: "10", wantOK: false},
		{value: "S", wantOK: false},
		{value: "-1S", wantOK: false},
		{value: "", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, ok := parseGRPCTimeout(tt.value)
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("parseGRPCTimeout(%q) = (%v, %v), want (%v, %v)", tt.value, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
