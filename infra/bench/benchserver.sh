# Sourced by the benchmark scripts that load services/cmd/benchserver.
# It sets work (a temporary folder removed at exit) and an EXIT trap that
# stops the server, and defines start_benchserver.

work=$(mktemp -d)
server_pid=""

cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# start_benchserver builds and starts benchserver on free loopback ports,
# waits until it is ready and loads its addresses (EDGE_HTTP, EDGE_HTTPS,
# EDGE_HTTP3, UPSTREAM, CA_CERT) into the shell. Its process id is
# server_pid. It exits with the server's log when the server stops early.
start_benchserver() {
  go build -o "$work/benchserver" portcullis.dev/services/cmd/benchserver
  "$work/benchserver" -lifetime 15m >"$work/server.env" 2>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 100); do
    grep -q '^READY=1' "$work/server.env" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
  done
  # shellcheck disable=SC1091
  source "$work/server.env"
}
