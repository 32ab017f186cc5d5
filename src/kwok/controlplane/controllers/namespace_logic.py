"""The status conditions of a terminating namespace (pure), as the namespace deleter writes them.

All five condition types are always present; the "remaining" ones turn True with messages that
name what is left (`Some resources are remaining: pods. has 2 resource instances`).
"""

from __future__ import annotations

from typing import Any

from kwok.controlplane.timefmt import rfc3339

_OK = {
    "NamespaceDeletionDiscoveryFailure": ("ResourcesDiscovered", "All resources successfully discovered"),
    "NamespaceDeletionGroupVersionParsingFailure": ("ParsedGroupVersions", "All legacy kube types successfully parsed"),
    "NamespaceDeletionContentFailure": ("ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
    "NamespaceContentRemaining": ("ContentRemoved", "All content successfully removed"),
    "NamespaceFinalizersRemaining": ("ContentHasNoFinalizers", "All content-preserving finalizers finished"),
}


def remaining_messages(counts: dict[str, int], finalizers: dict[str, int]) -> dict[str, tuple[str, str]]:
    """Failing conditions for the objects still present: {type: (reason, message)}."""
    out: dict[str, tuple[str, str]] = {}
    if counts:
        listed = ", ".join(f"{resource} has {n} resource instances" for resource, n in sorted(counts.items()))
        out["NamespaceContentRemaining"] = ("SomeResourcesRemain", f"Some resources are remaining: {listed}")
    if finalizers:
        listed = ", ".join(f"{name} in {n} resource instances" for name, n in sorted(finalizers.items()))
        out["NamespaceFinalizersRemaining"] = ("SomeFinalizersRemain",
                                               f"Some content in the namespace has finalizers remaining: {listed}")
    return out


def conditions(current: list[dict[str, Any]], failing: dict[str, tuple[str, str]], now: float) -> list[dict[str, Any]]:
    by_type = {c.get("type"): c for c in current}
    out = []
    for type_, (ok_reason, ok_message) in _OK.items():
        status, (reason, message) = ("True", failing[type_]) if type_ in failing else ("False", (ok_reason, ok_message))
        old = by_type.get(type_)
        since = old.get("lastTransitionTime") if old is not None and old.get("status") == status else rfc3339(now)
        out.append({"type": type_, "status": status, "lastTransitionTime": since, "reason": reason, "message": message})
    return out
