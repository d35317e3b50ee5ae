"""A small service whose front door is HTTP/1.1 and whose dependency is gRPC (grpcio from PyPI),
for tests/it/timed/grpc_dependency.rs.

  grpc_service.py dependency
      the gRPC dependency: /catalog.v1.Items/Get answers "item:<request>" at once; prints
      "port N"; stops when stdin closes (or after 120 s)
  grpc_service.py front DEPENDENCY_ADDR DEADLINE_MS
      the service under test: GET /items/<id> calls catalog.v1.Items/Get on DEPENDENCY_ADDR
      with a DEADLINE_MS gRPC deadline, forwarding x-request-id as metadata; it answers 200
      with the item, or falls back to 503 {"fallback": true} when the call fails for any
      reason (deadline exceeded, UNAVAILABLE, ...); prints "port N"; stops when stdin closes
"""
import sys
import threading
import time
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc


def ident(b):
    return b


def wait_for_stdin_close(limit_s=120):
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait(limit_s)


def dependency():
    def get(request, context):
        return b"item:" + request

    handler = grpc.method_handlers_generic_handler(
        "catalog.v1.Items", {"Get": grpc.unary_unary_rpc_method_handler(get, ident, ident)}
    )
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    srv.add_generic_rpc_handlers((handler,))
    port = srv.add_insecure_port("127.0.0.1:0")
    srv.start()
    print("port", port, flush=True)
    wait_for_stdin_close()
    srv.stop(0)


def front(dep_addr, deadline_ms):
    channel = grpc.insecure_channel(dep_addr)
    get = channel.unary_unary(
        "/catalog.v1.Items/Get", request_serializer=ident, response_deserializer=ident
    )
    deadline_s = deadline_ms / 1000.0

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            rid = self.headers.get("x-request-id") or ""
            item = self.path.rsplit("/", 1)[-1].encode()
            try:
                reply = get(item, timeout=deadline_s, metadata=[("x-request-id", rid)])
                status, body = 200, b'{"item": "' + reply + b'"}'
            except grpc.RpcError:
                status, body = 503, b'{"fallback": true}'
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print("port", srv.server_address[1], flush=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    wait_for_stdin_close()
    srv.shutdown()
    channel.close()


if __name__ == "__main__":
    if sys.argv[1] == "dependency":
        dependency()
    elif sys.argv[1] == "front":
        front(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit("unknown mode " + sys.argv[1])
