"""Resource arithmetic of the scheduler and quota: quantities as integers, and what a pod requests.

Kubernetes compares cpu in millicores and everything else in whole units (bytes, pods, devices),
rounding a fractional quantity *up* (`Quantity.MilliValue()` / `Quantity.Value()`). A pod's request
follows `k8s.io/component-helpers/resource.PodRequests`: the sum of its containers and its sidecars
(restartable init containers), or the largest init container plus the sidecars started before it
when that is more, plus the pod overhead; pod-level `spec.resources` wins where it is set.

Parsing is cached: a cluster has few distinct quantity strings and the scheduler asks for them on
every pod.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal
from functools import lru_cache
from typing import Any

CPU = "cpu"
MEMORY = "memory"
PODS = "pods"
EPHEMERAL_STORAGE = "ephemeral-storage"

# Requests assumed for scoring when a container sets none (schedutil.DefaultMilliCPURequest and
# DefaultMemoryRequest), so that best-effort pods still spread.
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024

# Pod-level resources (spec.resources) apply to these only.
_POD_LEVEL_RESOURCES = (CPU, MEMORY)

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
            "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
            "P": Decimal("1e15"), "E": Decimal("1e18")}

Resources = dict[str, int]


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity."""


_QUANTITY_RE = re.compile(r"^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))([eE][-+]?[0-9]+|[a-zA-Z]*)$")


@lru_cache(maxsize=4096)
def _decimal(text: str) -> Decimal:
    match = _QUANTITY_RE.match(text.strip())
    if match is None:
        raise QuantityError(f"quantities must match the regular expression "
                            f"'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {text!r}")
    value, suffix = Decimal(match.group(1)), match.group(2)
    if suffix in _BINARY:
        return value * _BINARY[suffix]
    if suffix in _DECIMAL:
        return value * _DECIMAL[suffix]
    if suffix[:1] in ("e", "E"):
        return value * (Decimal(10) ** int(suffix[1:]))
    raise QuantityError(f"unable to parse quantity's suffix: {text!r}")


def quantity_value(quantity: Any) -> int:
    """`Quantity.Value()`: whole units, rounded up."""
    if isinstance(quantity, int):
        return quantity
    return int(_decimal(str(quantity)).to_integral_value(ROUND_CEILING))


def quantity_milli(quantity: Any) -> int:
    """`Quantity.MilliValue()`: thousandths, rounded up."""
    if isinstance(quantity, int):
        return quantity * 1000
    return int((_decimal(str(quantity)) * 1000).to_integral_value(ROUND_CEILING))


def resource_amount(name: str, quantity: Any) -> int:
    """The integer the scheduler compares for resource `name`: millicores for cpu, units otherwise."""
    return quantity_milli(quantity) if name == CPU else quantity_value(quantity)


def resource_list(values: dict[str, Any] | None) -> Resources:
    """A ResourceList (`{"cpu": "500m"}`) as integers."""
    if not values:
        return {}
    return {name: resource_amount(name, q) for name, q in values.items()}


def container_requests(container: dict[str, Any]) -> Resources:
    """A container's requests; a limit without a request counts as the request, as the API server
    defaults it."""
    res = container.get("resources") or {}
    requests = resource_list(res.get("requests"))
    for name, amount in resource_list(res.get("limits")).items():
        requests.setdefault(name, amount)
    return requests


def _add(into: Resources, other: Resources) -> None:
    for name, amount in other.items():
        into[name] = into.get(name, 0) + amount


def _max(into: Resources, other: Resources) -> None:
    for name, amount in other.items():
        if amount > into.get(name, 0):
            into[name] = amount


def pod_requests(pod: dict[str, Any]) -> Resources:
    """What the scheduler reserves for `pod` on a node (PodRequests)."""
    spec = pod.get("spec") or {}
    total: Resources = {}
    for container in spec.get("containers") or ():
        _add(total, container_requests(container))
    sidecars: Resources = {}
    largest_init: Resources = {}
    for container in spec.get("initContainers") or ():
        requests = container_requests(container)
        if container.get("restartPolicy") == "Always":
            _add(total, requests)
            _add(sidecars, requests)
            effective = dict(sidecars)
        else:
            effective = dict(requests)
            _add(effective, sidecars)
        _max(largest_init, effective)
    _max(total, largest_init)
    pod_level = resource_list((spec.get("resources") or {}).get("requests"))
    for name in _POD_LEVEL_RESOURCES:
        if name in pod_level:
            total[name] = pod_level[name]
    _add(total, resource_list(spec.get("overhead")))
    return total


def _nonzero(container: dict[str, Any]) -> tuple[int, int]:
    requests = ((container.get("resources") or {}).get("requests")) or {}
    limits = ((container.get("resources") or {}).get("limits")) or {}
    cpu = requests.get(CPU, limits.get(CPU))
    memory = requests.get(MEMORY, limits.get(MEMORY))
    return (DEFAULT_MILLI_CPU_REQUEST if cpu is None else quantity_milli(cpu),
            DEFAULT_MEMORY_REQUEST if memory is None else quantity_value(memory))


def pod_nonzero_requests(pod: dict[str, Any]) -> tuple[int, int]:
    """(milli-cpu, memory) for scoring: like pod_requests, with defaults for unset requests."""
    spec = pod.get("spec") or {}
    cpu = memory = 0
    for container in spec.get("containers") or ():
        c, m = _nonzero(container)
        cpu, memory = cpu + c, memory + m
    side_cpu = side_mem = init_cpu = init_mem = 0
    for container in spec.get("initContainers") or ():
        c, m = _nonzero(container)
        if container.get("restartPolicy") == "Always":
            cpu, memory = cpu + c, memory + m
            side_cpu, side_mem = side_cpu + c, side_mem + m
            c, m = side_cpu, side_mem
        else:
            c, m = c + side_cpu, m + side_mem
        init_cpu, init_mem = max(init_cpu, c), max(init_mem, m)
    cpu, memory = max(cpu, init_cpu), max(memory, init_mem)
    pod_level = resource_list((spec.get("resources") or {}).get("requests"))
    cpu, memory = pod_level.get(CPU, cpu), pod_level.get(MEMORY, memory)
    overhead = resource_list(spec.get("overhead"))
    return cpu + overhead.get(CPU, 0), memory + overhead.get(MEMORY, 0)
