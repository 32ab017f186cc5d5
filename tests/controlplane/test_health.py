"""The scheduler's and controller manager's health server, spoken to over real sockets."""

from __future__ import annotations

import asyncio
import http.client
import socket
import ssl
import threading
from collections.abc import Iterator

import pytest

from kwok.controlplane.health import HealthServer


class Running:
    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self.synced = False
        self.loop = asyncio.new_event_loop()
        self.server = HealthServer("127.0.0.1", 0, lambda: self.synced, context)
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.port = asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture
def running() -> Iterator[Running]:
    server = Running()
    yield server
    server.stop()


def test_routes_on_one_kept_alive_connection(running: Running) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=5)
    answers = []
    for method, path in (("GET", "/healthz"), ("GET", "/livez?verbose"), ("GET", "/readyz"),
                         ("HEAD", "/healthz"), ("GET", "/nope"), ("POST", "/healthz")):
        conn.request(method, path, body=b"x" if method == "POST" else None)
        resp = conn.getresponse()
        answers.append((resp.status, resp.read(), resp.getheader("Content-Type")))
    running.synced = True
    conn.request("GET", "/readyz")
    resp = conn.getresponse()
    answers.append((resp.status, resp.read(), resp.getheader("Content-Type")))
    conn.close()
    text = "text/plain; charset=utf-8"
    assert answers == [
        (200, b"ok", text), (200, b"ok", text),
        (500, b"[-]informer-sync failed: not synced\nreadyz check failed\n", text),
        (200, b"", text), (404, b"404 page not found\n", text), (405, b"405 method not allowed\n", text),
        (200, b"ok", text),
    ]


def test_metrics_in_prometheus_text_format(running: Running) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=5)
    conn.request("GET", "/metrics")
    resp = conn.getresponse()
    body = resp.read().decode()
    assert resp.status == 200
    assert (resp.getheader("Content-Type") or "").startswith("text/plain; version=")
    assert "# TYPE process_resident_memory_bytes gauge" in body or "# TYPE python_info gauge" in body


def test_bad_requests_get_an_answer_and_a_closed_connection(running: Running) -> None:
    for raw, status in ((b"NONSENSE\r\n\r\n", b"400"),
                        (b"GET /healthz HTTP/1.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n", b"431")):
        with socket.create_connection(("127.0.0.1", running.port), timeout=5) as sock:
            sock.sendall(raw)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        assert data.split(b" ")[1] == status
        assert b"Connection: close" in data


def test_http_1_0_closes_after_the_answer(running: Running) -> None:
    with socket.create_connection(("127.0.0.1", running.port), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b"\r\n\r\nok")


def test_served_over_tls_when_given_a_context() -> None:
    from kwok.controlplane.servingcert import self_signed_context

    server = Running(self_signed_context())
    try:
        client = ssl.create_default_context()
        client.check_hostname = False
        client.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, timeout=5, context=client)
        conn.request("GET", "/healthz")
        assert conn.getresponse().read() == b"ok"
        conn.close()
    finally:
        server.stop()


def test_stop_closes_idle_kept_alive_connections_quietly(caplog: pytest.LogCaptureFixture) -> None:
    import time

    server = Running()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", "/healthz")
    assert conn.getresponse().read() == b"ok"   # the connection stays open, idle
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 1.0
    assert not [r for r in caplog.records if r.name == "asyncio"]
    conn.close()
