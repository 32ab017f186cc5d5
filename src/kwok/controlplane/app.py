"""Running control-plane components as a process: client, leader election, health, signals.

Each component (the scheduler, the controller manager) holds its own Lease, so a combined
`kwok control-plane` process and separate `kwok scheduler` / `kwok controller-manager` processes
coordinate the same way real ones do. A component acts only while it leads; losing the lease
ends the process with an error (as kube-controller-manager exits), SIGTERM ends it cleanly and
releases the lease so that a standby takes over without waiting for it to expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from kwok.client import Client, ClientConfig
from kwok.controlplane.health import HealthServer
from kwok.controlplane.informers import SharedInformers
from kwok.controlplane.leaderelection import LeaderElectionConfig, LeaderElector

log = logging.getLogger("kwok.controlplane")


class Component(Protocol):
    @property
    def synced(self) -> bool: ...

    async def run(self) -> None: ...


@dataclass
class ProcessOptions:
    kubeconfig: str | None = None
    master: str | None = None
    bind_address: str = "0.0.0.0"
    port: int | None = None  # plain HTTP
    secure_port: int | None = None  # HTTPS with a self-signed certificate
    leader_elect: bool = True
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    lease_namespace: str = "kube-system"
    lease_names: dict[str, str] = field(default_factory=dict)  # component -> lease name override


# A component is built from the process's client and its shared informers, so that components
# run together watch each resource once.
Factory = Callable[[Client, SharedInformers], Component]


async def run_process(opts: ProcessOptions, factories: dict[str, Factory]) -> int:
    """Run the components (lease name -> factory) until SIGTERM/SIGINT; the exit code."""
    # The caches hold hundreds of thousands of long-lived dicts; with the default thresholds the
    # cyclic collector rescans them all every few thousand allocations. Objects here rarely form
    # cycles, so collect far less often.
    gc.set_threshold(100_000, 50, 100)
    client = Client(ClientConfig.load(kubeconfig=opts.kubeconfig, master=opts.master))
    informers = SharedInformers(client)
    components: dict[str, Component] = {}
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    health = _health_server(opts, lambda: bool(components) and all(c.synced for c in components.values()))
    if health is not None:
        port = await health.start()
        log.info("serving healthz and metrics on %s:%d", opts.bind_address, port)
    electors: list[LeaderElector] = []
    tasks = []
    for lease, factory in factories.items():
        elector = None
        if opts.leader_elect:
            elector = LeaderElector(client, LeaderElectionConfig(
                opts.lease_names.get(lease, lease), opts.lease_namespace, opts.lease_duration,
                opts.renew_deadline, opts.retry_period))
            electors.append(elector)
        build = functools.partial(factory, client, informers)
        tasks.append(asyncio.create_task(_lead(lease, build, elector, components), name=lease))
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
    code = 0 if stopper in done else 1
    for task in done:
        if task is not stopper and task.exception() is not None:
            log.error("%s failed: %s", task.get_name(), task.exception())
    for task in [stopper, *tasks]:
        task.cancel()
    await asyncio.gather(stopper, *tasks, return_exceptions=True)
    for elector in electors:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(elector.release(), 2.0)
    await informers.stop()
    if health is not None:
        await health.stop()
    await client.close()
    log.info("stopped")
    return code


async def _lead(lease: str, build: Callable[[], Component], elector: LeaderElector | None,
                components: dict[str, Component]) -> None:
    if elector is not None:
        await elector.acquire()
    component = build()
    components[lease] = component
    work = asyncio.create_task(component.run(), name=f"{lease}-run")
    if elector is None:
        await work
        return
    keeper = asyncio.create_task(elector.keep(), name=f"{lease}-lease")
    try:
        done, _ = await asyncio.wait([work, keeper], return_when=asyncio.FIRST_COMPLETED)
        if keeper in done:
            raise RuntimeError(f"leaderelection lost for {lease}")
        work.result()
    finally:
        for task in (work, keeper):
            task.cancel()
        await asyncio.gather(work, keeper, return_exceptions=True)


def _health_server(opts: ProcessOptions, ready: Callable[[], bool]) -> HealthServer | None:
    if opts.port is not None:
        return HealthServer(opts.bind_address, opts.port, ready)
    if opts.secure_port:
        from kwok.controlplane.servingcert import self_signed_context

        return HealthServer(opts.bind_address, opts.secure_port, ready, self_signed_context())
    return None


def configure_logging(verbosity: int) -> None:
    level = logging.DEBUG if verbosity >= 4 else logging.INFO if verbosity >= 0 else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname).1s %(name)s] %(message)s")
    if verbosity < 2:
        logging.getLogger("kwok.client").setLevel(logging.WARNING)
        logging.getLogger("aiohttp").setLevel(logging.WARNING)


def run(opts: ProcessOptions, factories: dict[str, Factory]) -> int:
    try:
        import uvloop

        return uvloop.run(run_process(opts, factories))
    except ImportError:  # pragma: no cover - uvloop is a dependency; keep stdlib asyncio working
        return asyncio.run(run_process(opts, factories))
