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

The scheduler shares the controller manager's process unless one of them is disabled (or runs
from a binary): two cores and the idle-memory budget favour three processes over four. The
user's own kube-apiserver (with etcd), kube-controller-manager and kube-scheduler binaries can
replace ours (kwok.ctl.binaries); ours then reach a real API server over TLS.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kwok.ctl.paths import ClusterPaths

APISERVER = "kube-apiserver"
CONTROLLER_MANAGER = "kube-controller-manager"
SCHEDULER = "kube-scheduler"
KWOK_CONTROLLER = "kwok-controller"
ETCD = "etcd"               # only with the user's own kube-apiserver (kwok.ctl.binaries)
ETCD_PEER = "etcd-peer"     # the key of etcd's second port
ALL = (ETCD, APISERVER, CONTROLLER_MANAGER, SCHEDULER, KWOK_CONTROLLER)
# Options naming a user's own Kubernetes binary for a component (kwok.ctl.binaries).
BINARY_OPTIONS = ("etcdBinary", "kubeApiserverBinary", "kubeControllerManagerBinary", "kubeSchedulerBinary")

# Read by `kwok` (kwok.cli.kwok, which keeps its own copy of the name to stay light): start the
# real work only once this socket exists. Given to the components started with our API server.
START_AFTER_SOCKET_ENV = "KWOK_START_AFTER_SOCKET"
# Read by `kwok apiserver` (kwok.cli.apiserver): files (":"-separated) to wait for after its
# imports and before it serves. kwokctl starts the API server first and writes the PKI meanwhile.
START_AFTER_FILES_ENV = "KWOK_START_AFTER_FILES"


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
        env = [f"{k}={shlex.quote(v)}" for k, v in self.env.items()]
        return " ".join([*env, shlex.join(self.argv())])


def kwok_command(binary: str = "") -> list[str]:
    """This package's `kwok`, run by the same interpreter (no PATH lookup, works in any venv)."""
    return [binary] if binary else [sys.executable, "-m", "kwok.cli.kwok"]


def build_apiserver(paths: ClusterPaths, opts: dict[str, Any], port: int) -> Component:
    args = [
        f"--bind-address={opts['bindAddress']}",
        f"--data-dir={paths.data}",
        f"--unix-socket={paths.socket}",
        # the components come through the socket as KWOK's come with the admin certificate
        "--unix-socket-user=kwok-admin",
        "--unix-socket-group=system:masters",
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
    args += audit_args(paths, opts)
    scheme = "https" if opts["securePort"] else "http"
    component = Component(APISERVER, kwok_command(), ["apiserver", *args], {scheme: port})
    if opts["securePort"]:
        files = (paths.pki.ca_crt, paths.pki.admin_crt, paths.pki.admin_key)
        component.env[START_AFTER_FILES_ENV] = ":".join(str(f) for f in files)
    return component


def audit_args(paths: ClusterPaths, opts: dict[str, Any]) -> list[str]:
    """kube-apiserver's audit flags (ours takes the same) when --kube-audit-policy was given."""
    if not opts.get("kubeAuditPolicy"):
        return []
    return [f"--audit-policy-file={paths.audit_policy}", f"--audit-log-path={paths.audit_log}"]


def build_control_plane(paths: ClusterPaths, opts: dict[str, Any], port: int, scheduler: bool,
                        kubeconfig: Path) -> Component:
    monitor = opts["kubeControllerManagerNodeMonitorPeriodMilliseconds"]
    grace = opts["kubeControllerManagerNodeMonitorGracePeriodMilliseconds"]
    args = [
        "control-plane",
        f"--kubeconfig={kubeconfig}",
        f"--bind-address={opts['bindAddress']}",
        f"--port={port}",
        f"--node-monitor-period={monitor // 1000}s",
        f"--node-monitor-grace-period={grace // 1000}s",
    ]
    if not scheduler:
        args.append("--disable-scheduler")
    return Component(CONTROLLER_MANAGER, kwok_command(), args, {"http": port}, f"http://127.0.0.1:{port}/healthz")


def build_scheduler(paths: ClusterPaths, opts: dict[str, Any], port: int, kubeconfig: Path) -> Component:
    args = [
        "scheduler",
        f"--kubeconfig={kubeconfig}",
        f"--bind-address={opts['bindAddress']}",
        f"--port={port}",
    ]
    return Component(SCHEDULER, kwok_command(), args, {"http": port}, f"http://127.0.0.1:{port}/healthz")


def build_kwok_controller(paths: ClusterPaths, opts: dict[str, Any], port: int, kubeconfig: Path) -> Component:
    args = [
        f"--kubeconfig={kubeconfig}",
        f"--config={paths.config}",
        "--manage-all-nodes=true",
    ]
    if opts["securePort"]:
        # KWOK's kwokctl serves the kubelet endpoints with the cluster's certificate too; without
        # one, kwok would generate a self-signed one, loading cryptography (~10 MB) to do it.
        args += [f"--tls-cert-file={paths.pki.admin_crt}", f"--tls-private-key-file={paths.pki.admin_key}"]
    args += [
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
    real = _real_binaries(opts)
    out: list[Component] = []
    if APISERVER in enabled:
        out += _api_components(paths, opts, ports, real)
    # Our components reach our API server over its Unix socket; a real one only over TLS.
    kubeconfig = paths.kubeconfig if APISERVER in real else paths.internal_kubeconfig
    together = {CONTROLLER_MANAGER, SCHEDULER} <= set(enabled) and not {CONTROLLER_MANAGER, SCHEDULER} & real.keys()
    if CONTROLLER_MANAGER in enabled:
        if CONTROLLER_MANAGER in real:
            out.append(_binaries().build_kube_controller_manager(paths, opts, ports[CONTROLLER_MANAGER]))
        else:
            out.append(build_control_plane(paths, opts, ports[CONTROLLER_MANAGER], together, kubeconfig))
    if SCHEDULER in enabled and not together:
        if SCHEDULER in real:
            out.append(_binaries().build_kube_scheduler(paths, opts, ports[SCHEDULER]))
        else:
            out.append(build_scheduler(paths, opts, ports[SCHEDULER], kubeconfig))
    if KWOK_CONTROLLER in enabled:
        out.append(build_kwok_controller(paths, opts, ports[KWOK_CONTROLLER], kubeconfig))
    for c in out:
        if APISERVER in enabled and APISERVER not in real and c.name != APISERVER and c.command == kwok_command():
            c.env[START_AFTER_SOCKET_ENV] = str(paths.socket)
        apply_patches(c, patches)
    return out


def _api_components(paths: ClusterPaths, opts: dict[str, Any], ports: dict[str, int],
                    real: dict[str, str]) -> list[Component]:
    if APISERVER not in real:
        return [build_apiserver(paths, opts, ports[APISERVER])]
    binaries = _binaries()
    return [binaries.build_etcd(paths, opts, ports[ETCD], ports[ETCD_PEER]),
            binaries.build_kube_apiserver(paths, opts, ports[APISERVER], ports[ETCD])]


def _real_binaries(opts: dict[str, Any]) -> dict[str, str]:
    if not any(opts.get(o) for o in BINARY_OPTIONS):
        return {}
    real: dict[str, str] = _binaries().real_binaries(opts)
    return real


def _binaries() -> Any:
    from kwok.ctl import binaries  # imports this module: loaded only when a binary is given

    return binaries
