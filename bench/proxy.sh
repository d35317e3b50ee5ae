#!/usr/bin/env bash
# bench/proxy.sh: passthrough overhead of redline's HTTP fault proxy, against direct and against
# HAProxy, all in front of the same nginx on loopback.
#
# Measures (1) added p50/p99 latency at one connection (wrk -c1, latency of via-proxy minus
# direct); (2) proxy CPU time per proxied request under load at the SAME fixed rate for both
# proxies (utime+stime of the proxy process from /proc over the run, divided by the requests
# completed; load from proxy/examples/http_load.rs, since CPU per request falls as an event loop
# gets busier and batches more); (3) the same at saturation with wrk -c$CONNS, for reference.
# Pinning: nginx and the load client on CPU 0, the proxy under test on CPU 1; both proxies
# single-threaded.
#
# Needs: wrk, haproxy, nginx (apt-get install wrk haproxy nginx-light), taskset, python3.
# Env: DUR (seconds per run, default 10), RATE (requests/s of the fixed-rate run, default 10000),
# CONNS (connections of the load runs, default 32), PROXY_CPU (default 1; 0 puts the proxies on
# the load's CPU: no cross-CPU wake-ups, which dominate one-connection latency on a busy host).
set -euo pipefail

DUR=${DUR:-10}
RATE=${RATE:-10000}
CONNS=${CONNS:-32}
PROXY_CPU=${PROXY_CPU:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

for tool in wrk haproxy nginx taskset python3; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found (apt-get install wrk haproxy nginx-light)" >&2; exit 2; }
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
NGINX_PORT=$(free_port); HAP_PORT=$(free_port); RL_PORT=$(free_port)

(cd "$ROOT" && cargo build --release -q -p redline-proxy --example http_proxy --example http_load)
RL_BIN="$ROOT/target/release/examples/http_proxy"
LOAD_BIN="$ROOT/target/release/examples/http_load"

cat > "$WORK/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 10000000;
    client_body_temp_path $WORK/body; proxy_temp_path $WORK/proxy;
    fastcgi_temp_path $WORK/fcgi; uwsgi_temp_path $WORK/uwsgi; scgi_temp_path $WORK/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / { return 200 "hello\n"; }
    }
}
CONF
cat > "$WORK/haproxy.cfg" <<CONF
global
    nbthread 1
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    option http-keep-alive
    http-reuse always
frontend fe
    bind 127.0.0.1:$HAP_PORT
    default_backend be
backend be
    server s1 127.0.0.1:$NGINX_PORT
CONF

taskset -c 0 nginx -c "$WORK/nginx.conf" -p "$WORK" & PIDS+=($!)
taskset -c "$PROXY_CPU" haproxy -f "$WORK/haproxy.cfg" -db & HAP_PID=$!; PIDS+=($HAP_PID)
taskset -c "$PROXY_CPU" "$RL_BIN" "127.0.0.1:$RL_PORT" "127.0.0.1:$NGINX_PORT" >/dev/null & RL_PID=$!; PIDS+=($RL_PID)

wait_port() {
    for _ in $(seq 1 100); do
        python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "error: nothing listening on port $1" >&2; exit 1
}
wait_port "$NGINX_PORT"; wait_port "$HAP_PORT"; wait_port "$RL_PORT"

# wrk prints "50%   41.00us"; convert to microseconds.
to_us() { python3 -c "
import sys; v=sys.argv[1]
for u,m in (('us',1),('ms',1e3),('s',1e6)):
    if v.endswith(u): print('%.1f' % (float(v[:-len(u)])*m)); break" "$1"; }

latency() { # port -> "p50 p99" in us at one connection
    local out; out=$(taskset -c 0 wrk -t1 -c1 -d"${DUR}s" --latency "http://127.0.0.1:$1/")
    echo "$(to_us "$(echo "$out" | awk '$1=="50%"{print $2}')") $(to_us "$(echo "$out" | awk '$1=="99%"{print $2}')")"
}

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

# pid command... -> "requests us_per_request" (requests from wrk's or http_load's output)
cpu_per_req() {
    local pid=$1 before after out reqs; shift
    before=$(cpu_ticks "$pid")
    out=$("$@")
    after=$(cpu_ticks "$pid")
    reqs=$(echo "$out" | awk '/requests in/{print $1} /^requests=/{split($1,a,"="); print a[2]}')
    python3 -c "import os,sys; t=int(sys.argv[2])-int(sys.argv[1]); r=max(int(sys.argv[3]),1); print(r, '%.1f' % (t*1e6/os.sysconf('SC_CLK_TCK')/r))" "$before" "$after" "$reqs"
}
fixed_rate() { taskset -c 0 "$LOAD_BIN" "127.0.0.1:$1" "$RATE" "$DUR" "$CONNS"; }
saturate() { taskset -c 0 wrk -t1 -c"$CONNS" -d"${DUR}s" "http://127.0.0.1:$1/"; }

# Warm up connections and caches.
for p in $NGINX_PORT $HAP_PORT $RL_PORT; do taskset -c 0 wrk -t1 -c4 -d1s "http://127.0.0.1:$p/" >/dev/null; done

read -r D50 D99 <<<"$(latency "$NGINX_PORT")"
read -r H50 H99 <<<"$(latency "$HAP_PORT")"
read -r R50 R99 <<<"$(latency "$RL_PORT")"
read -r HREQ HCPU <<<"$(cpu_per_req "$HAP_PID" fixed_rate "$HAP_PORT")"
read -r RREQ RCPU <<<"$(cpu_per_req "$RL_PID" fixed_rate "$RL_PORT")"
read -r HSREQ HSCPU <<<"$(cpu_per_req "$HAP_PID" saturate "$HAP_PORT")"
read -r RSREQ RSCPU <<<"$(cpu_per_req "$RL_PID" saturate "$RL_PORT")"

python3 - "$D50" "$D99" "$H50" "$H99" "$R50" "$R99" "$HREQ" "$HCPU" "$RREQ" "$RCPU" \
    "$HSREQ" "$HSCPU" "$RSREQ" "$RSCPU" "$DUR" "$CONNS" "$RATE" <<'PY'
import sys
d50,d99,h50,h99,r50,r99 = map(float, sys.argv[1:7])
hreq,hcpu,rreq,rcpu = int(sys.argv[7]), float(sys.argv[8]), int(sys.argv[9]), float(sys.argv[10])
hsreq,hscpu,rsreq,rscpu = int(sys.argv[11]), float(sys.argv[12]), int(sys.argv[13]), float(sys.argv[14])
dur, conns, rate = float(sys.argv[15]), sys.argv[16], sys.argv[17]
print(f"one connection, {dur:.0f}s each (wrk -c1), latency in us:")
print(f"  {'':10} {'p50':>8} {'p99':>8} {'added p50':>10} {'added p99':>10}")
print(f"  {'direct':10} {d50:8.1f} {d99:8.1f}")
print(f"  {'haproxy':10} {h50:8.1f} {h99:8.1f} {h50-d50:10.1f} {h99-d99:10.1f}")
print(f"  {'redline':10} {r50:8.1f} {r99:8.1f} {r50-d50:10.1f} {r99-d99:10.1f}")
print(f"proxy CPU time per request at a fixed {rate} req/s over {conns} connections:")
print(f"  haproxy  {hcpu:6.1f} us/req ({hreq/dur:.0f} req/s done)")
print(f"  redline  {rcpu:6.1f} us/req ({rreq/dur:.0f} req/s done)")
print(f"at saturation (wrk -c{conns}):")
print(f"  haproxy  {hscpu:6.1f} us/req ({hsreq/dur:.0f} req/s)")
print(f"  redline  {rscpu:6.1f} us/req ({rsreq/dur:.0f} req/s)")
print(f"ratios redline/haproxy: added p50 {(r50-d50)/max(h50-d50,0.1):.2f}, "
      f"cpu/req at fixed rate {rcpu/hcpu:.2f}, at saturation {rscpu/hscpu:.2f}")
print(f"targets: added p50 < 25 us: {'met' if r50-d50 < 25 else 'NOT met'}; "
      f"cpu/req <= haproxy (fixed rate): {'met' if rcpu <= hcpu else 'NOT met'}")
PY
