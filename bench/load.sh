#!/usr/bin/env bash
# Saturation benchmark: redline vs wrk (and oha when installed) against the same nginx page on
# loopback. nginx is pinned to core 0, the load tool to core 1; prints requests/s and CPU time
# (user + sys) per request for each tool. Installs nothing: says what is missing.
#
#   bench/load.sh [DURATION_S] [CONNECTIONS]      (defaults: 10 64)
#
# Compare ratios within one run: absolute figures move with whatever else the machine does.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-10}
CONNS=${2:-64}
PORT=${PORT:-18080}
NGINX_CORE=${NGINX_CORE:-0}
TOOL_CORE=${TOOL_CORE:-1}

missing=()
for cmd in nginx wrk taskset /usr/bin/time python3 cargo; do
    command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("$cmd")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "missing: ${missing[*]}" >&2
    echo "install with: sudo apt-get install nginx-light wrk time python3 (and rustup for cargo)" >&2
    exit 1
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
command -v oha >/dev/null 2>&1 && HAVE_OHA=1 || { HAVE_OHA=0; echo "note: oha not installed; skipping it (cargo install oha)" >&2; }

WORK=$(mktemp -d /tmp/redline-bench.XXXXXX)
NGINX_PID=""
cleanup() { [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

mkdir -p "$WORK/html" "$WORK/tmp"
printf 'redline benchmark page: a small static body served from memory by nginx.\n' > "$WORK/html/index.html"
cat > "$WORK/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
    uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
    open_file_cache max=16;
    server {
        listen 127.0.0.1:$PORT;
        root $WORK/html;
    }
}
CONF
taskset -c "$NGINX_CORE" "$NGINX" -c "$WORK/nginx.conf" -p "$WORK" &
NGINX_PID=$!
for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
    sleep 0.1
done

echo "building redline (release)..." >&2
cargo build --release -q -p redline
REDLINE=target/release/redline

cat > "$WORK/bench.toml" <<TOML
name = "bench"
[target]
base_url = "http://127.0.0.1:$PORT"
allowed_hosts = ["127.0.0.1"]
timeout = "5s"
max_connections = $CONNS
[load]
model = "closed"
users = $CONNS
duration = "${DURATION}s"
[[request]]
name = "index"
path = "/index.html"
TOML

# Runs "$@" pinned to the tool core; leaves "elapsed user sys" in $WORK/time.
timed() { /usr/bin/time -f '%e %U %S' -o "$WORK/time" taskset -c "$TOOL_CORE" "$@"; }

rows=()
row() { # name requests
    read -r elapsed user sys < "$WORK/time"
    rows+=("$(python3 - "$1" "$2" "$elapsed" "$user" "$sys" <<'PY'
import sys
name, reqs, el, us, sy = sys.argv[1], float(sys.argv[2]), *map(float, sys.argv[3:])
cpu = us + sy
print(f"{name:<10} {int(reqs):>11} {reqs/el:>11.0f} {us:>7.2f} {sy:>7.2f} {cpu*1e6/max(reqs,1):>10.2f}")
PY
)")
}

echo "redline: ${DURATION}s, $CONNS connections" >&2
timed "$REDLINE" run "$WORK/bench.toml" --quiet --out "$WORK/out" > "$WORK/redline.txt"
row redline "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["completed"])' "$WORK/out/result.json")"

echo "wrk: ${DURATION}s, $CONNS connections" >&2
timed wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$PORT/index.html" > "$WORK/wrk.txt"
row wrk "$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")"

if [ "$HAVE_OHA" = 1 ]; then
    echo "oha: ${DURATION}s, $CONNS connections" >&2
    timed oha -z "${DURATION}s" -c "$CONNS" --no-tui --output-format json "http://127.0.0.1:$PORT/index.html" > "$WORK/oha.json" 2>/dev/null \
      || timed oha -z "${DURATION}s" -c "$CONNS" --no-tui -j "http://127.0.0.1:$PORT/index.html" > "$WORK/oha.json"
    row oha "$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print(round(s["requestsPerSec"]*s["total"]))' "$WORK/oha.json")"
fi

echo
printf '%-10s %11s %11s %7s %7s %10s\n' tool requests "req/s" "user s" "sys s" "CPU us/req"
printf '%s\n' "${rows[@]}"
echo
echo "nginx on core $NGINX_CORE, tools on core $TOOL_CORE; CPU = user + sys of the tool process from /usr/bin/time."
echo "Compare ratios within this run; absolute figures depend on machine load."
