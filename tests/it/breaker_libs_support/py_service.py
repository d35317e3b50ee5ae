"""A tiny Python http service whose one dependency call goes through a real breaker library
(pybreaker, circuitbreaker or purgatory), configured from the JSON given on the command line.

usage: python3 py_service.py LIB CONFIG_JSON DEPENDENCY_URL
GET /items/N calls GET DEPENDENCY_URL/users/N through the breaker: 200 on success, 502 when the
call failed, 503 when the breaker refused it. GET /health answers 200 without a call.
Prints "listening PORT" once it accepts connections on 127.0.0.1 (a free port).
"""
import asyncio
import http.client
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

LIB, CONFIG, DEP = sys.argv[1], json.loads(sys.argv[2]), urlsplit(sys.argv[3])
TIMEOUT_S = CONFIG.get("call_timeout_ms", 300) / 1000.0
ITEM = re.compile(r"^/items/(\d+)")


class DependencyFailed(Exception):
    pass


def fetch(item, request_id):
    conn = http.client.HTTPConnection(DEP.hostname, DEP.port, timeout=TIMEOUT_S)
    try:
        conn.request("GET", "/users/" + item, headers={"x-request-id": request_id or ""})
        status = conn.getresponse().status
    except OSError as e:
        raise DependencyFailed(str(e))
    finally:
        conn.close()
    if status >= 500:
        raise DependencyFailed("dependency answered %d" % status)
    return status


def sync_guard():
    """The breaker as its README shows it (a decorator on the call), with CONFIG["options"]."""
    options = CONFIG["options"]
    if LIB == "pybreaker":
        import pybreaker

        guarded = pybreaker.CircuitBreaker(**options)(fetch)
        refused = pybreaker.CircuitBreakerError
    else:
        import circuitbreaker

        guarded = circuitbreaker.circuit(expected_exception=DependencyFailed, **options)(fetch)
        refused = circuitbreaker.CircuitBreakerError

    def guard(item, request_id):
        try:
            guarded(item, request_id)
            return 200
        except refused:
            return 503
        except DependencyFailed:
            return 502

    return guard


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    guard = None

    def do_GET(self):
        m = ITEM.match(self.path)
        if self.path == "/health":
            status = 200
        elif m:
            status = Handler.guard(m.group(1), self.headers.get("x-request-id"))
        else:
            status = 404
        body = str(status).encode()
        self.send_response(status)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve_threads():
    Handler.guard = sync_guard()
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("listening %d" % server.server_address[1], flush=True)
    server.serve_forever()


async def fetch_async(item, request_id):
    async def exchange():
        reader, writer = await asyncio.open_connection(DEP.hostname, DEP.port)
        try:
            writer.write(
                (
                    "GET /users/%s HTTP/1.1\r\nhost: %s\r\nx-request-id: %s\r\nconnection: close\r\n\r\n"
                    % (item, DEP.netloc, request_id or "")
                ).encode()
            )
            await writer.drain()
            line = await reader.readline()
            await reader.read()
            return int(line.split()[1])
        finally:
            writer.close()

    try:
        status = await asyncio.wait_for(exchange(), TIMEOUT_S)
    except (OSError, asyncio.TimeoutError, IndexError, ValueError) as e:
        raise DependencyFailed(str(e) or type(e).__name__)
    if status >= 500:
        raise DependencyFailed("dependency answered %d" % status)
    return status


async def serve_asyncio():
    from purgatory import AsyncCircuitBreakerFactory
    from purgatory.domain.model import OpenedState

    factory = AsyncCircuitBreakerFactory(**CONFIG["options"])

    async def guard(item, request_id):
        try:
            async with await factory.get_breaker("users"):
                await fetch_async(item, request_id)
            return 200
        except OpenedState:
            return 503
        except DependencyFailed:
            return 502

    async def client(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = dict(
                    (k.strip().lower(), v.strip())
                    for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)
                )
                m = ITEM.match(path)
                if path == "/health":
                    status = 200
                elif m:
                    status = await guard(m.group(1), headers.get("x-request-id"))
                else:
                    status = 404
                body = str(status).encode()
                writer.write(
                    b"HTTP/1.1 %d X\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n%s"
                    % (status, len(body), body)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(client, "127.0.0.1", 0)
    print("listening %d" % server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if LIB == "purgatory":
        asyncio.run(serve_asyncio())
    else:
        serve_threads()
