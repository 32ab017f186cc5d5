"""`kwok [FLAGS]`: the kwok controller, with KWOK's flags and start-up checks (KWOK §1.1-1.4).

Precedence: flags given on the command line > KwokConfiguration options from --config > defaults.
Configuration errors are reported at start and exit 1; everything after start-up (an
unreachable API server, a failing Stage) is logged and retried instead.
"""

from __future__ import annotations

import logging
import os
import pathlib
import socket
import sys
import uuid
from typing import Any

import click

DEFAULT_CONFIG = "~/.kwok/kwok.yaml"
LOG_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARN": logging.WARNING, "WARNING": logging.WARNING,
              "ERROR": logging.ERROR, "-4": logging.DEBUG, "0": logging.INFO, "4": logging.WARNING,
              "8": logging.ERROR}

# flag parameter name -> KwokOptions field (the flags that map to KwokConfiguration.options)
OPTION_FLAGS = (
    "cidr", "node_ip", "node_name", "node_port", "tls_cert_file", "tls_private_key_file",
    "manage_single_node", "manage_all_nodes", "manage_nodes_with_annotation_selector",
    "manage_nodes_with_label_selector", "disregard_status_with_annotation_selector",
    "disregard_status_with_label_selector", "server_address", "node_lease_duration_seconds", "enable_crds",
)


def build_root_command(group_cls: type[click.Group]) -> click.Group:
    @click.group(
        cls=group_cls,
        invoke_without_command=True,
        context_settings={"help_option_names": ["-h", "--help"]},
        help="kwok is a tool for simulate thousands of fake kubelets (the kwok controller).",
    )
    @click.option("-c", "--config", "configs", multiple=True, help=f"Config files, dirs or - (default {DEFAULT_CONFIG}).")
    @click.option("-v", "--v", "verbosity", default="INFO", help="Log level: DEBUG, INFO, WARN, ERROR (or -4/0/4/8).")
    @click.option("--kubeconfig", default="~/.kube/config", help="Path to the kubeconfig file.")
    @click.option("--master", default="", help="Server of the API server (overrides the kubeconfig).")
    @click.option("--cidr", default="10.0.0.0/24", help="CIDR of the pod IPs when a node has no podCIDR.")
    @click.option("--node-ip", default="", help="IP of the node (default: this host's IP).")
    @click.option("--node-name", default="", help="Name of the node (the Hostname address).")
    @click.option("--node-port", type=int, default=0, help="Port of the node (the kubelet endpoint).")
    @click.option("--tls-cert-file", default="", help="File containing the default x509 certificate for HTTPS.")
    @click.option("--tls-private-key-file", default="", help="File containing the default x509 private key.")
    @click.option("--manage-single-node", default="", help="Manage only the node with this name.")
    @click.option("--manage-all-nodes", is_flag=True, default=False, help="Manage all nodes.")
    @click.option("--manage-nodes-with-annotation-selector", default="", help="Manage nodes with these annotations.")
    @click.option("--manage-nodes-with-label-selector", default="", help="Manage nodes with these labels.")
    @click.option("--disregard-status-with-annotation-selector", default="", hidden=True)
    @click.option("--disregard-status-with-label-selector", default="", hidden=True)
    @click.option("--server-address", default="", help="Address of the kubelet server (e.g. 0.0.0.0:10247).")
    @click.option("--node-lease-duration-seconds", type=int, default=0, help="Node lease duration (0: no leases).")
    @click.option("--enable-crds", multiple=True, help="Kinds read from the cluster instead of --config.")
    @click.option("--tracing-endpoint", default="", hidden=True)
    @click.option("--tracing-sampling-rate-per-million", type=int, default=0, hidden=True)
    @click.pass_context
    def kwok(ctx: click.Context, /, configs: tuple[str, ...], verbosity: str, kubeconfig: str, master: str,
             **flags: Any) -> None:
        if ctx.invoked_subcommand is not None:
            return
        _setup_logging(verbosity)
        explicit = {name for name in OPTION_FLAGS
                    if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE}
        run_controller(configs, kubeconfig, master, flags, explicit)

    return kwok


def _setup_logging(verbosity: str) -> None:
    level = LOG_LEVELS.get(verbosity.upper())
    if level is None:
        raise click.BadParameter(f"unknown log level {verbosity!r}", param_hint="'-v'")
    logging.basicConfig(stream=sys.stderr, level=level, format="%(asctime)s %(levelname)-5s %(name)s: %(message)s")
    if level > logging.DEBUG:
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def run_controller(configs: tuple[str, ...], kubeconfig: str, master: str, flags: dict[str, Any],
                   explicit: set[str]) -> None:
    from kwok.cli.gctune import tune
    from kwok.kubelet.options import OptionsError
    from kwok.kubelet.run import Settings, run

    docs = _load_config(configs)
    try:
        options = _options(docs, flags, explicit)
        options.validate()
        stages = _stages(docs, options.enable_crds)
    except OptionsError as err:
        raise click.ClickException(str(err)) from None
    objects = [d for d in docs if d.get("kind") not in ("Stage", "KwokConfiguration", "KwokctlConfiguration")]
    tune()
    run(Settings(options=options, stages=stages, kubeconfig=_kubeconfig(kubeconfig), master=master,
                 identity=f"{socket.gethostname()}_{uuid.uuid4()}", objects=objects))


def _kubeconfig(path: str) -> str | None:
    """As KWOK: a missing kubeconfig (or a directory) is dropped with a warning (in-cluster then)."""
    expanded = os.path.expanduser(path)
    if path and os.path.isfile(expanded):
        return expanded
    if path and path != "~/.kube/config":
        logging.getLogger("kwok").warning("kubeconfig %s not found, ignoring it", path)
    return None


def _config_paths(configs: tuple[str, ...]) -> list[str]:
    paths = list(configs)
    default = os.path.expanduser(DEFAULT_CONFIG)
    if not paths or (DEFAULT_CONFIG not in paths and os.path.exists(default)):
        paths.insert(0, DEFAULT_CONFIG)
    out = []
    for p in paths:
        if p in (DEFAULT_CONFIG, default) and not os.path.exists(default):
            continue  # the default is optional
        out.append(p)
    return out


def _read_config(path: str) -> list[tuple[str, str]]:
    if path == "-":
        return [("<stdin>", sys.stdin.read())]
    target = pathlib.Path(os.path.expanduser(path))
    try:
        if target.is_dir():
            files = sorted(p for p in target.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()
                           and p.name not in ("kustomization.yaml", "kustomization.yml"))
            return [(str(f), f.read_text()) for f in files]
        return [(str(target), target.read_text())]
    except OSError as err:
        raise click.ClickException(f"--config {path}: {err.strerror or err}") from None


def _load_config(configs: tuple[str, ...]) -> list[dict[str, Any]]:
    from kwok.engine.config import ConfigError, load_documents

    log = logging.getLogger("kwok")
    docs: list[dict[str, Any]] = []
    for path in _config_paths(configs):
        for source, text in _read_config(path):
            try:
                loaded = load_documents(text, source)
            except ConfigError as err:
                raise click.ClickException(str(err)) from None
            for warning in loaded.warnings:
                log.warning("%s", warning)
            docs.extend(loaded.objects)
    return docs


def _options(docs: list[dict[str, Any]], flags: dict[str, Any], explicit: set[str]) -> Any:
    from kwok.kubelet.options import KwokOptions

    merged: dict[str, Any] = {}
    for doc in docs:
        if doc.get("kind") == "KwokConfiguration":
            merged.update({k: v for k, v in (doc.get("options") or {}).items() if v is not None})
    options = KwokOptions.from_config(merged)
    for name in explicit:
        value = flags[name]
        setattr(options, name, list(value) if name == "enable_crds" else value)
    if not options.node_ip:
        options.node_ip = _host_ip()
    return options


def _stages(docs: list[dict[str, Any]], enable_crds: list[str]) -> Any:
    from kwok.engine.lifecycle import StageSet
    from kwok.engine.stage import StageError
    from kwok.kubelet.options import OptionsError

    log = logging.getLogger("kwok")
    for kind in enable_crds:
        if any(d.get("kind") == kind for d in docs):
            raise OptionsError(f"{kind} already exists in --config, please remove it or remove it from --enable-crds")
    if "Stage" in enable_crds:
        return None
    try:
        stages = StageSet.load(docs)
    except StageError as err:
        raise OptionsError(str(err)) from None
    if not stages.stages:
        raise OptionsError("no stages found")
    refs = set(stages.resource_refs())
    for kind in ("Node", "Pod"):
        if ("v1", kind) not in refs:
            log.warning("no %s stages found: %ss will not be simulated", kind, kind.lower())
    return stages


def _host_ip() -> str:
    """KWOK's default --node-ip: the pod's IP in a cluster, else this host's address."""
    if os.environ.get("POD_IP"):
        return os.environ["POD_IP"]
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"
