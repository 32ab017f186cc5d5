"""kwokctl configuration: KwokctlConfiguration options with KWOK's defaults, read from files.

Files are multi-document YAML (KWOK's format). `KwokctlConfiguration` documents are merged in order
into the options; every other document (KwokConfiguration, Stage, Metric, ...) is handed to the kwok
controller unchanged through the cluster's `kwok.yaml`. Precedence, as in KWOK: flags > `KWOK_*`
environment > `--config` files > `~/.kwok/kwok.yaml` > defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kwok import KUBE_VERSION, __version__

API_VERSION = "config.kwok.x-k8s.io/v1alpha1"

# Every option kwokctl understands, with KWOK's defaults (KWOK-REFERENCE.md §5.2). Options that
# only matter to container runtimes are accepted so that existing config files load unchanged.
DEFAULT_OPTIONS: dict[str, Any] = {
    "runtime": "binary",
    "runtimes": [],
    "kubeVersion": KUBE_VERSION,
    "kwokVersion": __version__,
    "bindAddress": "127.0.0.1",
    "kubeApiserverPort": 0,
    "kubeApiserverInsecurePort": 0,
    "insecureKubeconfig": False,
    "kwokControllerPort": 0,
    "kubeControllerManagerPort": 0,
    "kubeSchedulerPort": 0,
    "etcdPort": 0,
    "etcdPeerPort": 0,
    "prometheusPort": 0,
    "jaegerPort": 0,
    "metricsServerPort": 0,
    "securePort": True,
    "kubeAuthorization": True,
    "kubeAdmission": True,
    "kubeAuditPolicy": "",
    "kubeApiserverCertSANs": [],
    "components": [],
    "enable": [],
    "disable": [],
    "disableKubeScheduler": False,
    "disableKubeControllerManager": False,
    "enableMetricsServer": False,
    "enableCRDs": [],
    "nodeLeaseDurationSeconds": 40,
    "heartbeatFactor": 5,
    "nodeStatusUpdateFrequencyMilliseconds": 10000,
    "kubeControllerManagerNodeMonitorPeriodMilliseconds": 5000,
    "kubeControllerManagerNodeMonitorGracePeriodMilliseconds": 40000,
    "disableQPSLimits": False,
    "kubeFeatureGates": "",
    "kubeRuntimeConfig": "",
    "kubeSchedulerConfig": "",
    "quietPull": False,
    "cacheDir": "",
    "etcdPrefix": "/registry",
    "etcdQuotaBackendSize": "8Gi",
    "kubeApiserverBinary": "",
    "kubeControllerManagerBinary": "",
    "kubeSchedulerBinary": "",
    "etcdBinary": "",
    "kwokControllerBinary": "",
}

# Options given as image/binary/manifest/version settings for runtimes this build does not run;
# accepted (KWOK files carry them) but unused.
_PASSTHROUGH_SUFFIXES = ("Image", "ImagePrefix", "Binary", "BinaryPrefix", "Version", "Manifests", "Port")


class ConfigError(Exception):
    """A configuration problem, with where it is (file, document, field)."""


@dataclass
class ClusterConfig:
    options: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_OPTIONS))
    components_patches: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)   # passed to kwok unchanged

    def merge_options(self, opts: dict[str, Any], where: str) -> None:
        for key, value in opts.items():
            if key not in DEFAULT_OPTIONS and not key.endswith(_PASSTHROUGH_SUFFIXES):
                raise ConfigError(f"{where}: unknown field \"options.{key}\"")
            self.options[key] = value

    def to_documents(self) -> list[dict[str, Any]]:
        ctl = {
            "apiVersion": API_VERSION,
            "kind": "KwokctlConfiguration",
            "options": self.options,
            "componentsPatches": self.components_patches,
            "status": {"version": __version__},
        }
        return [ctl, *self.documents]


def load_documents(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(f"{path}: {e.strerror}") from None
    try:
        docs = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}:{yaml_error(e)}") from None
    out = []
    for i, doc in enumerate(docs):
        if doc is None:
            continue
        if not isinstance(doc, dict) or "kind" not in doc:
            raise ConfigError(f"{path}: document {i + 1}: expected an object with a \"kind\"")
        out.append(doc)
    return out


def yaml_error(e: yaml.YAMLError) -> str:
    """PyYAML's multi-line message as one `LINE:COL: invalid YAML: problem` line."""
    mark = getattr(e, "problem_mark", None)
    where = f"{mark.line + 1}:{mark.column + 1}:" if mark is not None else ""
    problem = getattr(e, "problem", None) or str(e).splitlines()[0]
    return f"{where} invalid YAML: {problem}"


_CTL_FIELDS = {"apiVersion", "kind", "metadata", "options", "componentsPatches", "components", "status"}


def load_config(paths: list[Path], base: ClusterConfig | None = None) -> ClusterConfig:
    cfg = base or ClusterConfig()
    for path in paths:
        for i, doc in enumerate(load_documents(path)):
            where = f"{path}: document {i + 1} ({doc['kind']})"
            if doc["kind"] != "KwokctlConfiguration":
                cfg.documents.append(doc)
                continue
            unknown = set(doc) - _CTL_FIELDS
            if unknown:
                raise ConfigError(f"{where}: unknown field \"{sorted(unknown)[0]}\"")
            cfg.merge_options(doc.get("options") or {}, where)
            cfg.components_patches.extend(doc.get("componentsPatches") or [])
    return cfg


def default_config_paths(given: list[str]) -> list[Path]:
    """`~/.kwok/kwok.yaml` first when it exists, then the files given (missing default: skipped)."""
    from kwok.ctl.paths import workdir

    default = workdir() / "kwok.yaml"
    paths = [default] if default.exists() else []
    for p in given:
        path = Path(p).expanduser()
        if path != default:
            paths.append(path)
    return paths


def env_overrides(options: dict[str, Any]) -> None:
    """KWOK_* variables (e.g. KWOK_KUBE_APISERVER_PORT, KWOK_RUNTIME) override files."""
    for key, default in DEFAULT_OPTIONS.items():
        env = "KWOK_" + "".join("_" + c if c.isupper() else c.upper() for c in key).lstrip("_")
        raw = os.environ.get(env)
        if raw is None:
            continue
        if isinstance(default, bool):
            options[key] = raw.lower() in ("1", "true", "yes")
        elif isinstance(default, int):
            options[key] = int(raw)
        elif isinstance(default, list):
            options[key] = [v for v in raw.split(",") if v]
        else:
            options[key] = raw


def save(path: Path, cfg: ClusterConfig) -> None:
    path.write_text(yaml.dump_all(cfg.to_documents(), Dumper=yaml.CSafeDumper, sort_keys=False))


def load_saved(path: Path) -> ClusterConfig:
    cfg = ClusterConfig()
    for doc in load_documents(path):
        if doc["kind"] == "KwokctlConfiguration":
            cfg.options.update(doc.get("options") or {})
            cfg.components_patches = list(doc.get("componentsPatches") or [])
        else:
            cfg.documents.append(doc)
    return cfg
