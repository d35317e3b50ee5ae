"""A real gRPC peer (grpcio from PyPI) for the HTTP/2 proxy tests, with no generated code:
methods are registered and called with bytes in and out.

  grpc_peer.py server [CERT KEY] serves (over TLS with CERT and KEY, PEM files, if given) /test.Echo/Unary and /test.Echo/Other on 127.0.0.1:0,
                                 prints "port N", stops when stdin closes (or after 120 s);
                                 metadata `x-delay-ms` makes it answer that much later
  grpc_peer.py client ADDR JSON  runs the calls in JSON ([{id, method, case, deadline_s}]) at
                                 once on ONE channel (one HTTP/2 connection) and prints one
                                 JSON line per call: id, code, details, ms, reply
  grpc_peer.py abandon ADDR MS   starts a call without a deadline, then exits after MS ms
                                 (the connection closes under the open stream)
Env GRPC_TLS_CA (a PEM file) makes the client use TLS, verifying the name "localhost".
"""
import json
import os
import sys
import threading
import time
from concurrent import futures

import grpc


def ident(b):
    return b


def server(tls=None):
    def unary(request, context):
        md = dict(context.invocation_metadata())
        delay = int(md.get("x-delay-ms", "0"))
        if delay:
            time.sleep(delay / 1000.0)
        return b"echo:" + request

    handler = grpc.method_handlers_generic_handler(
        "test.Echo",
        {
            "Unary": grpc.unary_unary_rpc_method_handler(unary, ident, ident),
            "Other": grpc.unary_unary_rpc_method_handler(unary, ident, ident),
        },
    )
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    srv.add_generic_rpc_handlers((handler,))
    if tls:
        key, cert = open(tls[1], "rb").read(), open(tls[0], "rb").read()
        port = srv.add_secure_port("127.0.0.1:0", grpc.ssl_server_credentials([(key, cert)]))
    else:
        port = srv.add_insecure_port("127.0.0.1:0")
    srv.start()
    print("port", port, flush=True)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait(120)
    srv.stop(0)


def channel(addr):
    ca = os.environ.get("GRPC_TLS_CA")
    if not ca:
        return grpc.insecure_channel(addr)
    creds = grpc.ssl_channel_credentials(root_certificates=open(ca, "rb").read())
    return grpc.secure_channel(addr, creds, options=[("grpc.ssl_target_name_override", "localhost")])


def client(addr, calls):
    # One subchannel: every call is a stream on the same HTTP/2 connection.
    with channel(addr) as ch:
        grpc.channel_ready_future(ch).result(timeout=10)
        started = []
        for c in calls:
            stub = ch.unary_unary(c["method"], request_serializer=ident, response_deserializer=ident)
            md = [("x-request-id", c["id"]), ("x-case", c.get("case", "ok"))]
            if c.get("delay_ms"):
                md.append(("x-delay-ms", str(c["delay_ms"])))
            t0 = time.monotonic()
            fut = stub.future(c["id"].encode(), timeout=c.get("deadline_s", 10), metadata=md)
            started.append((c, t0, fut))
        for c, t0, fut in started:
            try:
                reply = fut.result()
                code, details = grpc.StatusCode.OK, ""
            except grpc.RpcError as e:
                reply, code, details = b"", e.code(), e.details() or ""
            ms = (time.monotonic() - t0) * 1000.0
            print(json.dumps({"id": c["id"], "code": code.name, "details": details,
                              "ms": ms, "reply": reply.decode("utf-8", "replace")}), flush=True)


def abandon(addr, ms):
    ch = grpc.insecure_channel(addr)
    grpc.channel_ready_future(ch).result(timeout=10)
    stub = ch.unary_unary("/test.Echo/Unary", request_serializer=ident, response_deserializer=ident)
    # Kept referenced: a call object collected by Python is cancelled (RST_STREAM).
    call = stub.future(b"x", metadata=[("x-request-id", "abandoned"), ("x-case", "hang")])
    time.sleep(ms / 1000.0)
    assert not call.done()
    os._exit(0)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "server":
        server(sys.argv[2:4] if len(sys.argv) >= 4 else None)
    elif mode == "client":
        client(sys.argv[2], json.loads(sys.argv[3]))
    elif mode == "abandon":
        abandon(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit("unknown mode " + mode)
