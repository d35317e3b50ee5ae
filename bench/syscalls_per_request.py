#!/usr/bin/env python3
"""System calls per request from a `perf stat -x,` or `strace -c` file: one row for bench/load.sh.

    syscalls_per_request.py NAME REQUESTS perf|strace FILE
    syscalls_per_request.py --header
"""
import re
import sys

KINDS = [
    ("total", ["total"]),
    ("reads", ["read", "recvfrom", "readv", "recvmsg"]),
    ("writes", ["write", "sendto", "writev", "sendmsg"]),
    ("epoll_w", ["epoll_wait", "epoll_pwait", "epoll_pwait2"]),
    ("epoll_c", ["epoll_ctl"]),
    ("futex", ["futex"]),
    ("yield", ["sched_yield"]),
]
# strace -c rows: % time, seconds, usecs/call, calls, [errors], syscall
STRACE_ROW = re.compile(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$")


def counts_of(counter, path):
    counts = {}
    for line in open(path):
        if counter == "perf":
            f = line.strip().split(",")
            if len(f) > 2 and f[0].isdigit() and ":" in f[2]:
                ev = f[2].split(":", 1)[1]
                counts["total" if ev == "sys_enter" else ev.removeprefix("sys_enter_")] = int(f[0])
        else:
            m = STRACE_ROW.match(line)
            if m:
                counts[m.group(2)] = int(m.group(1))
            elif line.split() and line.split()[-1] == "total":
                counts["total"] = int(line.split()[3])
    return counts


def main():
    if sys.argv[1:] == ["--header"]:
        print(f"{'tool':<10}" + "".join(f" {k:>8}" for k, _ in KINDS))
        return
    name, reqs, counter, path = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
    counts = counts_of(counter, path)
    cells = [sum(counts.get(s, 0) for s in names) / max(reqs, 1) for _, names in KINDS]
    print(f"{name:<10}" + "".join(f" {c:>8.3f}" for c in cells))


if __name__ == "__main__":
    main()
