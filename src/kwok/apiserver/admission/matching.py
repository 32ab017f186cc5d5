"""Which admission requests a webhook or a ValidatingAdmissionPolicy applies to.

The pieces of admissionregistration.k8s.io/v1 shared by webhooks and policies, with the
semantics of k8s.io/apiserver's admission/plugin/webhook/predicates:

- `rules` (RuleWithOperations): operations, apiGroups, apiVersions, resources (`*`, `pods/*`,
  `*/status`, `pods/status`) and scope (`Cluster`, `Namespaced`, `*`); a Namespace object counts as
  cluster-scoped for `Cluster` and never as `Namespaced`;
- `namespaceSelector`: labels of the request's namespace (of the Namespace itself for a request on
  a Namespace); requests on other cluster-scoped objects always match;
- `objectSelector`: labels of the new or the old object (either matches);
- `matchPolicy`: `Exact` matches the request's own group/version/resource; `Equivalent` (the
  default) also tries the other versions the same resource is served in, and when one matches the
  webhook sees the object in that version.

Configuration objects of admissionregistration.k8s.io are exempt: no webhook or policy can lock
itself (or an administrator) out of repairing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from kwok.api.selectors import EVERYTHING, LabelSelector, label_selector_from_object
from kwok.apiserver.registry import AdmissionRequest

Obj = dict[str, Any]
T = TypeVar("T")

EXEMPT_GROUP = "admissionregistration.k8s.io"
EXEMPT_RESOURCES = frozenset({
    "validatingwebhookconfigurations", "mutatingwebhookconfigurations",
    "validatingadmissionpolicies", "validatingadmissionpolicybindings",
    "mutatingadmissionpolicies", "mutatingadmissionpolicybindings",
})


@dataclass(frozen=True)
class Target:
    """The group/version/resource (and kind) a rule is tested against."""

    group: str
    version: str
    resource: str
    kind: str


def is_exempt(req: AdmissionRequest) -> bool:
    return req.info.group == EXEMPT_GROUP and req.info.plural in EXEMPT_RESOURCES


@dataclass(frozen=True)
class Rule:
    operations: tuple[str, ...]
    groups: tuple[str, ...]
    versions: tuple[str, ...]
    resources: tuple[tuple[str, str], ...]     # (resource, subresource) pairs
    scope: str
    names: tuple[str, ...] = ()                # resourceNames (policies' NamedRuleWithOperations)

    @classmethod
    def parse(cls, rule: Mapping[str, Any]) -> Rule:
        resources = tuple(_split_resource(r) for r in rule.get("resources") or ())
        return cls(tuple(rule.get("operations") or ()), tuple(rule.get("apiGroups") or ()),
                   tuple(rule.get("apiVersions") or ()), resources, rule.get("scope") or "*",
                   tuple(rule.get("resourceNames") or ()))

    def matches(self, req: AdmissionRequest, target: Target) -> bool:
        return (self._scope(req) and _listed(self.operations, req.operation)
                and _listed(self.groups, target.group) and _listed(self.versions, target.version)
                and self._resource(target.resource, req.subresource)
                and (not self.names or req.name in self.names))

    def could_match(self, req: AdmissionRequest) -> bool:
        """Whether some version of the request's resource could match (cheap: no versions, no scope)."""
        return (_listed(self.operations, req.operation) and _listed(self.groups, req.info.group)
                and self._resource(req.info.plural, req.subresource))

    def _resource(self, resource: str, subresource: str) -> bool:
        return any((res in ("*", resource)) and (sub in ("*", subresource)) for res, sub in self.resources)

    def _scope(self, req: AdmissionRequest) -> bool:
        if self.scope == "*":
            return True
        is_namespace = req.info.group == "" and req.info.plural == "namespaces"
        cluster_scoped = is_namespace or not req.info.namespaced
        return cluster_scoped if self.scope == "Cluster" else not cluster_scoped


def _split_resource(text: str) -> tuple[str, str]:
    resource, _, sub = text.partition("/")
    return resource, sub


def _listed(allowed: Sequence[str], value: str) -> bool:
    return "*" in allowed or value in allowed


def request_target(req: AdmissionRequest) -> Target:
    info = req.info
    return Target(info.group, info.version, info.plural, info.kind)


def could_match(rules: Sequence[Rule], req: AdmissionRequest) -> bool:
    return any(rule.could_match(req) for rule in rules)


def matching_target(rules: Sequence[Rule], req: AdmissionRequest, policy: str,
                    equivalents: Iterable[Target]) -> Target | None:
    """The target the request matches the rules as (its own first), or None.

    `equivalents` are the other served versions of the request's resource; they are tried only
    under matchPolicy Equivalent."""
    own = request_target(req)
    if any(rule.matches(req, own) for rule in rules):
        return own
    if policy == "Exact":
        return None
    for target in equivalents:
        if target != own and any(rule.matches(req, target) for rule in rules):
            return target
    return None


def request_key(req: AdmissionRequest) -> tuple[str, str, str, str]:
    """What `could_match` depends on: candidates are memoized by it."""
    return req.operation, req.info.group, req.info.plural, req.subresource


class Candidates(Generic[T]):
    """Items (webhooks, bindings) with the rules that could match a request, memoized per kind of
    request: with many configurations for other resources, a write tests only its own few."""

    def __init__(self, items: Sequence[tuple[T, Sequence[Rule]]]) -> None:
        self.items = items
        self._memo: dict[tuple[str, str, str, str], list[T]] = {}

    def __bool__(self) -> bool:
        return bool(self.items)

    def for_request(self, req: AdmissionRequest) -> list[T]:
        key = request_key(req)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = [item for item, rules in self.items if could_match(rules, req)]
        return found


class Selectors:
    """A parsed namespaceSelector/objectSelector pair."""

    __slots__ = ("namespace", "object")

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.namespace = _selector(spec.get("namespaceSelector"))
        self.object = _selector(spec.get("objectSelector"))

    def object_matches(self, req: AdmissionRequest) -> bool:
        """A non-empty objectSelector never selects an object without metadata (a CONNECT's
        PodExecOptions), as upstream's matchObject, whose meta.Accessor fails on it."""
        if self.object.empty:
            return True
        return any(o is not None and "metadata" in o and self.object.matches(_labels(o)) for o in (req.obj, req.old))

    def needs_namespace(self, req: AdmissionRequest) -> bool:
        """Whether namespace labels are needed to decide (False: matches regardless)."""
        return not self.namespace.empty and bool(req.namespace) and not _is_namespace(req)

    def namespace_matches(self, req: AdmissionRequest, namespace: Obj | None) -> bool:
        if self.namespace.empty:
            return True
        if _is_namespace(req):
            source = req.obj if req.obj is not None else req.old
            return self.namespace.matches(_labels(source or {}))
        if not req.namespace:
            return True             # other cluster-scoped objects are never excluded
        return self.namespace.matches(_labels(namespace or {}))


def _selector(spec: Mapping[str, Any] | None) -> LabelSelector:
    # an absent selector matches everything here (unlike metav1.LabelSelectorAsSelector of nil)
    return EVERYTHING if spec is None else label_selector_from_object(spec)


def _is_namespace(req: AdmissionRequest) -> bool:
    return req.info.group == "" and req.info.plural == "namespaces"


def _labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}
