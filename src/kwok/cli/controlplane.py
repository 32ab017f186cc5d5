"""`kwok scheduler`, `kwok controller-manager` and `kwok control-plane` (both in one process).

Flags follow kube-scheduler and kube-controller-manager where they apply; rate-limit flags
(`--kube-api-qps`, `--kube-api-burst`) and per-controller concurrency flags are accepted for
compatibility with their command lines (this client does no rate limiting, like KWOK).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

SCHEDULER_LEASE = "kube-scheduler"
CONTROLLER_MANAGER_LEASE = "kube-controller-manager"


def _duration(ctx: click.Context | None, param: click.Parameter | None, value: str | None) -> float | None:
    if value is None:
        return None
    from kwok.engine.durations import parse_go_duration

    try:
        return parse_go_duration(value) / 1e9
    except ValueError as err:
        raise click.BadParameter(f"invalid duration {value!r}: {err}") from None


def common_options(default_secure_port: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    options = [
        click.option("--kubeconfig", default=None, help="Path to a kubeconfig with the API server and credentials."),
        click.option("--master", default=None, help="The API server address (overrides the kubeconfig)."),
        click.option("--leader-elect", type=click.BOOL, default=True, is_flag=False, flag_value=True,
                     help="Hold a Lease so that only one copy acts at a time (--leader-elect=false: never)."),
        click.option("--leader-elect-lease-duration", default="15s", callback=_duration),
        click.option("--leader-elect-renew-deadline", default="10s", callback=_duration),
        click.option("--leader-elect-retry-period", default="2s", callback=_duration),
        click.option("--leader-elect-resource-namespace", default="kube-system"),
        click.option("--bind-address", default="0.0.0.0", help="Address of the health and metrics endpoint."),
        click.option("--secure-port", type=int, default=None,
                     help=f"HTTPS port for /healthz, /readyz, /metrics (default {default_secure_port}; 0 disables)."),
        click.option("--port", type=int, default=None, help="Plain HTTP port for /healthz, /readyz, /metrics."),
        click.option("--kube-api-qps", type=float, default=None, help="Accepted for compatibility."),
        click.option("--kube-api-burst", type=int, default=None, help="Accepted for compatibility."),
        click.option("--authorization-always-allow-paths", default=None, help="Accepted for compatibility."),
        click.option("-v", "--v", "verbosity", type=int, default=0, help="Log verbosity."),
    ]

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


def manager_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--controllers", default="*", help="Controllers to run: '*' for the defaults, "
                     "'foo' enables, '-foo' disables (comma separated)."),
        click.option("--node-monitor-period", default="5s", callback=_duration),
        click.option("--node-monitor-grace-period", default="50s", callback=_duration),
        click.option("--node-startup-grace-period", default="1m", callback=_duration),
        click.option("--terminated-pod-gc-threshold", type=int, default=12500),
        click.option("--concurrent-syncs", "concurrency", multiple=True, hidden=True),
        click.option("--cluster-name", default="kubernetes"),
        click.option("--root-ca-file", default=None),
        click.option("--service-account-private-key-file", default=None),
        click.option("--use-service-account-credentials", is_flag=True, default=False),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _accept_concurrency_flags(cmd: click.Command) -> click.Command:
    """Accept every `--concurrent-*-syncs=N` of kube-controller-manager."""
    names = ["deployment", "replicaset", "statefulset", "daemonset", "job", "cronjob", "gc", "namespace",
             "service-endpoint", "endpointslice", "serviceaccount", "resource-quota", "ttl-after-finished",
             "rc", "horizontal-pod-autoscaler", "ephemeralvolume", "pv-protection", "validating-admission-policy"]
    for name in names:
        flag = f"--concurrent-{name}-syncs"
        cmd.params.append(click.Option([flag], type=int, default=None, expose_value=False,
                                       help="Accepted for compatibility."))
    return cmd


def _process_options(kw: dict[str, Any], default_secure_port: int) -> Any:
    from kwok.controlplane.app import ProcessOptions, configure_logging

    configure_logging(kw["verbosity"])
    secure = kw["secure_port"]
    if secure is None and kw["port"] is None:
        secure = default_secure_port
    return ProcessOptions(
        kubeconfig=kw["kubeconfig"], master=kw["master"], bind_address=kw["bind_address"], port=kw["port"],
        secure_port=secure or None, leader_elect=kw["leader_elect"],
        lease_duration=kw["leader_elect_lease_duration"], renew_deadline=kw["leader_elect_renew_deadline"],
        retry_period=kw["leader_elect_retry_period"], lease_namespace=kw["leader_elect_resource_namespace"])


def _scheduler_factory(config: str | None) -> Callable[[Any, Any], Any]:
    from kwok.controlplane.scheduler.config import load_scheduler_config
    from kwok.controlplane.scheduler.runner import Scheduler

    settings = load_scheduler_config(config)

    def build(client: Any, informers: Any) -> Any:
        return Scheduler(client, scheduler_names=settings.scheduler_names,
                         percentage_of_nodes_to_score=settings.percentage_of_nodes_to_score, informers=informers)

    return build


def _manager_factory(kw: dict[str, Any]) -> Callable[[Any, Any], Any]:
    from kwok.controlplane.controllers.manager import ControllerManager, ManagerOptions, select_controllers

    try:
        enabled = select_controllers(kw["controllers"])
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--controllers") from None
    options = ManagerOptions(controllers=enabled, node_monitor_period=kw["node_monitor_period"],
                             node_monitor_grace_period=kw["node_monitor_grace_period"],
                             node_startup_grace_period=kw["node_startup_grace_period"],
                             terminated_pod_gc_threshold=kw["terminated_pod_gc_threshold"])

    def build(client: Any, informers: Any) -> Any:
        return ControllerManager(client, options=options, informers=informers)

    return build


def _run(opts: Any, factories: dict[str, Callable[[Any, Any], Any]]) -> None:
    from kwok.cli.gctune import tune
    from kwok.controlplane.app import run

    tune()
    sys.exit(run(opts, factories))


@click.command("scheduler")
@common_options(10259)
@click.option("--config", default=None, help="A KubeSchedulerConfiguration file (profiles' schedulerName, "
              "percentageOfNodesToScore).")
def scheduler(**kw: Any) -> None:
    """Run the scheduler (kube-scheduler's default profile) against an API server."""
    opts = _process_options(kw, 10259)
    _run(opts, {SCHEDULER_LEASE: _scheduler_factory(kw["config"])})


@click.command("controller-manager")
@common_options(10257)
@manager_options
def controller_manager(**kw: Any) -> None:
    """Run the controllers (deployment, replicaset, job, gc, namespace, node lifecycle, ...)."""
    opts = _process_options(kw, 10257)
    _run(opts, {CONTROLLER_MANAGER_LEASE: _manager_factory(kw)})


@click.command("control-plane")
@common_options(10257)
@manager_options
@click.option("--config", default=None, help="The scheduler's KubeSchedulerConfiguration file.")
@click.option("--disable-scheduler", is_flag=True, default=False, help="Run the controllers only.")
def control_plane(**kw: Any) -> None:
    """Run the scheduler and the controllers in one process, each with its own Lease."""
    opts = _process_options(kw, 10257)
    factories = {CONTROLLER_MANAGER_LEASE: _manager_factory(kw)}
    if not kw["disable_scheduler"]:
        factories[SCHEDULER_LEASE] = _scheduler_factory(kw["config"])
    _run(opts, factories)


for _cmd in (controller_manager, control_plane):
    _accept_concurrency_flags(_cmd)


@click.group()
def main() -> None:
    """The control-plane commands, for `python -m kwok.cli.controlplane`."""


main.add_command(scheduler)
main.add_command(controller_manager)
main.add_command(control_plane)

if __name__ == "__main__":
    main()
