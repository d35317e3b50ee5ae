"""A gRPC server (grpcio from PyPI, generic handlers, no generated code) for tests/load_grpc.rs:
the service redline's load engine calls.

  grpc_server.py MAX_DEADLINE_MS
      prints "port N"; stops when stdin closes (or after 120 s). Methods of catalog.v1.Items:

      Get   decodes GetRequest {int64 id = 1; string name = 2;} by hand and answers:
            INVALID_ARGUMENT when the call has no deadline or one longer than MAX_DEADLINE_MS,
            or the name is not "n<id>" (the message was not encoded as the scenario wrote it);
            PERMISSION_DENIED when the metadata lacks x-tenant: acme;
            UNAVAILABLE when id % 5 == 0; else OK with an Item {int64 id = 1}.
      Slow  sleeps 2 s before answering OK (a client deadline ends it first).
      Hold  sleeps 300 ms before answering OK, counting calls in progress at once and the
            client connections (peer addresses) they came on; on its way out the server
            prints "hold peers P max_concurrent M calls N".
"""
import sys
import threading
import time
from concurrent import futures

import grpc


def varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def fields(buf):
    out, i = {}, 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            out[num], i = varint(buf, i)
        elif wire == 2:
            n, i = varint(buf, i)
            out[num] = bytes(buf[i : i + n])
            i += n
        else:
            raise ValueError("unexpected wire type %d" % wire)
    return out


def encode_varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def main(max_deadline_ms):
    def get(request, context):
        left = context.time_remaining()
        if left is None or left * 1000 > max_deadline_ms:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "deadline %r" % left)
        f = fields(request)
        ident = f.get(1, 0)
        if f.get(2, b"") != b"n%d" % ident:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "fields %r" % f)
        meta = dict(context.invocation_metadata())
        if meta.get("x-tenant") != "acme":
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "no tenant")
        if ident % 5 == 0:
            context.abort(grpc.StatusCode.UNAVAILABLE, "try later")
        return b"\x08" + encode_varint(ident)

    def slow(request, context):
        time.sleep(2)
        return b""

    lock = threading.Lock()
    hold_stats = {"now": 0, "max": 0, "calls": 0, "peers": set()}

    def hold(request, context):
        with lock:
            hold_stats["now"] += 1
            hold_stats["calls"] += 1
            hold_stats["max"] = max(hold_stats["max"], hold_stats["now"])
            hold_stats["peers"].add(context.peer())
        time.sleep(0.3)
        with lock:
            hold_stats["now"] -= 1
        return b""

    ident = lambda b: b
    handler = grpc.method_handlers_generic_handler(
        "catalog.v1.Items",
        {
            "Get": grpc.unary_unary_rpc_method_handler(get, ident, ident),
            "Slow": grpc.unary_unary_rpc_method_handler(slow, ident, ident),
            "Hold": grpc.unary_unary_rpc_method_handler(hold, ident, ident),
        },
    )
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=64))
    srv.add_generic_rpc_handlers((handler,))
    port = srv.add_insecure_port("127.0.0.1:0")
    srv.start()
    print("port", port, flush=True)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait(120)
    srv.stop(0)
    with lock:
        print(
            "hold peers %d max_concurrent %d calls %d"
            % (len(hold_stats["peers"]), hold_stats["max"], hold_stats["calls"]),
            flush=True,
        )


if __name__ == "__main__":
    main(float(sys.argv[1]))
