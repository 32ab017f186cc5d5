"""Run the API server: open the store, listen on TCP (plain or TLS) and/or a Unix socket, stop cleanly.

Local components reach the server over the Unix socket (mode 0600 is the boundary; no TLS, which
halves throughput); users and kubectl come over TLS. SIGTERM/SIGINT stop accepting, end the watches,
flush the store and exit.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import signal
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from kwok.apiserver import apiservices, metricsapi
from kwok.apiserver.admission.default_toleration_seconds import DefaultTolerationSeconds
from kwok.apiserver.app import Server, build_app
from kwok.apiserver.audit import AuditLog, Policy, PolicyError
from kwok.apiserver.auth import Authenticator
from kwok.apiserver.bootstrap import ensure_kubernetes_service, ensure_system_objects, system_context
from kwok.apiserver.catalog import Catalog
from kwok.apiserver.crd import CrdController
from kwok.apiserver.registry import AdmissionPlugin, Obj, admission_chain
from kwok.apiserver.storage import Store
from kwok.apiserver.storage.sqlite import SqliteBackend

log = logging.getLogger("kwok.apiserver")


@dataclass
class Options:
    bind_address: str = "127.0.0.1"
    port: int | None = None                 # plain HTTP
    secure_port: int | None = None          # HTTPS
    unix_socket: str | None = None
    data_dir: str | None = None             # None: memory only
    tls_cert_file: str | None = None
    tls_private_key_file: str | None = None
    client_ca_file: str | None = None
    generate_certs: bool = False
    token_auth_file: str | None = None
    watch_cache_window: int = 10_000
    log_requests: bool = False
    ready_file: str | None = None           # written with the bound ports once serving (for tests/tools)
    audit_policy_file: str | None = None    # kube-apiserver's --audit-policy-file
    audit_log_path: str | None = None       # kube-apiserver's --audit-log-path ("-": standard output)
    unix_socket_user: str | None = None     # the identity of the Unix socket's clients (else anonymous)
    unix_socket_groups: tuple[str, ...] = ()
    toleration_seconds: tuple[int, int] = (300, 300)   # --default-not-ready/unreachable-toleration-seconds
    hosts: list[str] = field(default_factory=lambda: ["127.0.0.1", "localhost"])


def _admission() -> list[AdmissionPlugin]:
    try:
        return admission_chain()
    except (ImportError, AttributeError):
        return []


def open_store(options: Options, catalog: Catalog) -> Store:
    """The store with every persisted object indexed (custom resources get the generic fields)."""
    backend = SqliteBackend(Path(options.data_dir) / "kwok.db") if options.data_dir else None
    store = Store(backend, window=options.watch_cache_window)
    strategies = {s.key: s.strategy for s in catalog}

    def fields_of(resource: str) -> Callable[[Obj], dict[str, str]]:
        strategy = strategies.get(resource)
        return strategy.field_values if strategy else _generic_fields

    count = store.load(fields_of)
    log.info("storage: %s objects, resourceVersion %d", count, store.rv)
    return store


def _crd_controller(server: Server) -> CrdController:
    """Serve the stored CRDs' resources and follow CRD changes (kwok.apiserver.crd)."""
    controller = CrdController(server.flow, server.catalog)
    controller.start()
    return controller


def _generic_fields(obj: Obj) -> dict[str, str]:
    meta = obj.get("metadata") or {}
    return {"metadata.name": meta.get("name", ""), "metadata.namespace": meta.get("namespace", "")}


def _ssl_context(options: Options) -> ssl.SSLContext | None:
    if options.secure_port is None:
        return None
    cert, key = options.tls_cert_file, options.tls_private_key_file
    ca = options.client_ca_file
    if not cert:
        if not options.data_dir:
            raise SystemExit("--secure-port needs --tls-cert-file/--tls-private-key-file or --data-dir for "
                             "--generate-certs")
        from kwok.apiserver.certs import generate

        ca_path, cert_path, key_path = generate(Path(options.data_dir) / "pki", options.hosts)
        cert, key, ca = str(cert_path), str(key_path), ca or str(ca_path)
    # Client certificates are checked against --client-ca-file only, never the system's public
    # CAs (kube-apiserver's rule; a test pins it).
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    if ca:
        # a client certificate is optional, but verified against the CA when presented
        context.verify_mode = ssl.CERT_OPTIONAL
        context.load_verify_locations(ca)
    return context


async def serve(options: Options) -> None:
    catalog = Catalog.builtin()
    apiservices.register(catalog)
    store = open_store(options, catalog)
    socket_identity = ((options.unix_socket_user, (*options.unix_socket_groups, "system:authenticated"))
                       if options.unix_socket_user else None)
    authenticator = Authenticator.from_token_file(options.token_auth_file, socket_identity)
    admission = _admission()
    for plugin in admission:
        if isinstance(plugin, DefaultTolerationSeconds):
            plugin.not_ready_seconds, plugin.unreachable_seconds = options.toleration_seconds
    server = Server(store, catalog, admission, authenticator, options.log_requests, _audit_log(options))
    server.openapi.described.append(apiservices.DESCRIPTION)
    crds = _crd_controller(server)
    await ensure_system_objects(server.flow, catalog)
    # The APIServices of the served group versions are registered once serving has begun (as the
    # aggregator's autoregistration does), then kept in step as CRD group versions come and go.
    registrar = apiservices.Registrar(server.flow, catalog, system_context, ((metricsapi.GROUP, metricsapi.VERSION),))
    catalog.listeners.append(registrar)
    app = build_app(server)
    # handler_cancellation: a watch ends as soon as its client disconnects (writes are shielded)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0,
                           handler_cancellation=True)
    await runner.setup()
    ports = await _start_sites(runner, options)
    registrar()
    served_port = ports.get("https") or ports.get("http")
    if served_port:
        await ensure_kubernetes_service(server.flow, catalog, _advertised(options.bind_address), int(served_port))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if options.ready_file:
        # written whole then renamed: a reader never sees a partial file
        ready = Path(options.ready_file)
        partial = ready.with_name(ready.name + ".partial")
        partial.write_text(" ".join(f"{k}={v}" for k, v in ports.items()) + "\n")
        partial.replace(ready)
    log.info("serving %s", ", ".join(f"{k} on {v}" for k, v in ports.items()))
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        crds.stop()
        store.close_watches()
        await runner.cleanup()
        for plugin in server.admission:
            await plugin.close()
        await store.close()
        if server.audit is not None:
            server.audit.close()


def _audit_log(options: Options) -> AuditLog | None:
    """As kube-apiserver: a policy without a log path (or the reverse) audits nothing."""
    if not options.audit_policy_file or not options.audit_log_path:
        return None
    try:
        policy = Policy.load(options.audit_policy_file)
    except PolicyError as exc:
        raise SystemExit(f"Error: loading audit policy file: {exc}") from None
    try:
        audit = AuditLog(policy, options.audit_log_path)
    except OSError as exc:
        raise SystemExit(f"Error: opening audit log {options.audit_log_path}: {exc.strerror or exc}") from None
    log.info("auditing to %s (policy %s)", options.audit_log_path, options.audit_policy_file)
    return audit


def _advertised(bind_address: str) -> str:
    """The address the `kubernetes` Endpoints name: the bind address, or loopback for a wildcard."""
    if bind_address in ("", "0.0.0.0"):
        return "127.0.0.1"
    if bind_address == "::":
        return "::1"
    try:
        return str(ipaddress.ip_address(bind_address))
    except ValueError:
        return "127.0.0.1"      # a host name: Endpoints hold addresses


async def _start_sites(runner: web.AppRunner, options: Options) -> dict[str, str]:
    ports: dict[str, str] = {}
    if options.port is not None:
        site = web.TCPSite(runner, options.bind_address, options.port, reuse_address=True)
        await site.start()
        ports["http"] = str(_bound_port(site))
    if options.secure_port is not None:
        site = web.TCPSite(runner, options.bind_address, options.secure_port, ssl_context=_ssl_context(options),
                           reuse_address=True)
        await site.start()
        ports["https"] = str(_bound_port(site))
    if options.unix_socket:
        path = options.unix_socket
        if os.path.exists(path):
            os.unlink(path)
        old = os.umask(0o177)
        try:
            usite = web.UnixSite(runner, path)
            await usite.start()
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        ports["unix"] = path
    return ports


def _bound_port(site: web.TCPSite) -> int:
    server: Any = site._server  # aiohttp keeps the asyncio server here; the port is known only after start
    return int(server.sockets[0].getsockname()[1])


def run(options: Options) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(options))
