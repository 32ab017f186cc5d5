"""The scheduler's resource figures: what a pod requests and what a node offers, as integers.

Kubernetes compares cpu in millicores and everything else in whole units (bytes, pods, devices),
rounding a fractional quantity *up* (`Quantity.MilliValue()` / `Quantity.Value()`). What a pod
requests is `kwok.api.podresources` (PodRequests), summed exactly in nano-units and rounded once at
the end, as Go sums Quantities before it asks for their MilliValue.

Conversions are cached: a cluster has few distinct quantity strings and the scheduler asks for
them on every pod.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from kwok.api import podresources
from kwok.api.podresources import CPU, EPHEMERAL_STORAGE, MEMORY, NANO
from kwok.api.quantity import Quantity

__all__ = ["CPU", "EPHEMERAL_STORAGE", "MEMORY", "PODS", "Resources", "pod_nonzero_requests", "pod_requests",
           "pod_scoring_requests", "resource_amount", "resource_list"]

PODS = "pods"

Resources = dict[str, int]

_NANO_PER_MILLI = 10**6
_NANO_PER_UNIT = 10**9


@lru_cache(maxsize=8192)
def _amount(name: str, text: str) -> int:
    quantity = Quantity(text)
    return quantity.milli_value() if name == CPU else quantity.value()


def resource_amount(name: str, quantity: Any) -> int:
    """The integer the scheduler compares for resource `name`: millicores for cpu, units otherwise."""
    return _amount(name, quantity if isinstance(quantity, str) else str(quantity))


def resource_list(values: dict[str, Any] | None) -> Resources:
    """A ResourceList (`{"cpu": "500m"}`) as integers."""
    if not values:
        return {}
    return {name: resource_amount(name, q) for name, q in values.items()}


def _from_nano(name: str, nano: int) -> int:
    """Rounded up, as MilliValue() / Value() round."""
    return -(-nano // (_NANO_PER_MILLI if name == CPU else _NANO_PER_UNIT))


def pod_requests(pod: dict[str, Any]) -> Resources:
    """What the scheduler reserves for `pod` on a node (PodRequests, resizes included)."""
    return {name: _from_nano(name, nano) for name, nano in podresources.pod_requests(pod, NANO).items()}


def pod_nonzero_requests(pod: dict[str, Any]) -> tuple[int, int]:
    """(milli-cpu, memory) a node's NonZeroRequested counts for `pod`: its requests with the
    scoring defaults (100m cpu, 200Mi memory) for containers that request neither."""
    nonzero = podresources.node_nonzero_requests(pod, NANO)
    return _from_nano(CPU, nonzero.get(CPU, 0)), _from_nano(MEMORY, nonzero.get(MEMORY, 0))


def pod_scoring_requests(pod: dict[str, Any]) -> tuple[int, int]:
    """(milli-cpu, memory) the resource scorers charge for the pod being placed: the scoring
    defaults for every container that lacks them, even when pod-level requests are set. It differs
    from pod_nonzero_requests only for a pod with pod-level requests whose containers request some
    cpu / memory but not all."""
    scoring = podresources.pod_requests(pod, NANO, non_missing=podresources.scoring_defaults(NANO))
    return _from_nano(CPU, scoring.get(CPU, 0)), _from_nano(MEMORY, scoring.get(MEMORY, 0))
