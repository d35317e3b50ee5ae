"""Drives redline's control API with the real toxiproxy-python client (PyPI: toxiproxy-python).

Usage: python3 toxiproxy_client_check.py CONTROL_PORT ECHO_UPSTREAM
Exits non-zero (with a message) on the first failed check, including a missing client.
"""
import socket
import sys
import time

from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import NotFound, ProxyExists


def round_trip(listen, msg=b"ping"):
    host, port = listen.rsplit(":", 1)
    start = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            chunk = s.recv(1024)
            if not chunk:
                raise ConnectionError("closed before the echo")
            got += chunk
    assert got == msg, got
    return time.monotonic() - start


def refused(listen):
    host, port = listen.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2) as s:
            s.sendall(b"x")
            return s.recv(16) == b""
    except OSError:
        return True


def main():
    control_port, upstream = int(sys.argv[1]), sys.argv[2]
    server = Toxiproxy()
    server.update_api_consumer("127.0.0.1", control_port)
    assert server.running(), "control API not reachable"
    assert b"version" in server.version(), server.version()

    proxy = server.create(upstream=upstream, name="py_db")
    assert proxy.listen and not proxy.listen.endswith(":0"), proxy.listen
    assert "py_db" in server.proxies()
    try:
        server.create(upstream=upstream, name="py_db")
        raise AssertionError("duplicate create must raise ProxyExists")
    except ProxyExists:
        pass
    try:
        APIConsumer.get("/proxies/missing")
        raise AssertionError("missing proxy must raise NotFound")
    except NotFound:
        pass

    fast = round_trip(proxy.listen)
    proxy.add_toxic(type="latency", attributes={"latency": 400})
    toxics = proxy.toxics()
    assert "latency_downstream" in toxics, toxics
    assert toxics["latency_downstream"].attributes["latency"] == 400
    slow = round_trip(proxy.listen)
    assert slow >= 0.4, "latency toxic not applied: %.3fs" % slow

    proxy.disable()
    assert server.get_proxy("py_db").enabled is False
    assert refused(proxy.listen), "disabled proxy still answers"
    proxy.enable()
    assert server.get_proxy("py_db").enabled is True

    with proxy.down():
        assert refused(proxy.listen)
    assert round_trip(proxy.listen) >= 0.4

    assert proxy.destroy_toxic("latency_downstream")
    assert proxy.toxics() == {}
    proxy.add_toxic(type="timeout", name="hold", attributes={"timeout": 0})
    proxy.disable()
    assert server.reset()
    assert server.get_proxy("py_db").enabled is True
    assert proxy.toxics() == {}
    assert round_trip(proxy.listen) < 0.4 + fast + 1.0

    made = server.populate([{"name": "py_cache", "upstream": upstream, "listen": "127.0.0.1:0"}])
    assert [p.name for p in made] == ["py_cache"], made
    round_trip(server.get_proxy("py_cache").listen)

    server.destroy_all()
    assert server.proxies() == {}
    print("toxiproxy-python: all checks passed (fast %.3fs, latency %.3fs)" % (fast, slow))


if __name__ == "__main__":
    main()
