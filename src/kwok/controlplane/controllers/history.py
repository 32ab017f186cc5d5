"""ControllerRevisions (pure), after pkg/controller/history: the immutable snapshots of a
StatefulSet's or DaemonSet's pod template that `kubectl rollout history/undo` read.

A revision is named `<owner>-<hash>`, the hash being FNV-32 of its data and the owner's collision
count (bumped when a different revision already holds the name); its `revision` number orders the
history. Two revisions are equal when their data is.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import orjson

from kwok.controlplane.controllers.deployment_logic import SAFE_ALPHANUMS, semantic
from kwok.controlplane.controllers.pods import controller_ref

HASH_LABEL = "controller-revision-hash"
_NAME_PREFIX_MAX = 223  # 253 minus room for the hash


def _fnv32(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h * 0x01000193) & 0xFFFFFFFF) ^ b
    return h


def template_patch(owner: dict[str, Any]) -> dict[str, Any]:
    """What a StatefulSet or DaemonSet revision holds: the strategic merge patch that restores the
    owner's pod template (getPatch)."""
    template = dict((owner.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def revision_hash(data: dict[str, Any], collision_count: int) -> str:
    return _safe_hash(orjson.dumps(data, option=orjson.OPT_SORT_KEYS) + str(collision_count).encode())


@lru_cache(maxsize=1024)
def _safe_hash(raw: bytes) -> str:
    """Cached: every sync of a set hashes its unchanged template again, and FNV in Python is slow."""
    return "".join(SAFE_ALPHANUMS[ord(c) % len(SAFE_ALPHANUMS)] for c in str(_fnv32(raw)))


def new_revision(owner: dict[str, Any], kind: str, data: dict[str, Any], number: int,
                 collision_count: int, hash_: str | None = None) -> dict[str, Any]:
    """The ControllerRevision of `data` (NewControllerRevision): the template's labels plus the
    hash label (by default the hash of the data), the owner's annotations, the owner as controller."""
    meta = owner["metadata"]
    hash_ = hash_ or revision_hash(data, collision_count)
    template_labels = (((owner.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
    revision_meta: dict[str, Any] = {
        "name": f"{meta['name'][:_NAME_PREFIX_MAX]}-{hash_}", "namespace": meta.get("namespace"),
        "labels": {**template_labels, HASH_LABEL: hash_},
        "ownerReferences": [controller_ref(owner, kind, "apps/v1")],
    }
    if meta.get("annotations"):
        revision_meta["annotations"] = dict(meta["annotations"])
    return {"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": revision_meta,
            "data": data, "revision": number}


def equal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(semantic(a.get("data")) == semantic(b.get("data")))


def ordered(revisions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """By revision number, then creation time, then name (SortControllerRevisions)."""
    return sorted(revisions, key=lambda r: (int(r.get("revision") or 0), r["metadata"].get("creationTimestamp") or "",
                                            r["metadata"]["name"]))


def next_number(revisions: list[dict[str, Any]]) -> int:
    return int(revisions[-1].get("revision") or 0) + 1 if revisions else 1


def to_truncate(revisions: list[dict[str, Any]], live: set[str], limit: int) -> list[dict[str, Any]]:
    """The oldest revisions beyond `limit` among those no pod and no status refers to."""
    history = [r for r in ordered(revisions) if r["metadata"]["name"] not in live]
    return history[:max(len(history) - limit, 0)]
