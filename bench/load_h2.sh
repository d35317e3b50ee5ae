#!/usr/bin/env bash
# HTTP/2 saturation benchmark: redline vs h2load (Debian nghttp2-client) against the same nginx
# page over HTTP/2 on loopback. nginx is pinned to core 0, the load tool to core 1; prints
# requests/s and CPU time (user + sys) per request for each tool. Installs nothing: says what
# is missing.
#
#   bench/load_h2.sh [DURATION_S] [CONNECTIONS] [STREAMS]     (defaults: 10 4 16)
#
#   TLS=1 bench/load_h2.sh                 (HTTP/2 over TLS, ALPN h2; default: h2c prior knowledge)
#
# Both tools keep CONNECTIONS connections with STREAMS requests in flight on each: h2load
# -c CONNECTIONS -m STREAMS; redline a closed model of CONNECTIONS x STREAMS users with
# max_connections = CONNECTIONS and streams_per_connection = STREAMS.
#
# req/s is requests over the tool's own measurement window (redline: result.json duration_s,
# h2load: its "finished in"), CPU us/req the whole process's user + sys time over its
# completed requests (redline's start-up and reports included).
#
# CALLGRIND=1 runs each tool under valgrind's callgrind and prints user-space instructions per
# request (all threads, start-up included): the figure that does not move with machine load.
# Tools run some 20x slower then (req/s and CPU columns are meaningless): CALLGRIND=1 bench/load_h2.sh 3.
#
# REDLINE=/path/to/redline uses that binary instead of building this tree.
#
# Compare ratios within one run: absolute figures move with whatever else the machine does.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-10}
CONNS=${2:-4}
STREAMS=${3:-16}
PORT=${PORT:-18090}
NGINX_CORE=${NGINX_CORE:-0}
TOOL_CORE=${TOOL_CORE:-1}
TLS=${TLS:-0}

missing=()
for cmd in nginx h2load taskset /usr/bin/time python3 cargo openssl; do
    command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("$cmd")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "missing: ${missing[*]}" >&2
    echo "install with: sudo apt-get install nginx-light nghttp2-client time python3 openssl (and rustup for cargo)" >&2
    exit 1
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

WORK=$(mktemp -d /tmp/redline-bench-h2.XXXXXX)
NGINX_PID=""
cleanup() { [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

mkdir -p "$WORK/html" "$WORK/tmp"
# nginx's worker runs as an unprivileged user: mktemp's 0700 folder would make every answer a 403.
chmod 755 "$WORK" "$WORK/html"
printf 'redline benchmark page: a small static body served from memory by nginx.\n' > "$WORK/html/index.html"
if [ "$TLS" = 1 ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 1 \
        -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
    LISTEN="listen 127.0.0.1:$PORT ssl http2; ssl_certificate $WORK/cert.pem; ssl_certificate_key $WORK/key.pem;"
    URL="https://127.0.0.1:$PORT"
    TARGET_TLS="insecure_tls = true"
else
    LISTEN="listen 127.0.0.1:$PORT http2;"
    URL="http://127.0.0.1:$PORT"
    TARGET_TLS=""
fi
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
    http2_max_concurrent_streams 1024;
    client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
    uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
    open_file_cache max=16;
    server {
        $LISTEN
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

if [ -z "${REDLINE:-}" ]; then
    echo "building redline (release)..." >&2
    cargo build --release -q -p redline
    REDLINE=target/release/redline
fi

cat > "$WORK/bench.toml" <<TOML
name = "bench-h2"
[target]
base_url = "$URL"
allowed_hosts = ["127.0.0.1"]
timeout = "5s"
http = "2"
max_connections = $CONNS
streams_per_connection = $STREAMS
$TARGET_TLS
[load]
model = "closed"
users = $((CONNS * STREAMS))
duration = "${DURATION}s"
[[request]]
name = "index"
path = "/index.html"
TOML

if [ "${CALLGRIND:-0}" = 1 ]; then
    command -v valgrind >/dev/null 2>&1 || { echo "CALLGRIND=1 needs valgrind (apt-get install valgrind)" >&2; exit 1; }
fi

# Runs "$@" pinned to the tool core; leaves "elapsed user sys" in $WORK/time.
timed() {
    if [ "${CALLGRIND:-0}" = 1 ]; then
        rm -f "$WORK"/cg.*
        /usr/bin/time -f '%e %U %S' -o "$WORK/time" taskset -c "$TOOL_CORE" \
            valgrind -q --tool=callgrind --callgrind-out-file="$WORK/cg.%p" "$@"
    else
        /usr/bin/time -f '%e %U %S' -o "$WORK/time" taskset -c "$TOOL_CORE" "$@"
    fi
}

rows=()
cgrows=()
row() { # name requests window_s
    read -r elapsed user sys < "$WORK/time"
    rows+=("$(python3 - "$1" "$2" "$3" "$user" "$sys" <<'PY'
import sys
name, reqs, window, us, sy = sys.argv[1], float(sys.argv[2]), *map(float, sys.argv[3:])
cpu = us + sy
print(f"{name:<10} {int(reqs):>11} {reqs/window:>11.0f} {us:>7.2f} {sy:>7.2f} {cpu*1e6/max(reqs,1):>10.2f}")
PY
)")
    if [ "${CALLGRIND:-0}" = 1 ]; then
        local ir
        ir=$(cat "$WORK"/cg.* | awk '/^summary:/ {s += $2} END {print s + 0}')
        cgrows+=("$(printf '%-10s %14.0f' "$1" "$(python3 -c "print($ir / max($2, 1))")")")
    fi
}

echo "redline: ${DURATION}s, $CONNS connections x $STREAMS streams ($URL)" >&2
timed "$REDLINE" run "$WORK/bench.toml" --quiet --out "$WORK/out" > "$WORK/redline.txt"
python3 - "$WORK/out/result.json" <<'PY' >&2
import json, sys
r = json.load(open(sys.argv[1]))
o = r["operations"]["index"]
assert r.get("http_version") == "2", "redline did not speak HTTP/2"
print(f"redline: statuses {o['status']}, errors {o['errors']}, p50 {o['latency_ms']['p50']} ms")
PY
row redline $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["operations"]["index"]["status"].get("200", 0), r["duration_s"])' "$WORK/out/result.json")

echo "h2load: ${DURATION}s, $CONNS connections x $STREAMS streams" >&2
timed h2load -t1 -c"$CONNS" -m"$STREAMS" -D"$DURATION" "$URL/index.html" > "$WORK/h2load.txt"
grep -E '^(finished|requests|status codes)' "$WORK/h2load.txt" >&2
row h2load $(python3 - "$WORK/h2load.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
ok = int(re.search(r"requests: .* (\d+) succeeded", t).group(1))
secs = float(re.search(r"finished in ([\d.]+)(m?s)", t).group(1))
if re.search(r"finished in [\d.]+ms", t):
    secs /= 1000
print(ok, secs)
PY
)

echo
printf '%-10s %11s %11s %7s %7s %10s\n' tool requests "req/s" "user s" "sys s" "CPU us/req"
printf '%s\n' "${rows[@]}"
echo
if [ "${CALLGRIND:-0}" = 1 ]; then
    echo "user-space instructions per request (callgrind, every thread, start-up included):"
    printf '%-10s %14s\n' tool "instr/req"
    printf '%s\n' "${cgrows[@]}"
    echo
fi
echo "HTTP/2 ($([ "$TLS" = 1 ] && echo 'TLS, ALPN h2' || echo 'h2c, prior knowledge')), $CONNS connections x $STREAMS streams;"
echo "nginx on core $NGINX_CORE, tools on core $TOOL_CORE; req/s over each tool's own measurement window;"
echo "CPU = user + sys of the whole tool process from /usr/bin/time."
echo "Compare ratios within this run; absolute figures depend on machine load."
