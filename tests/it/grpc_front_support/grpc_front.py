"""A gRPC service (grpcio from PyPI, generic handlers, no generated code) whose front door is
gRPC too, for tests/it/timed/grpc_front.rs: redline loads it with unary calls.

  grpc_front.py dependency
      the gRPC dependency: /inventory.v1.Stock/Check answers its request bytes at once; prints
      "port N"; stops when stdin closes (or after 120 s)
  grpc_front.py front DEPENDENCY_ADDR DEADLINE_MS
      the service under test: /shop.v1.Catalog/GetItem calls inventory.v1.Stock/Check on
      DEPENDENCY_ADDR with a DEADLINE_MS deadline, forwarding x-request-id as metadata; it
      answers the Item (the request's bytes: both messages are {int64 id = 1}), or aborts
      with UNAVAILABLE when the call fails for any reason (deadline exceeded, UNAVAILABLE,
      ...); prints "port N"; stops when stdin closes (or after 120 s)
"""
import sys
import threading
from concurrent import futures

import grpc


def ident(b):
    return b


def wait_for_stdin_close(limit_s=120):
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait(limit_s)


def serve(service, method, handler):
    generic = grpc.method_handlers_generic_handler(
        service, {method: grpc.unary_unary_rpc_method_handler(handler, ident, ident)}
    )
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=64))
    srv.add_generic_rpc_handlers((generic,))
    port = srv.add_insecure_port("127.0.0.1:0")
    srv.start()
    print("port", port, flush=True)
    wait_for_stdin_close()
    srv.stop(0)


def dependency():
    serve("inventory.v1.Stock", "Check", lambda request, context: request)


def front(dep_addr, deadline_ms):
    channel = grpc.insecure_channel(dep_addr)
    check = channel.unary_unary(
        "/inventory.v1.Stock/Check", request_serializer=ident, response_deserializer=ident
    )
    deadline_s = deadline_ms / 1000.0

    def get_item(request, context):
        rid = dict(context.invocation_metadata()).get("x-request-id", "")
        try:
            return check(request, timeout=deadline_s, metadata=[("x-request-id", rid)])
        except grpc.RpcError as e:
            context.abort(grpc.StatusCode.UNAVAILABLE, "inventory: %s" % e.code().name)

    serve("shop.v1.Catalog", "GetItem", get_item)
    channel.close()


if __name__ == "__main__":
    if sys.argv[1] == "dependency":
        dependency()
    elif sys.argv[1] == "front":
        front(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit("unknown mode " + sys.argv[1])
