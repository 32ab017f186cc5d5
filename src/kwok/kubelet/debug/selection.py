"""Which Logs/Exec/Attach/PortForward entry applies to a pod's container (or port).

KWOK's rule, the same for every kind: a namespaced object named like the pod, in the pod's
namespace, is exclusive (if it has no entry for the container, that is an error and the
cluster-scoped objects are not consulted); otherwise the first cluster-scoped object whose
selector matches the pod. Within an object's list the first entry naming the container wins,
and the first entry naming no container is the fallback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class Feature:
    """One debugging feature: its two kinds, the spec list, the list key and error wording."""

    kind: str
    cluster_kind: str
    list_field: str  # spec.<list_field>[]
    key_field: str  # containers | ports
    not_in_object: str  # KWOK's error wording when the pod's own object lacks the entry
    nothing: str  # ... and when no object applies


LOGS = Feature("Logs", "ClusterLogs", "logs", "containers", "log target not found", "no logs found")
EXEC = Feature("Exec", "ClusterExec", "execs", "containers", "exec target not found", "no exec found")
ATTACH = Feature("Attach", "ClusterAttach", "attaches", "containers", "attach target not found", "no attach found")
PORT_FORWARD = Feature("PortForward", "ClusterPortForward", "forwards", "ports", "forward not found", "no forward found")


class TargetNotFound(LookupError):
    """No entry applies: the message is KWOK's."""


def selector_matches(selector: Obj | None, namespace: str, name: str) -> bool:
    """ObjectSelector: a missing selector matches everything, an empty list means any."""
    if selector is None:
        return True
    namespaces = selector.get("matchNamespaces") or []
    names = selector.get("matchNames") or []
    return (not namespaces or namespace in namespaces) and (not names or name in names)


def find_entry(entries: Sequence[Obj], key: Any, key_field: str) -> Obj | None:
    fallback = None
    for entry in entries:
        keys = entry.get(key_field) or []
        if not keys:
            if fallback is None:
                fallback = entry
            continue
        if key in keys:
            return entry
    return fallback


def select(
    feature: Feature,
    namespaced: Iterable[Obj],
    cluster: Iterable[Obj],
    namespace: str,
    name: str,
    key: Any,
) -> Obj:
    """The entry for container (or port) `key` of pod namespace/name; raises TargetNotFound."""
    what = f"port {key}" if feature.key_field == "ports" else f'container "{key}"'
    for obj in namespaced:
        meta = obj.get("metadata") or {}
        if meta.get("name") == name and (meta.get("namespace") or "default") == namespace:
            entry = find_entry(_entries(obj, feature), key, feature.key_field)
            if entry is None:
                raise TargetNotFound(f'{feature.not_in_object} for {what} in pod "{namespace}/{name}"')
            return entry
    for obj in cluster:
        if not selector_matches((obj.get("spec") or {}).get("selector"), namespace, name):
            continue
        entry = find_entry(_entries(obj, feature), key, feature.key_field)
        if entry is not None:
            return entry
    raise TargetNotFound(f'{feature.nothing} for {what} in pod "{namespace}/{name}"')


def _entries(obj: Obj, feature: Feature) -> Sequence[Obj]:
    return (obj.get("spec") or {}).get(feature.list_field) or []
