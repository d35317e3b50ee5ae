#!/usr/bin/env bash
# bench/proxy_grpc.sh: latency the HTTP/2 fault proxy adds to one unary gRPC call, in one run:
# the same calls, one at a time on one connection each, to a real gRPC server (Python grpcio,
# proxy/tests/it/h2_support/grpc_peer.py) directly, through `http_proxy --http2` and through HAProxy
# (h2c on both sides, the reference), alternated in rounds (proxy/examples/grpc_unary.rs) so all
# see the same machine. Target: added p50 under 50 us.
#
# Pinning: the gRPC server and the client on CPU 0, the proxies (single-threaded) on CPU 1.
# Needs: python3 with grpcio (.ci/install-test-deps), haproxy, taskset.
# Env: CALLS (per round and side, default 2000), ROUNDS (default 5), PROXY_CPU (default 1).
set -euo pipefail

CALLS=${CALLS:-2000}
ROUNDS=${ROUNDS:-5}
PROXY_CPU=${PROXY_CPU:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PIDS=()
FIFO=$(mktemp -u)
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -f "$FIFO"
}
trap cleanup EXIT

PY=python3
[ -x "$ROOT/target/test-deps/python/bin/python3" ] && PY="$ROOT/target/test-deps/python/bin/python3"
"$PY" -c 'import grpc' 2>/dev/null || { echo "error: grpcio missing (run .ci/install-test-deps)" >&2; exit 2; }
for tool in taskset haproxy; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found (apt-get install haproxy)" >&2; exit 2; }
done

(cd "$ROOT" && cargo build --release -q -p redline-proxy --example http_proxy --example grpc_unary)
BIN="$ROOT/target/release/examples"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PROXY_PORT=$(free_port); HAP_PORT=$(free_port)

# The server stops when its stdin closes: hold it open with a fifo.
mkfifo "$FIFO"
taskset -c 0 "$PY" "$ROOT/proxy/tests/it/h2_support/grpc_peer.py" server <"$FIFO" >"$FIFO.out" & PIDS+=($!)
exec 3>"$FIFO"
for _ in $(seq 1 100); do grep -q '^port ' "$FIFO.out" 2>/dev/null && break; sleep 0.1; done
SERVER_PORT=$(awk '/^port /{print $2}' "$FIFO.out"); rm -f "$FIFO.out"
[ -n "$SERVER_PORT" ] || { echo "error: the gRPC server did not start" >&2; exit 1; }

taskset -c "$PROXY_CPU" "$BIN/http_proxy" "127.0.0.1:$PROXY_PORT" "127.0.0.1:$SERVER_PORT" --http2 >/dev/null & PIDS+=($!)
HAP_CFG=$(mktemp)
cat > "$HAP_CFG" <<CONF
global
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend fe
    bind 127.0.0.1:$HAP_PORT proto h2
    default_backend be
backend be
    server s1 127.0.0.1:$SERVER_PORT proto h2
CONF
taskset -c "$PROXY_CPU" haproxy -f "$HAP_CFG" -db & PIDS+=($!)
for port in $PROXY_PORT $HAP_PORT; do
    for _ in $(seq 1 100); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break
        sleep 0.1
    done
done

echo "unary gRPC, grpcio server, $ROUNDS rounds x $CALLS calls per address:"
echo "  direct 127.0.0.1:$SERVER_PORT, redline 127.0.0.1:$PROXY_PORT, haproxy 127.0.0.1:$HAP_PORT"
OUT=$(taskset -c 0 "$BIN/grpc_unary" "$CALLS" "$ROUNDS" "127.0.0.1:$SERVER_PORT" "127.0.0.1:$PROXY_PORT" "127.0.0.1:$HAP_PORT")
echo "$OUT"
RL=$(echo "$OUT" | awk -v a="127.0.0.1:$PROXY_PORT" '$1==a{print $8}')
HP=$(echo "$OUT" | awk -v a="127.0.0.1:$HAP_PORT" '$1==a{print $8}')
python3 -c "import sys; r,h=map(float,sys.argv[1:]); print('ratio redline/haproxy added p50: %.2f' % (r/h if h > 0 else float('nan'))); print('target: added p50 < 50 us:', 'met' if r < 50 else 'NOT met')" "$RL" "$HP"
rm -f "$HAP_CFG"
exec 3>&-
