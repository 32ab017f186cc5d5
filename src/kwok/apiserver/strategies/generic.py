"""Built-in kinds with no rules beyond ObjectMeta: whether they carry metadata.generation is all
that differs (the real strategies of these kinds set it only when a spec is involved)."""

from __future__ import annotations

from kwok.apiserver.registry import STRATEGIES
from kwok.apiserver.strategies.base import KindStrategy
from kwok.apiserver.strategies.objectmeta import path_segment_name


class PlainStrategy(KindStrategy):
    bumps_generation = False


class SpecStrategy(KindStrategy):
    bumps_generation = True


class PathNamedStrategy(PlainStrategy):
    """Kinds whose names are URL path segments rather than DNS names (RBAC: `system:node-proxier`)."""

    name_validator = staticmethod(path_segment_name)


class PathNamedSpecStrategy(SpecStrategy):
    name_validator = staticmethod(path_segment_name)


_PLAIN = [
    ("", "endpoints"), ("coordination.k8s.io", "leases"),
    ("discovery.k8s.io", "endpointslices"), ("storage.k8s.io", "csinodes"), ("storage.k8s.io", "csidrivers"),
    ("storage.k8s.io", "volumeattachments"), ("node.k8s.io", "runtimeclasses"),
    ("apps", "controllerrevisions"),
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"),
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
]
_WITH_SPEC = [
    ("networking.k8s.io", "ingresses"), ("networking.k8s.io", "ingressclasses"),
    ("networking.k8s.io", "networkpolicies"),
]
_PATH_NAMED = [
    ("rbac.authorization.k8s.io", "roles"), ("rbac.authorization.k8s.io", "rolebindings"),
    ("rbac.authorization.k8s.io", "clusterroles"), ("rbac.authorization.k8s.io", "clusterrolebindings"),
    ("certificates.k8s.io", "certificatesigningrequests"),
]
_PATH_NAMED_WITH_SPEC = [
    ("flowcontrol.apiserver.k8s.io", "flowschemas"),
    ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"),
]

for _key in _PLAIN:
    STRATEGIES.setdefault(_key, PlainStrategy)
for _key in _WITH_SPEC:
    STRATEGIES.setdefault(_key, SpecStrategy)
for _key in _PATH_NAMED:
    STRATEGIES.setdefault(_key, PathNamedStrategy)
for _key in _PATH_NAMED_WITH_SPEC:
    STRATEGIES.setdefault(_key, PathNamedSpecStrategy)
