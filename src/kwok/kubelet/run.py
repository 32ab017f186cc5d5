"""Run the kwok controller process: event loop, client, controllers, kubelet server, signals.

SIGTERM and SIGINT cancel the main task; every controller stops at its next await, the
kubelet server closes and the client's connections are released, then the process exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from dataclasses import dataclass, field
from typing import Any

from kwok.client import Client, ClientConfig, ConfigError
from kwok.engine.lifecycle import StageSet
from kwok.kubelet.controller import Controller
from kwok.kubelet.listener import MultiplexedListener, server_tls
from kwok.kubelet.metrics import Metrics
from kwok.kubelet.options import KwokOptions
from kwok.kubelet.server import build_app

log = logging.getLogger("kwok")


@dataclass
class Settings:
    options: KwokOptions
    stages: StageSet | None  # None: watched from the cluster
    kubeconfig: str | None
    master: str
    identity: str
    objects: list[dict[str, Any]] = field(default_factory=list)  # Metric, ResourceUsage, ... from --config


def run(settings: Settings) -> None:
    try:
        config = ClientConfig.load(kubeconfig=settings.kubeconfig, master=settings.master or None)
    except ConfigError as err:
        log.error("%s", err)
        sys.exit(1)
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:  # pragma: no cover - uvloop is a dependency; keep working without it
        runner = asyncio.Runner()
    with runner:
        runner.run(_main(settings, config))


async def _main(settings: Settings, config: ClientConfig) -> None:
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, main.cancel)
    metrics = Metrics()
    async with Client(config) as client:
        controller = Controller(client, settings.options, settings.stages, settings.identity, metrics,
                                settings.objects)
        try:
            listener = await _start_server(settings.options, metrics, controller)
        except OSError as err:
            log.error("kubelet server: cannot listen on %s: %s", settings.options.listen_address, err)
            sys.exit(1)
        log.info("kwok controller %s starting against %s", settings.identity, config.server)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(controller.run())
                if listener is not None:
                    group.create_task(listener.serve())
        except asyncio.CancelledError:
            log.info("kwok controller stopped")


async def _start_server(options: KwokOptions, metrics: Metrics, controller: Controller) -> MultiplexedListener | None:
    address = options.listen_address
    if not address:
        return None
    host, _, port = address.rpartition(":")
    tls = server_tls(options.tls_cert_file, options.tls_private_key_file)
    listener = MultiplexedListener(build_app(metrics, controller), host.strip("[]") or "0.0.0.0", int(port), tls)
    await listener.start()
    log.info("kubelet server listening on %s:%d (HTTP and HTTPS)", host or "0.0.0.0", listener.port)
    return listener
