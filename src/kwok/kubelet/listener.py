"""One TCP port for both HTTP and HTTPS (KWOK multiplexes its kubelet port with cmux).

Each accepted connection's first byte is peeked without consuming it: 0x16 starts a TLS
handshake, so the connection is handed to the HTTP server wrapped in TLS; anything else is plain
HTTP. Without a certificate a short-lived self-signed one is generated, as KWOK's test cert.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import logging
import os
import socket
import ssl
import tempfile
from collections.abc import Callable

from aiohttp import web

log = logging.getLogger("kwok.kubelet.server")

TLS_HANDSHAKE = 0x16
_PEEK_TIMEOUT = 10.0


class MultiplexedListener:
    def __init__(self, app: web.Application, host: str, port: int, tls: ssl.SSLContext | None) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._tls = tls
        self._runner: web.AppRunner | None = None
        self._sock: socket.socket | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self) -> None:
        self._runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        self._sock = socket.create_server((self._host, self._port), family=family, backlog=512)
        self._sock.setblocking(False)
        self.port = self._sock.getsockname()[1]

    async def serve(self) -> None:
        assert self._sock is not None and self._runner is not None
        loop = asyncio.get_running_loop()
        factory: Callable[[], asyncio.Protocol] = self._runner.server  # type: ignore[assignment]
        try:
            while True:
                conn, _ = await loop.sock_accept(self._sock)
                task = asyncio.create_task(self._hand_over(conn, factory))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        finally:
            await self.close()

    async def _hand_over(self, conn: socket.socket, factory: Callable[[], asyncio.Protocol]) -> None:
        loop = asyncio.get_running_loop()
        try:
            first = await asyncio.wait_for(_peek(loop, conn), _PEEK_TIMEOUT)
            use_tls = self._tls is not None and first[:1] == bytes([TLS_HANDSHAKE])
            await loop.connect_accepted_socket(factory, conn, ssl=self._tls if use_tls else None)
        except (OSError, TimeoutError, ssl.SSLError) as err:
            log.debug("kubelet server: dropped connection: %s", err)
            conn.close()

    async def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()


async def _peek(loop: asyncio.AbstractEventLoop, conn: socket.socket) -> bytes:
    readable = loop.create_future()

    def on_readable() -> None:
        if not readable.done():
            readable.set_result(None)

    loop.add_reader(conn.fileno(), on_readable)
    try:
        await readable
    finally:
        loop.remove_reader(conn.fileno())
    return conn.recv(1, socket.MSG_PEEK)


def server_tls(cert_file: str, key_file: str) -> ssl.SSLContext:
    """The given certificate, or a generated self-signed one."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)  # no client certificates asked: no CA store to load
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_file and key_file:
        ctx.load_cert_chain(cert_file, key_file)
        return ctx
    cert, key = self_signed()
    with tempfile.TemporaryDirectory() as tmp:
        cert_path, key_path = os.path.join(tmp, "tls.crt"), os.path.join(tmp, "tls.key")
        with open(cert_path, "wb") as f:
            f.write(cert)
        with open(key_path, "wb") as f:
            f.write(key)
        ctx.load_cert_chain(cert_path, key_path)
    return ctx


def self_signed() -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kwok-controller")])
    now = dt.datetime.now(dt.UTC)
    sans: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem
