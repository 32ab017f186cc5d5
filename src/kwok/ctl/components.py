"""The components of a cluster, described as plain data (KWOK's BuildXxxComponent + Runtime).

kwokctl builds each component as a value (command, args, ports, files); a runtime runs it, and
`--dry-run` prints the same value. The default runtime runs this package's own processes:

| component               | command                     | talks to the API server over |
|-------------------------|-----------------------------|------------------------------|
| kube-apiserver          | kwok apiserver              | (serves TLS + a Unix socket) |
| kube-controller-manager | kwok control-plane          | the Unix socket              |
|   (+ kube-scheduler)    |   (scheduler in-process)    |                              |
| kube-scheduler          | kwok scheduler (only when the controller manager is disabled) |
| kwok-controller         | kwok                        | the Unix socket              |

The scheduler shares the controller manager's process unless one of them is disabled: two cores
and the idle-memory budget favour three processes over four.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from typing import Any

from kwok.ctl.paths import ClusterPaths

APISERVER = "kube-apiserver"
CONTROLLER_MANAGER = "kube-controller-manager"
SCHEDULER = "kube-scheduler"
KWOK_CONTROLLER = "kwok-controller"
ALL = (APISERVER, CONTROLLER_MANAGER, SCHEDULER, KWOK_CONTROLLER)


@dataclass
class Component:
    name: str
    command: list[str]
    args: list[str] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)   # port name -> port
    health_url: str = ""                                  # plain HTTP /healthz of the component
    env: dict[str, str] = field(default_factory=dict)

    def argv(self) -> list[str]:
        return [*self.command, *self.args]

    def shell(self) -> str:
        return shlex.join(self.argv())


def kwok_command(binary: str = "") -> list[str]:
    """This package's `kwok`, run by the same interpreter (no PATH lookup, works in any venv)."""
    return [binary] if binary else [sys.executable, "-m", "kwok.cli.kwok"]


def build_apiserver(paths: ClusterPaths, opts: dict[str, Any], port: int) -> Component:
    args = [
        f"--bind-address={opts['bindAddress']}",
        f"--data-dir={paths.data}",
        f"--unix-socket={paths.socket}",
    ]
    if opts["securePort"]:
        pki = paths.pki
        args += [
            f"--secure-port={port}",
            f"--tls-cert-file={pki.admin_crt}",
            f"--tls-private-key-file={pki.admin_key}",
            f"--client-ca-file={pki.ca_crt}",
        ]
    else:
        args += [f"--port={port}"]
    scheme = "https" if opts["securePort"] else "http"
    return Component(APISERVER, kwok_command(), ["apiserver", *args], {scheme: port})


def build_control_plane(paths: ClusterPaths, opts: dict[str, Any], port: int, scheduler: bool) -> Component:
    monitor = opts["kubeControllerManagerNodeMonitorPeriodMilliseconds"]
    grace = opts["kubeControllerManagerNodeMonitorGracePeriodMilliseconds"]
    args = [
        "control-plane",
        f"--kubeconfig={paths.internal_kubeconfig}",
        f"--bind-address={opts['bindAddress']}",
        f"--port={port}",
        f"--node-monitor-period={monitor // 1000}s",
        f"--node-monitor-grace-period={grace // 1000}s",
    ]
    if not scheduler:
        args.append("--disable-scheduler")
    return Component(CONTROLLER_MANAGER, kwok_command(), args, {"http": port}, f"http://127.0.0.1:{port}/healthz")


def build_scheduler(paths: ClusterPaths, opts: dict[str, Any], port: int) -> Component:
    args = [
        "scheduler",
        f"--kubeconfig={paths.internal_kubeconfig}",
        f"--bind-address={opts['bindAddress']}",
        f"--port={port}",
    ]
    return Component(SCHEDULER, kwok_command(), args, {"http": port}, f"http://127.0.0.1:{port}/healthz")


def build_kwok_controller(paths: ClusterPaths, opts: dict[str, Any], port: int) -> Component:
    args = [
        f"--kubeconfig={paths.internal_kubeconfig}",
        f"--config={paths.config}",
        "--manage-all-nodes=true",
        # Nodes without a podCIDR share this range; KWOK's /24 default silently overflows (and
        # duplicates IPs) past 254 pods, ours refuses to, so a cluster gets room for 65,534.
        "--cidr=10.0.0.0/16",
        "--node-name=localhost",
        "--node-ip=127.0.0.1",
        f"--node-port={port}",
        f"--server-address={opts['bindAddress']}:{port}",
        f"--node-lease-duration-seconds={opts['nodeLeaseDurationSeconds']}",
    ]
    if opts["enableCRDs"]:
        args.append(f"--enable-crds={','.join(opts['enableCRDs'])}")
    return Component(
        KWOK_CONTROLLER, kwok_command(opts.get("kwokControllerBinary", "")), args, {"http": port},
        f"http://127.0.0.1:{port}/healthz",
    )


def enabled_components(opts: dict[str, Any]) -> list[str]:
    disabled = set(opts["disable"])
    if opts["disableKubeScheduler"]:
        disabled.add(SCHEDULER)
    if opts["disableKubeControllerManager"]:
        disabled.add(CONTROLLER_MANAGER)
    wanted = list(opts["components"]) or [APISERVER, CONTROLLER_MANAGER, SCHEDULER, KWOK_CONTROLLER]
    return [c for c in wanted if c not in disabled and c != "etcd"]


def apply_patches(component: Component, patches: list[dict[str, Any]]) -> None:
    """componentsPatches / --extra-args: `--key=value` added, or replacing the same key."""
    for patch in patches:
        if patch.get("name") != component.name:
            continue
        for extra in patch.get("extraArgs") or []:
            flag = f"--{extra['key']}"
            component.args = [a for a in component.args if not a.startswith(flag + "=")]
            component.args.append(f"{flag}={extra.get('value', '')}")
        for env in patch.get("extraEnvs") or []:
            component.env[env["name"]] = str(env.get("value", ""))


def build_all(paths: ClusterPaths, opts: dict[str, Any], ports: dict[str, int],
              patches: list[dict[str, Any]]) -> list[Component]:
    enabled = enabled_components(opts)
    out: list[Component] = []
    if APISERVER in enabled:
        out.append(build_apiserver(paths, opts, ports[APISERVER]))
    if CONTROLLER_MANAGER in enabled:
        out.append(build_control_plane(paths, opts, ports[CONTROLLER_MANAGER], SCHEDULER in enabled))
    elif SCHEDULER in enabled:
        out.append(build_scheduler(paths, opts, ports[SCHEDULER]))
    if KWOK_CONTROLLER in enabled:
        out.append(build_kwok_controller(paths, opts, ports[KWOK_CONTROLLER]))
    for c in out:
        apply_patches(c, patches)
    return out
