"""Parse a resource URL into what it names, as apiserver's RequestInfoFactory does.

    /api/v1/namespaces/ns/pods/name/status      group "", version v1, namespace ns, pods, name, status
    /apis/apps/v1/deployments                   a collection across all namespaces
    /api/v1/watch/namespaces/ns/pods            the legacy watch path
    /api/v1/namespaces/ns                       the Namespace ns itself (and its status/finalize)
    /api/v1/nodes/n1/proxy/metrics/resource     nodes n1, subresource proxy, proxy_path metrics/resource
"""

from __future__ import annotations

from dataclasses import dataclass

_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})


@dataclass(frozen=True, slots=True)
class Target:
    group: str
    version: str
    plural: str = ""              # "" for the group-version root (discovery)
    namespace: str | None = None  # None: cluster scope or all namespaces
    name: str = ""
    subresource: str = ""
    legacy_watch: bool = False
    proxy_path: str = ""          # what follows .../proxy/ (pods, services, nodes), without the slash


def parse(path: str) -> Target | None:
    """The target of /api/... or /apis/... paths; None for anything else."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return None
    if parts[0] == "api":
        if len(parts) < 2:
            return None
        group, version, rest = "", parts[1], parts[2:]
    elif parts[0] == "apis":
        if len(parts) < 3:
            return None
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    legacy_watch = bool(rest) and rest[0] == "watch"
    if legacy_watch:
        rest = rest[1:]
    namespace = None
    if rest and rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
        else:
            # the namespace object itself: /namespaces/<name>[/status|/finalize]
            return Target(group, version, "namespaces", None, rest[1], rest[2] if len(rest) > 2 else "",
                          legacy_watch)
    if len(rest) > 3:
        if rest[2] != "proxy":
            return None
        tail = "/".join(rest[3:]) + ("/" if path.endswith("/") else "")
        return Target(group, version, rest[0], namespace, rest[1], "proxy", legacy_watch, tail)
    plural = rest[0] if rest else ""
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    return Target(group, version, plural, namespace, name, sub, legacy_watch)
