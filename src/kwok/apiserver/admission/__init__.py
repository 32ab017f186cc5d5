"""Admission plugins enabled by default, in kube-apiserver's order (one module per plugin).

Mutating plugins run first in this order, then the validating ones in the same order; ResourceQuota
is last so that it counts the object every other plugin has finished with. ServiceAllocation is
not a real admission plugin but the Service storage's IP/port allocation, placed after the
mutating plugins so that validation sees the allocated values. As in kube-apiserver, mutating
webhooks come after the built-in mutating plugins (and before the Service storage allocates), then
ValidatingAdmissionPolicy and the validating webhooks, then ResourceQuota.
"""

from __future__ import annotations

from kwok.apiserver.admission.crd_serving import CustomResourceServing
from kwok.apiserver.admission.default_storage_class import DefaultStorageClass
from kwok.apiserver.admission.default_toleration_seconds import DefaultTolerationSeconds
from kwok.apiserver.admission.limit_ranger import LimitRanger
from kwok.apiserver.admission.namespace_lifecycle import NamespaceLifecycle
from kwok.apiserver.admission.policy import ValidatingAdmissionPolicy
from kwok.apiserver.admission.priority import Priority
from kwok.apiserver.admission.resource_quota import ResourceQuota
from kwok.apiserver.admission.service_account import ServiceAccount
from kwok.apiserver.admission.service_allocation import ServiceAllocation
from kwok.apiserver.admission.webhook import MutatingWebhooks, ValidatingWebhooks
from kwok.apiserver.registry import AdmissionPlugin

__all__ = [
    "CustomResourceServing",
    "DefaultStorageClass",
    "DefaultTolerationSeconds",
    "LimitRanger",
    "MutatingWebhooks",
    "NamespaceLifecycle",
    "Priority",
    "ResourceQuota",
    "ServiceAccount",
    "ServiceAllocation",
    "ValidatingAdmissionPolicy",
    "ValidatingWebhooks",
    "default_plugins",
]


def default_plugins() -> list[AdmissionPlugin]:
    """A fresh chain (plugins keep small per-server state, e.g. pending service IPs)."""
    return [
        CustomResourceServing(),
        NamespaceLifecycle(),
        LimitRanger(),
        ServiceAccount(),
        Priority(),
        DefaultTolerationSeconds(),
        DefaultStorageClass(),
        MutatingWebhooks(),
        ServiceAllocation(),
        ValidatingAdmissionPolicy(),
        ValidatingWebhooks(),
        ResourceQuota(),
    ]
