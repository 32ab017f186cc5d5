"""The control plane as API clients: a kube-scheduler-compatible scheduler and the core controllers.

Public surface (the CLI in kwok.cli.controlplane uses exactly this):

    Scheduler(client, scheduler_names=("default-scheduler",), rng=None, bind_concurrency=64,
              percentage_of_nodes_to_score=0, informers=None)   .run() / .synced
    ControllerManager(client, options=ManagerOptions(), informers=None)  .run() / .synced
    ManagerOptions(controllers, node_monitor_period, node_monitor_grace_period, ...)
    select_controllers("*,-job") -> list of controller names (kube-controller-manager's --controllers rules)
    ProcessOptions(...), run(opts, {lease_name: factory}) -> exit code   (leader election, health, signals);
        factory(client, informers) builds a component; `informers` (SharedInformers) is shared by
        the components of one process so each resource is watched once

Layout: `scheduler/` holds the pure algorithm (filters, scores, preemption, queue) and its runner;
`controllers/` one module of I/O per controller next to a `*_logic` module of pure decisions;
`leaderelection`, `events`, `health` are the process-level pieces shared by both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["ControllerManager", "ManagerOptions", "ProcessOptions", "Scheduler", "run", "select_controllers"]

if TYPE_CHECKING:
    from kwok.controlplane.app import ProcessOptions, run
    from kwok.controlplane.controllers.manager import ControllerManager, ManagerOptions, select_controllers
    from kwok.controlplane.scheduler.runner import Scheduler

_WHERE = {
    "Scheduler": "kwok.controlplane.scheduler.runner",
    "ControllerManager": "kwok.controlplane.controllers.manager",
    "ManagerOptions": "kwok.controlplane.controllers.manager",
    "select_controllers": "kwok.controlplane.controllers.manager",
    "ProcessOptions": "kwok.controlplane.app",
    "run": "kwok.controlplane.app",
}


def __getattr__(name: str) -> Any:
    """Import lazily: `kwok scheduler --help` must not pay for every controller module."""
    if name not in _WHERE:
        raise AttributeError(f"module 'kwok.controlplane' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_WHERE[name]), name)
