"""Kubeconfig files: the cluster's own, and the `kwok-<name>` context merged into the user's."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from kwok.ctl.paths import PKIPaths

Config = dict[str, Any]


def cluster_kubeconfig(context: str, server: str, pki: PKIPaths | None) -> Config:
    cluster: dict[str, Any] = {"server": server}
    user: dict[str, Any] = {}
    if pki is not None:
        cluster["certificate-authority"] = str(pki.ca_crt)
        user = {"client-certificate": str(pki.admin_crt), "client-key": str(pki.admin_key)}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": context, "cluster": cluster}],
        "users": [{"name": context, "user": user}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
    }


def read(path: Path) -> Config:
    if not path.exists():
        return {"apiVersion": "v1", "kind": "Config", "preferences": {}}
    data = yaml.load(path.read_text(), Loader=yaml.CSafeLoader) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a kubeconfig (expected a mapping)")
    return data


def write(path: Path, config: Config) -> None:
    """Write atomically (a half-written ~/.kube/config would break every kubectl on the machine)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".kubeconfig-")
    with os.fdopen(fd, "w") as f:
        yaml.dump(config, f, Dumper=yaml.CSafeDumper, sort_keys=False)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _upsert(items: list[dict[str, Any]], entry: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in items if i.get("name") != entry["name"]] + [entry]


def merge_context(path: Path, own: Config) -> None:
    """Add the cluster's cluster/user/context to `path` and make it current, as kwokctl does."""
    config = read(path)
    for section in ("clusters", "users", "contexts"):
        items = list(config.get(section) or [])
        for entry in own[section]:
            items = _upsert(items, entry)
        config[section] = items
    config["current-context"] = own["current-context"]
    write(path, config)


def remove_context(path: Path, name: str) -> None:
    if not path.exists():
        return
    config = read(path)
    for section in ("clusters", "users", "contexts"):
        config[section] = [i for i in config.get(section) or [] if i.get("name") != name]
    if config.get("current-context") == name:
        config["current-context"] = ""
    write(path, config)
