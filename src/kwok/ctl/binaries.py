"""Components that run the user's own Kubernetes binaries, with the flags KWOK's kwokctl gives them.

`--kube-apiserver-binary`, `--etcd-binary`, `--kube-controller-manager-binary` and
`--kube-scheduler-binary` (options `kubeApiserverBinary`, `etcdBinary`, ...) name binaries that
are already on this machine; nothing is downloaded. A real kube-apiserver needs a real etcd.
Components not given a binary stay this package's own, and reach a real API server over TLS with
the cluster's admin certificate (there is no Unix socket then).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kwok.ctl.components import APISERVER, CONTROLLER_MANAGER, ETCD, SCHEDULER, Component, audit_args
from kwok.ctl.paths import ClusterPaths

# option -> (component, flag): the binaries kwokctl can run instead of its own components
BINARY_OPTIONS = {
    "etcdBinary": (ETCD, "--etcd-binary"),
    "kubeApiserverBinary": (APISERVER, "--kube-apiserver-binary"),
    "kubeControllerManagerBinary": (CONTROLLER_MANAGER, "--kube-controller-manager-binary"),
    "kubeSchedulerBinary": (SCHEDULER, "--kube-scheduler-binary"),
}
ALWAYS_ALLOW = "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics"


class BinaryError(ValueError):
    """A binary that was asked for and cannot be run."""


def real_binaries(opts: dict[str, Any]) -> dict[str, str]:
    """component -> binary path, for the components the user runs from their own binaries."""
    return {component: str(opts[option]) for option, (component, _) in BINARY_OPTIONS.items() if opts.get(option)}


def check_binaries(opts: dict[str, Any]) -> None:
    """Every binary given exists and is executable, and a real kube-apiserver has its etcd."""
    for option, (component, flag) in BINARY_OPTIONS.items():
        path = str(opts.get(option) or "")
        if not path:
            continue
        where = f"{component} binary {path!r} ({flag} / options.{option})"
        if "://" in path:
            raise BinaryError(f"{where}: kwokctl downloads nothing; give the path of a binary on this machine")
        if not Path(path).is_file():
            raise BinaryError(f"{where} does not exist")
        if not os.access(path, os.X_OK):
            raise BinaryError(f"{where} is not executable")
    if opts.get("kubeApiserverBinary") and not opts.get("etcdBinary"):
        raise BinaryError("a real kube-apiserver (--kube-apiserver-binary) needs etcd: give --etcd-binary too")


def build_etcd(paths: ClusterPaths, opts: dict[str, Any], port: int, peer_port: int) -> Component:
    address = opts["bindAddress"]
    quota = _bytes(str(opts["etcdQuotaBackendSize"]))
    args = [
        "--name=node0",
        "--auto-compaction-retention=1",
        f"--quota-backend-bytes={quota}",
        f"--data-dir={paths.root / 'etcd'}",
        f"--initial-advertise-peer-urls=http://{address}:{peer_port}",
        f"--listen-peer-urls=http://{address}:{peer_port}",
        f"--advertise-client-urls=http://{address}:{port}",
        f"--listen-client-urls=http://{address}:{port}",
        f"--initial-cluster=node0=http://{address}:{peer_port}",
    ]
    return Component(ETCD, [opts["etcdBinary"]], args, {"client": port, "peer": peer_port},
                     f"http://127.0.0.1:{port}/health")


def build_kube_apiserver(paths: ClusterPaths, opts: dict[str, Any], port: int, etcd_port: int) -> Component:
    pki = paths.pki
    args = [
        f"--etcd-prefix={opts['etcdPrefix']}",
        "--allow-privileged=true",
    ]
    if opts["disableQPSLimits"]:
        args += ["--max-requests-inflight=0", "--max-mutating-requests-inflight=0",
                 "--enable-priority-and-fairness=false"]
    args += [
        f"--etcd-servers=http://127.0.0.1:{etcd_port}",
        f"--bind-address={opts['bindAddress']}",
        f"--secure-port={port}",
        f"--tls-cert-file={pki.admin_crt}",
        f"--tls-private-key-file={pki.admin_key}",
        f"--client-ca-file={pki.ca_crt}",
        f"--service-account-key-file={pki.admin_key}",
        f"--service-account-signing-key-file={pki.admin_key}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--proxy-client-key-file={pki.admin_key}",
        f"--proxy-client-cert-file={pki.admin_crt}",
    ]
    if opts["kubeAuthorization"]:
        args.append("--authorization-mode=Node,RBAC")
    if not opts["kubeAdmission"]:
        args.append("--admission-control=")
    if opts["kubeFeatureGates"]:
        args.append(f"--feature-gates={opts['kubeFeatureGates']}")
    if opts["kubeRuntimeConfig"]:
        args.append(f"--runtime-config={opts['kubeRuntimeConfig']}")
    args += audit_args(paths, opts)
    return Component(APISERVER, [opts["kubeApiserverBinary"]], args, {"https": port},
                     f"https://127.0.0.1:{port}/readyz")


def build_kube_controller_manager(paths: ClusterPaths, opts: dict[str, Any], port: int) -> Component:
    monitor = opts["kubeControllerManagerNodeMonitorPeriodMilliseconds"]
    grace = opts["kubeControllerManagerNodeMonitorGracePeriodMilliseconds"]
    args = [
        f"--node-monitor-period={_go_duration(monitor)}",
        f"--node-monitor-grace-period={_go_duration(grace)}",
        f"--kubeconfig={paths.kubeconfig}",
        ALWAYS_ALLOW,
        f"--bind-address={opts['bindAddress']}",
        f"--secure-port={port}",
    ]
    if opts["kubeAuthorization"]:
        args += [f"--root-ca-file={paths.pki.ca_crt}", f"--service-account-private-key-file={paths.pki.admin_key}"]
    if opts["kubeFeatureGates"]:
        args.append(f"--feature-gates={opts['kubeFeatureGates']}")
    args += _qps(opts)
    return Component(CONTROLLER_MANAGER, [opts["kubeControllerManagerBinary"]], args, {"https": port},
                     f"https://127.0.0.1:{port}/healthz")


def build_kube_scheduler(paths: ClusterPaths, opts: dict[str, Any], port: int) -> Component:
    args = [f"--kubeconfig={paths.kubeconfig}"]
    if opts["kubeSchedulerConfig"]:
        args.append(f"--config={opts['kubeSchedulerConfig']}")
    args += [ALWAYS_ALLOW, f"--bind-address={opts['bindAddress']}", f"--secure-port={port}"]
    if opts["kubeFeatureGates"]:
        args.append(f"--feature-gates={opts['kubeFeatureGates']}")
    args += _qps(opts)
    return Component(SCHEDULER, [opts["kubeSchedulerBinary"]], args, {"https": port},
                     f"https://127.0.0.1:{port}/healthz")


def _qps(opts: dict[str, Any]) -> list[str]:
    return ["--kube-api-qps=5000", "--kube-api-burst=10000"] if opts["disableQPSLimits"] else []


def _go_duration(milliseconds: int) -> str:
    """Go's time.Duration.String() for whole seconds and minutes (200000 ms -> 3m20s)."""
    seconds = int(milliseconds) // 1000
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if hours or minutes else "")
    return f"{text}{seconds}s"


_UNITS = {"": 1, "k": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4,
          "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4}


def _bytes(quantity: str) -> int:
    """A binary/decimal size like KWOK's etcdQuotaBackendSize (8Gi) in bytes."""
    number = quantity.rstrip("kMGTi")
    unit = quantity[len(number):]
    if unit not in _UNITS or not number.isdigit():
        raise BinaryError(f"options.etcdQuotaBackendSize: invalid size {quantity!r}")
    return int(number) * _UNITS[unit]
