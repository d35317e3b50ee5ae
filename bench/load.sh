#!/usr/bin/env bash
# Saturation benchmark: redline vs wrk (and oha when installed) against the same nginx page on
# loopback. nginx is pinned to core 0, the load tool to core 1; prints requests/s and CPU time
# (user + sys) per request for each tool. Installs nothing: says what is missing.
#
#   bench/load.sh [DURATION_S] [CONNECTIONS]      (defaults: 10 64)
#
#   SYSCALLS=1 bench/load.sh 5 64                 (also: system calls per request, by kind)
#
# req/s is requests over the tool's own measurement window (redline: result.json duration_s,
# wrk: "requests in X s", oha: its total time), not over process wall time: redline starts
# its clock 300 ms after launch (the chaos start delay) and writes reports after the run,
# which would otherwise count as load time (about 3.5% of a 10 s run). CPU us/req is the
# whole process's user + sys time (start-up and reports included) over its completed requests.
#
# SYSCALLS=1 counts system calls with `perf stat` on the syscalls tracepoints (needs root or
# kernel.perf_event_paranoid <= 1), else with `strace -f -c`, which slows a tool several
# times: its req/s is then meaningless, its counts per request still hold. System calls per
# request do not move with machine load the way times do: compare them across runs. Tracing
# slows every system call a little (more for a tool that makes more of them): take req/s and
# CPU figures from a run without SYSCALLS=1.
#
# CALLGRIND=1 runs each tool under valgrind's callgrind and prints user-space instructions per
# request (all threads, start-up included): the figure to compare user-space changes with, as
# a 2% change drowns in the noise of timed runs on a shared machine. Tools run some 20x slower
# then (req/s and CPU columns are meaningless); a few seconds are enough: CALLGRIND=1 bench/load.sh 3.
#
# REDLINE=/path/to/redline uses that binary instead of building this tree (to compare builds).
# REDLINE_ARGS="--no-bodies" adds flags to its `redline run`.
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
# mktemp -d makes a 0700 folder: nginx's unprivileged worker could not read the page and every
# answer was a 403 (figures before this line was added measured 403s, for every tool alike).
chmod 755 "$WORK" "$WORK/html"
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
# The page must be served: a benchmark of error answers is not the one we mean to run.
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/index.html" || true)
[ "$status" = 200 ] || { echo "nginx answered $status for /index.html, not 200" >&2; exit 1; }

if [ -z "${REDLINE:-}" ]; then
    echo "building redline (release)..." >&2
    cargo build --release -q -p redline
    REDLINE=target/release/redline
fi

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

COUNTER=""
if [ "${CALLGRIND:-0}" = 1 ]; then
    command -v valgrind >/dev/null 2>&1 || { echo "CALLGRIND=1 needs valgrind (apt-get install valgrind)" >&2; exit 1; }
    COUNTER=callgrind
elif [ "${SYSCALLS:-0}" = 1 ]; then
    EVENTS=raw_syscalls:sys_enter
    for k in read recvfrom readv recvmsg write sendto writev sendmsg epoll_wait epoll_pwait epoll_ctl futex sched_yield; do
        EVENTS+=",syscalls:sys_enter_$k"
    done
    if command -v perf >/dev/null 2>&1 && perf stat -x, -e "$EVENTS" -o /dev/null true 2>/dev/null; then
        COUNTER=perf
    elif command -v strace >/dev/null 2>&1; then
        COUNTER=strace
        echo "note: perf cannot read the syscall tracepoints here; counting with strace (slow)" >&2
    else
        echo "SYSCALLS=1 needs perf (apt-get install linux-perf) or strace" >&2
        exit 1
    fi
fi

# Runs "$@" pinned to the tool core; leaves "elapsed user sys" in $WORK/time and, with
# SYSCALLS=1, the system call counts in $WORK/sys.
timed() {
    local run=(/usr/bin/time -f '%e %U %S' -o "$WORK/time" taskset -c "$TOOL_CORE" "$@")
    case "$COUNTER" in
        perf) perf stat -x, -e "$EVENTS" -o "$WORK/sys" -- "${run[@]}" ;;
        strace) strace -f -c -o "$WORK/sys" -- "${run[@]}" ;;
        callgrind)
            rm -f "$WORK"/cg.*
            /usr/bin/time -f '%e %U %S' -o "$WORK/time" taskset -c "$TOOL_CORE" \
                valgrind -q --tool=callgrind --callgrind-out-file="$WORK/cg.%p" "$@"
            ;;
        *) "${run[@]}" ;;
    esac
}

rows=()
sysrows=()
row() { # name requests window_s
    read -r elapsed user sys < "$WORK/time"
    rows+=("$(python3 - "$1" "$2" "$3" "$user" "$sys" <<'PY'
import sys
name, reqs, window, us, sy = sys.argv[1], float(sys.argv[2]), *map(float, sys.argv[3:])
cpu = us + sy
print(f"{name:<10} {int(reqs):>11} {reqs/window:>11.0f} {us:>7.2f} {sy:>7.2f} {cpu*1e6/max(reqs,1):>10.2f}")
PY
)")
    if [ "$COUNTER" = callgrind ]; then
        local ir
        ir=$(cat "$WORK"/cg.* | awk '/^summary:/ {s += $2} END {print s + 0}')
        sysrows+=("$(printf '%-10s %14.0f' "$1" "$(python3 -c "print($ir / max($2, 1))")")")
    elif [ -n "$COUNTER" ]; then
        sysrows+=("$(python3 bench/syscalls_per_request.py "$1" "$2" "$COUNTER" "$WORK/sys")")
    fi
}

echo "redline: ${DURATION}s, $CONNS connections" >&2
# shellcheck disable=SC2086  # REDLINE_ARGS is a list of flags
timed "$REDLINE" run "$WORK/bench.toml" --quiet --out "$WORK/out" ${REDLINE_ARGS:-} > "$WORK/redline.txt"
row redline $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["totals"]["completed"], r["duration_s"])' "$WORK/out/result.json")

echo "wrk: ${DURATION}s, $CONNS connections" >&2
timed wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$PORT/index.html" > "$WORK/wrk.txt"
row wrk $(awk '/requests in/ {sub(/s,$/, "", $4); print $1, $4}' "$WORK/wrk.txt")

if [ "$HAVE_OHA" = 1 ]; then
    echo "oha: ${DURATION}s, $CONNS connections" >&2
    timed oha -z "${DURATION}s" -c "$CONNS" --no-tui --output-format json "http://127.0.0.1:$PORT/index.html" > "$WORK/oha.json" 2>/dev/null \
      || timed oha -z "${DURATION}s" -c "$CONNS" --no-tui -j "http://127.0.0.1:$PORT/index.html" > "$WORK/oha.json"
    row oha $(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print(round(s["requestsPerSec"]*s["total"]), s["total"])' "$WORK/oha.json")
fi

echo
printf '%-10s %11s %11s %7s %7s %10s\n' tool requests "req/s" "user s" "sys s" "CPU us/req"
printf '%s\n' "${rows[@]}"
echo
if [ "$COUNTER" = callgrind ]; then
    echo "user-space instructions per request (callgrind, every thread, start-up included):"
    printf '%-10s %14s\n' tool "instr/req"
    printf '%s\n' "${sysrows[@]}"
    echo
elif [ -n "$COUNTER" ]; then
    echo "system calls per request ($COUNTER): reads = read+recvfrom+readv+recvmsg, writes likewise"
    python3 bench/syscalls_per_request.py --header
    printf '%s\n' "${sysrows[@]}"
    echo
fi
echo "nginx on core $NGINX_CORE, tools on core $TOOL_CORE; req/s over each tool's own measurement window;"
echo "CPU = user + sys of the whole tool process from /usr/bin/time."
echo "Compare ratios within this run; absolute figures depend on machine load."
