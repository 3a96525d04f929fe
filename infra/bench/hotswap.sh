#!/usr/bin/env bash
# Runs the hot-swap measurement: two phases of load (default 60 s each), the
# second while the bound plugin's code version and config change 100 times
# each. Exits non-zero when a request failed or the final version is not
# served. Extra arguments go to the command, such as -duration 20s.
#
# Usage: infra/bench/hotswap.sh [-duration 60s] [-c 16] [-proto h1|h2|h3]
#        [-tier trusted|sandboxed]
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
exec go run portcullis.dev/services/cmd/hotswap "$@"
