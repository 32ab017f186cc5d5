"""`kwokctl snapshot save|restore`.

Two formats, as in KWOK:
- `etcd` (the default; KWOK's name for "the storage's own format"): a consistent copy of the API
  server's SQLite store, taken online with SQLite's backup API; restoring stops the cluster, swaps the
  file in and starts it again, so every object comes back with its uid and resourceVersion.
- `k8s`: multi-document YAML of the listed objects (resourceVersion blanked), restored by creating
  the objects again; ownerReferences are re-linked to the new uids of owners restored before them,
  objects whose owners come later wait for them, and references to owners that never appear are
  dropped.
"""

from __future__ import annotations

import gzip
import io
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from kwok.client import ApiError, Client, Headers
from kwok.ctl.config import yaml_error

# KWOK's default --filter list, in restore order (owners before what they own).
DEFAULT_FILTER = (
    "namespace", "node", "serviceaccount", "configmap", "secret", "limitrange",
    "runtimeclass.node.k8s.io", "priorityclass.scheduling.k8s.io",
    "clusterrolebinding.rbac.authorization.k8s.io", "clusterrole.rbac.authorization.k8s.io",
    "rolebinding.rbac.authorization.k8s.io", "role.rbac.authorization.k8s.io",
    "daemonset.apps", "deployment.apps", "replicaset.apps", "statefulset.apps",
    "cronjob.batch", "job.batch", "persistentvolumeclaim", "persistentvolume", "pod", "service",
    "endpoints",
)
_SERVER_SET = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation", "selfLink")


class SnapshotError(Exception):
    pass


def storage_file(data_dir: Path) -> Path:
    dbs = sorted(data_dir.glob("*.db")) + sorted(data_dir.glob("*.sqlite"))
    if not dbs:
        raise SnapshotError(f"no storage file in {data_dir}")
    return dbs[0]


def save_storage(data_dir: Path, dest: Path) -> None:
    src = sqlite3.connect(f"file:{storage_file(data_dir)}?mode=ro", uri=True)
    tmp = dest.with_suffix(dest.suffix + ".tmp")
    out = sqlite3.connect(tmp)
    try:
        src.backup(out)
    finally:
        out.close()
        src.close()
    tmp.replace(dest)


def restore_storage(data_dir: Path, source: Path) -> None:
    """Swap the store's file for the snapshot (the API server must be stopped)."""
    try:
        check = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        check.execute("PRAGMA schema_version").fetchone()
        check.close()
    except sqlite3.DatabaseError as e:
        raise SnapshotError(f"{source}: not a snapshot of this format ({e})") from None
    target = storage_file(data_dir)
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    dst = sqlite3.connect(target)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


# ------------------------------------------------------------------------------------ k8s format
async def _resolve(client: Client, spec: str, headers: Headers | None = None) -> tuple[str, str, bool, str]:
    """`deployment.apps` -> (group_version, plural, namespaced, kind) via discovery."""
    name, _, group = spec.partition(".")
    paths = ["/api/v1"] if not group else []
    if group:
        info = await client.request("GET", f"/apis/{group}", headers=headers)
        assert isinstance(info, dict)
        paths.append(f"/apis/{info['preferredVersion']['groupVersion']}")
    for path in paths:
        found = await client.request("GET", path, headers=headers)
        assert isinstance(found, dict)
        gv = found["groupVersion"]
        for r in found.get("resources") or []:
            if "/" in r["name"]:
                continue
            if name in (r["name"], r.get("singularName"), r["kind"].lower()):
                return gv, r["name"], bool(r.get("namespaced")), r["kind"]
    raise SnapshotError(f"--filter {spec!r}: the server does not serve it")


async def save_k8s(client: Client, filters: Iterable[str], page_size: int = 500,
                   headers: Headers | None = None) -> bytes:
    """The filtered resources as KWOK's multi-document YAML (`headers`: impersonation, for export)."""
    docs: list[dict[str, Any]] = []
    for spec in filters:
        try:
            gv, plural, _, kind = await _resolve(client, spec, headers)
        except ApiError as e:
            if e.is_not_found:
                continue
            raise
        path = client.resource(gv, plural).path(None)
        token = None
        while True:
            page = await client.request("GET", path, params={"limit": page_size, "continue": token},
                                        headers=headers, timeout=300)
            assert isinstance(page, dict)
            for item in page.get("items") or []:
                item["apiVersion"], item["kind"] = gv, kind
                item["metadata"].pop("resourceVersion", None)
                item["metadata"].pop("managedFields", None)
                docs.append(item)
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                break
    return yaml.dump_all(docs, Dumper=yaml.CSafeDumper, sort_keys=False).encode()


def write_bytes(path: Path, data: bytes) -> None:
    if path.suffix in (".gz", ".tgz"):
        data = gzip.compress(data)
    path.write_bytes(data)


def read_documents(path: Path) -> list[dict[str, Any]]:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    try:
        docs = [d for d in yaml.load_all(io.BytesIO(data), Loader=yaml.CSafeLoader) if d]
    except yaml.YAMLError as e:
        raise SnapshotError(f"{path}:{yaml_error(e)}") from None
    return [d for d in docs if isinstance(d, dict) and "kind" in d and "apiVersion" in d]


async def restore_k8s(client: Client, docs: list[dict[str, Any]]) -> int:
    """Create every object, owners first; returns how many were created."""
    old_to_new: dict[str, str] = {}
    known_uids = {d["metadata"].get("uid") for d in docs if d["metadata"].get("uid")}
    pending = list(docs)
    created = 0
    rest_cache: dict[tuple[str, str], tuple[str, bool]] = {}
    while pending:
        progressed, waiting = False, []
        for doc in pending:
            refs = doc["metadata"].get("ownerReferences") or []
            if any(r.get("uid") in known_uids and r["uid"] not in old_to_new for r in refs):
                waiting.append(doc)
                continue
            new_uid = await _create(client, doc, old_to_new, rest_cache)
            if doc["metadata"].get("uid") and new_uid:
                old_to_new[doc["metadata"]["uid"]] = new_uid
            created += 1
            progressed = True
        if not progressed:   # an owner cycle: create the rest with the references dropped
            for doc in waiting:
                doc["metadata"].pop("ownerReferences", None)
        pending = waiting
    return created


async def _create(client: Client, doc: dict[str, Any], old_to_new: dict[str, str],
                  cache: dict[tuple[str, str], tuple[str, bool]]) -> str | None:
    meta = doc["metadata"]
    for field in _SERVER_SET:
        meta.pop(field, None)
    refs = [dict(r, uid=old_to_new[r["uid"]]) for r in meta.get("ownerReferences") or [] if r.get("uid") in old_to_new]
    if refs:
        meta["ownerReferences"] = refs
    else:
        meta.pop("ownerReferences", None)
    cache_key = (doc["apiVersion"], doc["kind"])
    if cache_key not in cache:
        gv = doc["apiVersion"]
        found = await client.request("GET", f"/api/{gv}" if "/" not in gv else f"/apis/{gv}")
        assert isinstance(found, dict)
        match = next((r for r in found.get("resources") or [] if r["kind"] == doc["kind"] and "/" not in r["name"]), None)
        if match is None:
            raise SnapshotError(f"the server does not serve {doc['kind']} in {gv}")
        cache[cache_key] = (match["name"], bool(match.get("namespaced")))
    plural, namespaced = cache[cache_key]
    api = client.resource(doc["apiVersion"], plural)
    try:
        out = await api.create(doc, namespace=meta.get("namespace") if namespaced else None)
    except ApiError as e:
        # already there (the namespaces every cluster has; the `kubernetes` Service, whose create
        # fails on its taken cluster IP before the name is checked): keep it, link children to it
        ns = meta.get("namespace") if namespaced else None
        live = None
        if e.is_already_exists or e.status in (409, 422):
            try:
                live = await api.get(meta["name"], namespace=ns)
            except ApiError:
                live = None
        if live is None:
            raise SnapshotError(f"restoring {doc['kind']} {meta.get('name')}: {e.message}") from None
        return str(live["metadata"]["uid"])
    return str(out["metadata"]["uid"])
