"""What a pod requests and limits: `k8s.io/component-helpers/resource` PodRequests / PodLimits, and
the ResourceQuota pod evaluator's usage built on them (`pkg/quota/v1/evaluator/core/pods.go`).

The rules, as Kubernetes 1.36 applies them (KEP-753 sidecars, KEP-2837 pod-level resources,
KEP-1287 / KEP-5419 in-place resize):

- regular containers run together: their amounts add up;
- a sidecar (an init container with `restartPolicy: Always`) starts and keeps running: it adds to
  that running total and to every init container started after it;
- any other init container runs alone beside the sidecars started before it: the pod needs the
  largest of those moments, when that is more than the running total;
- pod-level `spec.resources` replaces the container total for the resources it names (cpu, memory,
  hugepages-*);
- `spec.overhead` is added to every request, and only to the limits that are set and not zero;
- while a resize is in flight, each container counts the largest of what its spec asks, what the
  kubelet allocated and what is actuated (the spec is left out when the resize is Infeasible).

Pods are taken as the API server stores them, that is after SetDefaults_Pod: a container's limit
without a request is its request, and pod-level limits fill in missing pod-level requests.

Amounts are generic: the scheduler adds exact integers (`NANO`, nano-units, converted once at the
end), quota adds `Quantity` (`QUANTITY`), so that either sums before it rounds, as Go does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Generic, Protocol, Self, TypeVar

from kwok.api.quantity import Quantity

CPU = "cpu"
MEMORY = "memory"
EPHEMERAL_STORAGE = "ephemeral-storage"
HUGEPAGES_PREFIX = "hugepages-"
REQUESTS = "requests"
LIMITS = "limits"

# schedutil.DefaultMilliCPURequest / DefaultMemoryRequest: what scoring assumes for a container
# that requests no cpu / memory, so that best-effort pods still spread.
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024

Obj = dict[str, Any]


class _Amount(Protocol):
    def __add__(self, other: Self, /) -> Self: ...
    def __gt__(self, other: Self, /) -> bool: ...


A = TypeVar("A", bound=_Amount)


@dataclass(frozen=True, slots=True, eq=False)
class Units(Generic[A]):
    """How amounts are read from a ResourceList value and tested for zero."""

    parse: Callable[[Any], A]
    is_zero: Callable[[A], bool]
    scoring_defaults: Mapping[str, A]   # schedutil's DefaultMilliCPURequest / DefaultMemoryRequest


_NANO_PER_UNIT = 10**9
_INT64_MAX = 2**63 - 1


def nano_of(quantity: Quantity) -> int:
    """A quantity in nano-units, exact below 9.2e9 units (parsing already rounds to 1n); past that
    in whole units rounded up, which no request has the precision to notice."""
    nano = quantity.scaled_value(-9)
    if abs(nano) == _INT64_MAX or nano == -_INT64_MAX - 1:
        return quantity.value() * _NANO_PER_UNIT
    return nano


_NANO_CACHE: dict[Any, int] = {}   # a plain dict: the lookup is on every container of every pod


def parse_nano(value: Any) -> int:
    nano = _NANO_CACHE.get(value)
    if nano is None:
        if len(_NANO_CACHE) >= 8192:
            _NANO_CACHE.clear()
        nano = _NANO_CACHE[value] = nano_of(Quantity(value if isinstance(value, str) else str(value)))
    return nano


def parse_quantity_value(value: Any) -> Quantity:
    return Quantity(value if isinstance(value, str) else str(value))


_CPU_DEFAULT = Quantity.from_milli(DEFAULT_MILLI_CPU_REQUEST)
_MEMORY_DEFAULT = Quantity.from_int(DEFAULT_MEMORY_REQUEST)
NANO: Units[int] = Units(parse_nano, lambda n: n == 0,
                         {CPU: nano_of(_CPU_DEFAULT), MEMORY: nano_of(_MEMORY_DEFAULT)})
QUANTITY: Units[Quantity] = Units(parse_quantity_value, lambda q: q.is_zero,
                                  {CPU: _CPU_DEFAULT, MEMORY: _MEMORY_DEFAULT})


def is_supported_pod_level_resource(name: str) -> bool:
    return name in (CPU, MEMORY) or name.startswith(HUGEPAGES_PREFIX)


def is_sidecar(container: Obj) -> bool:
    """A restartable init container."""
    return container.get("restartPolicy") == "Always"


# --- one container ----------------------------------------------------------------------------


def container_spec_list(container: Obj, kind: str) -> Mapping[str, Any]:
    """The container's requests or limits as stored; a limit without a request is the request
    (SetDefaults_Pod)."""
    resources = container.get("resources")
    if not resources:
        return {}
    values: Mapping[str, Any] = resources.get(kind) or {}
    if kind == REQUESTS:
        limits = resources.get(LIMITS)
        if limits and any(name not in values for name in limits):
            values = {**limits, **values}
    return values


# A container's amounts given (container, its status or None, resize infeasible).
_Pick = Callable[[Obj, Obj | None, bool], Mapping[str, Any]]


def _spec_requests(container: Obj, status: Obj | None, infeasible: bool) -> Mapping[str, Any]:
    return container_spec_list(container, REQUESTS)


def _spec_limits(container: Obj, status: Obj | None, infeasible: bool) -> Mapping[str, Any]:
    return container_spec_list(container, LIMITS)


def _allocated_requests(container: Obj, status: Obj | None, infeasible: bool) -> Mapping[str, Any]:
    if status is not None and status.get("allocatedResources") is not None:
        allocated: Mapping[str, Any] = status["allocatedResources"]
        return allocated
    return {} if infeasible else container_spec_list(container, REQUESTS)


def _actuated_requests(container: Obj, status: Obj | None, infeasible: bool) -> Mapping[str, Any]:
    actuated = ((status or {}).get("resources") or {}).get(REQUESTS)
    if actuated is not None:
        return actuated  # type: ignore[no-any-return]
    return _allocated_requests(container, status, infeasible)


def _actuated_limits(container: Obj, status: Obj | None, infeasible: bool) -> Mapping[str, Any]:
    actuated = ((status or {}).get("resources") or {}).get(LIMITS)
    if actuated is not None:
        return actuated  # type: ignore[no-any-return]
    return {} if infeasible else container_spec_list(container, LIMITS)


# --- resource list arithmetic -------------------------------------------------------------------


def _add(into: dict[str, A], other: Mapping[str, A]) -> None:
    for name, amount in other.items():
        have = into.get(name)
        into[name] = amount if have is None else have + amount


def _max(into: dict[str, A], other: Mapping[str, A]) -> None:
    for name, amount in other.items():
        have = into.get(name)
        if have is None or amount > have:
            into[name] = amount


def _max_of(first: Mapping[str, A], *others: Mapping[str, A]) -> dict[str, A]:
    result = dict(first)
    for other in others:
        _max(result, other)
    return result


def _parsed(values: Mapping[str, Any], units: Units[A]) -> dict[str, A]:
    parse = units.parse
    return {name: parse(value) for name, value in values.items()}


# --- the aggregation (aggregateContainerResourcesByFn) -------------------------------------------


def _aggregate(pod: Obj, units: Units[A], pick: _Pick, non_missing: Mapping[str, A] | None,
               statuses: dict[str, Obj] | None, infeasible: bool) -> dict[str, A]:
    """Containers summed; sidecars added to that sum and to every later init container; the pod
    needs the larger of the sum and its busiest init moment."""
    spec = pod.get("spec") or {}
    parse = units.parse
    total: dict[str, A] = {}
    for container in spec.get("containers") or ():
        values = pick(container, statuses.get(container.get("name", "")) if statuses else None, infeasible)
        for name, value in values.items():
            have = total.get(name)
            total[name] = parse(value) if have is None else have + parse(value)
        if non_missing:
            for name, amount in non_missing.items():
                if name not in values:
                    have = total.get(name)
                    total[name] = amount if have is None else have + amount
    init_containers = spec.get("initContainers")
    if init_containers:
        _add_init_containers(total, init_containers, units, pick, non_missing, statuses, infeasible)
    return total


def _add_init_containers(total: dict[str, A], init_containers: list[Obj], units: Units[A], pick: _Pick,
                         non_missing: Mapping[str, A] | None, statuses: dict[str, Obj] | None,
                         infeasible: bool) -> None:
    sidecars: dict[str, A] = {}
    busiest: dict[str, A] = {}
    for container in init_containers:
        values = pick(container, statuses.get(container.get("name", "")) if statuses else None, infeasible)
        own = _parsed(values, units)
        if non_missing:
            own.update({name: amount for name, amount in non_missing.items() if name not in values})
        if is_sidecar(container):
            _add(total, own)       # runs beside the containers from now on
            _add(sidecars, own)
            _max(busiest, sidecars)
        else:
            _add(own, sidecars)    # runs alone, beside the sidecars started before it
            _max(busiest, own)
    _max(total, busiest)


# --- resize status (InPlacePodVerticalScaling, GA; InPlacePodLevelResourcesVerticalScaling, beta) ---


def is_resize_infeasible(pod: Obj) -> bool:
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "PodResizePending":
            return bool(condition.get("reason") == "Infeasible")
    return False


def _has_resize_status(status: Obj) -> bool:
    """Whether the status says anything a resize changes; without it, spec is all there is."""
    if "allocatedResources" in status or "resources" in status:
        return True
    for key in ("containerStatuses", "initContainerStatuses"):
        for entry in status.get(key) or ():
            if "allocatedResources" in entry or "resources" in entry:
                return True
    for condition in status.get("conditions") or ():
        if condition.get("type") == "PodResizePending":
            return True
    return False


def _container_statuses(status: Obj) -> dict[str, Obj]:
    found: dict[str, Obj] = {}
    for key in ("initContainerStatuses", "containerStatuses"):   # regular containers win a name clash
        for entry in status.get(key) or ():
            found[entry.get("name", "")] = entry
    return found


def _aggregate_with_status(pod: Obj, units: Units[A], kind: str, non_missing: Mapping[str, A] | None,
                           use_status: bool) -> dict[str, A]:
    """AggregateContainerRequests / AggregateContainerLimits."""
    spec_pick = _spec_requests if kind == REQUESTS else _spec_limits
    status = pod.get("status") or {}
    if not use_status or not status or not _has_resize_status(status):
        return _aggregate(pod, units, spec_pick, non_missing, None, False)
    infeasible = is_resize_infeasible(pod)
    statuses = _container_statuses(status)
    spec_total = _aggregate(pod, units, spec_pick, non_missing, statuses, infeasible)
    pod_allocated = status.get("allocatedResources")
    pod_actuated = (status.get("resources") or {}).get(kind)
    observed: list[dict[str, A]]
    if kind == REQUESTS:
        if pod_allocated is not None and pod_actuated is not None:
            observed = [_parsed(pod_actuated, units), _parsed(pod_allocated, units)]
        else:
            observed = [_aggregate(pod, units, _actuated_requests, non_missing, statuses, infeasible),
                        _aggregate(pod, units, _allocated_requests, non_missing, statuses, infeasible)]
    elif pod_actuated is not None:
        observed = [_parsed(pod_actuated, units)]
    else:
        observed = [_aggregate(pod, units, _actuated_limits, None, statuses, infeasible)]
    if infeasible:
        return _max_of(*observed)
    return _max_of(spec_total, *observed)


# --- pod level (PodLevelResources, on by default) ---------------------------------------------------


def pod_level_requests(pod: Obj, units: Units[A]) -> dict[str, A]:
    """The pod-level requests as stored: those set, and for a pod with pod-level limits the ones
    defaultPodRequests fills in (the containers' total for cpu and memory, else the limit)."""
    resources = (pod.get("spec") or {}).get("resources")
    if not resources:
        return {}
    requests = {name: units.parse(value) for name, value in (resources.get(REQUESTS) or {}).items()
                if is_supported_pod_level_resource(name)}
    limits = resources.get(LIMITS) or {}
    if limits:
        for name, amount in _aggregate(pod, units, _spec_requests, None, None, False).items():
            if name in (CPU, MEMORY):
                requests.setdefault(name, amount)
        for name, value in limits.items():
            if name not in requests and is_supported_pod_level_resource(name):
                requests[name] = units.parse(value)
    return requests


def aggregate_container_requests(pod: Obj, units: Units[A]) -> dict[str, A]:
    """The containers' effective requests (sidecars and init containers counted as they run),
    before pod-level resources and overhead: what pod-level requests must cover."""
    return _aggregate(pod, units, _spec_requests, None, None, False)


def aggregate_container_limits(pod: Obj, units: Units[A]) -> dict[str, A]:
    return _aggregate(pod, units, _spec_limits, None, None, False)


def pod_level_limits(pod: Obj, units: Units[A]) -> dict[str, A]:
    resources = (pod.get("spec") or {}).get("resources") or {}
    return {name: units.parse(value) for name, value in (resources.get(LIMITS) or {}).items()
            if is_supported_pod_level_resource(name)}


def is_pod_level_requests_set(pod: Obj) -> bool:
    """IsPodLevelRequestsSet, on the pod as stored."""
    resources = (pod.get("spec") or {}).get("resources")
    return bool(resources) and bool(pod_level_requests(pod, NANO))


def is_pod_level_resources_set(pod: Obj) -> bool:
    """IsPodLevelResourcesSet: pod-level requests or limits for a supported resource."""
    resources = (pod.get("spec") or {}).get("resources")
    return bool(resources) and bool(pod_level_requests(pod, NANO) or pod_level_limits(pod, NANO))


def _effective_pod_level(pod: Obj, units: Units[A], spec_values: dict[str, A], kind: str,
                         use_status: bool) -> dict[str, A]:
    """What the pod level stands for while a pod-level resize is in flight (KEP-5419)."""
    status = pod.get("status") or {}
    if not use_status or status.get("resources") is None:
        return spec_values
    observed = [_parsed((status["resources"] or {}).get(kind) or {}, units)]
    if kind == REQUESTS:
        observed.append(_parsed(status.get("allocatedResources") or {}, units))
    return _max_of({} if is_resize_infeasible(pod) else spec_values, *observed)


# --- the public computations --------------------------------------------------------------------


def pod_requests(pod: Obj, units: Units[A], *, non_missing: Mapping[str, A] | None = None,
                 exclude_overhead: bool = False, use_status: bool = True) -> dict[str, A]:
    """PodRequests. `non_missing`: amounts assumed for a container that requests none of a
    resource (NonMissingContainerRequests); `use_status`: count in-place resizes (the scheduler's
    node accounting and quota do; a pod being scheduled has none)."""
    total = _aggregate_with_status(pod, units, REQUESTS, non_missing, use_status)
    spec = pod.get("spec") or {}
    if spec.get("resources"):
        pod_level = pod_level_requests(pod, units)
        if pod_level:
            for name, amount in _effective_pod_level(pod, units, pod_level, REQUESTS, use_status).items():
                if is_supported_pod_level_resource(name):
                    total[name] = amount
    overhead = spec.get("overhead")
    if overhead and not exclude_overhead:
        _add(total, _parsed(overhead, units))
    return total


def pod_limits(pod: Obj, units: Units[A], *, exclude_overhead: bool = False,
               use_status: bool = True) -> dict[str, A]:
    """PodLimits: like requests, except that the overhead raises only limits that are set and not
    zero (an unset limit stays unlimited)."""
    total = _aggregate_with_status(pod, units, LIMITS, None, use_status)
    spec = pod.get("spec") or {}
    if spec.get("resources") and is_pod_level_resources_set(pod):
        pod_level = pod_level_limits(pod, units)
        for name, amount in _effective_pod_level(pod, units, pod_level, LIMITS, use_status).items():
            if is_supported_pod_level_resource(name):
                total[name] = amount
    overhead = spec.get("overhead")
    if overhead and not exclude_overhead:
        for name, value in overhead.items():
            have = total.get(name)
            if have is not None and not units.is_zero(have):
                total[name] = have + units.parse(value)
    return total


def scoring_defaults(units: Units[A]) -> Mapping[str, A]:
    """The NonMissingContainerRequests the scheduler's scorers use for a pod being placed."""
    return units.scoring_defaults


def node_nonzero_requests(pod: Obj, units: Units[A], requests: Mapping[str, A] | None = None) -> dict[str, A]:
    """The requests a node's NonZeroRequested counts for a placed pod (PodInfo.CalculateResource):
    the scoring defaults for every container, except that a pod with pod-level requests only gets
    them for cpu / memory its requests lack (`requests`: the pod's, when already known)."""
    defaults = units.scoring_defaults
    if (pod.get("spec") or {}).get("resources") and is_pod_level_requests_set(pod):
        if requests is None:
            requests = pod_requests(pod, units)
        defaults = {name: amount for name, amount in defaults.items() if name not in requests}
        if not defaults:
            return dict(requests)
    return pod_requests(pod, units, non_missing=defaults)


# --- ResourceQuota's pod evaluator ----------------------------------------------------------------

_QUOTA_COMPUTE = (CPU, MEMORY, EPHEMERAL_STORAGE)
_ONE = Quantity.from_int(1)   # shared: Quantity arithmetic returns new objects
# validation.IsQualifiedName: an optional DNS-1123 subdomain prefix, a 63-character name.
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")


def _terminated_for_quota(pod: Obj, now: datetime | None) -> bool:
    """QuotaV1Pod's opposite: finished, or deleted and past its grace period (stuck terminating
    pods, say on a lost node, must not block their replacements)."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed"):
        return True
    meta = pod.get("metadata") or {}
    deleted, grace = meta.get("deletionTimestamp"), meta.get("deletionGracePeriodSeconds")
    if now is None or not deleted or grace is None:
        return False
    return now > datetime.fromisoformat(deleted.replace("Z", "+00:00")) + timedelta(seconds=int(grace))


@lru_cache(maxsize=1024)
def is_extended_resource_name(name: str) -> bool:
    """helper.IsExtendedResourceName: a domain-prefixed name outside kubernetes.io, valid as the
    quota name `requests.<name>`."""
    if "/" not in name or "kubernetes.io/" in name or name.startswith("requests."):
        return False
    prefix, short = f"requests.{name}".split("/", 1)   # one "/" at most: a second fails the name
    return (len(prefix) <= 253 and _DNS_SUBDOMAIN.fullmatch(prefix) is not None
            and len(short) <= 63 and _QUALIFIED_NAME.fullmatch(short) is not None)


def compute_usage(requests: Mapping[str, Quantity], limits: Mapping[str, Quantity]) -> dict[str, Quantity]:
    """podComputeUsageHelper: the quota names a pod's requests and limits charge."""
    usage = {"pods": _ONE}
    for name in _QUOTA_COMPUTE:
        if name in requests:
            usage[name] = usage[f"requests.{name}"] = requests[name]
        if name in limits:
            usage[f"limits.{name}"] = limits[name]
    for name, amount in requests.items():
        if name in _QUOTA_COMPUTE:
            continue
        if name.startswith(HUGEPAGES_PREFIX):
            usage[name] = usage[f"requests.{name}"] = amount
        elif is_extended_resource_name(name):
            usage[f"requests.{name}"] = amount
    for name, amount in limits.items():
        if name.startswith(HUGEPAGES_PREFIX):
            usage[f"limits.{name}"] = amount
    return usage


def pod_quota_usage(pod: Obj, now: datetime | None = None,
                    units: Units[Quantity] = QUANTITY) -> dict[str, Quantity]:
    """PodUsageFunc: `count/pods` for every stored pod; the rest only while the pod still runs
    (`now` judges the deletion grace period; None leaves deleted pods charged)."""
    usage = {"count/pods": _ONE}
    if _terminated_for_quota(pod, now):
        return usage
    usage.update(compute_usage(pod_requests(pod, units), pod_limits(pod, units)))
    return usage


# podEvaluator.MatchingResources: the quota names pods are measured against.
_POD_QUOTA_NAMES = frozenset(("count/pods", "pods", CPU, MEMORY, EPHEMERAL_STORAGE, "requests.cpu",
                              "requests.memory", "requests.ephemeral-storage", "limits.cpu", "limits.memory",
                              "limits.ephemeral-storage"))
_POD_QUOTA_PREFIXES = (HUGEPAGES_PREFIX, f"requests.{HUGEPAGES_PREFIX}")


def is_pod_quota_resource(name: str) -> bool:
    """Whether pods use quota resource `name`: the compute names, hugepages, and extended resources
    as `requests.<domain>/<name>` (extended resources cannot be overcommitted: no limits.*)."""
    return (name in _POD_QUOTA_NAMES or name.startswith(_POD_QUOTA_PREFIXES)
            or (name.startswith("requests.") and "/" in name and "kubernetes.io/" not in name))


QUOTA_CONSTRAINED = ("cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory")


def quota_constraint_error(pod: Obj, hard: Mapping[str, Any]) -> str:
    """podEvaluator.Constraints: a quota on cpu or memory makes every container state it (a
    compatibility rule; pod-level resources waive it). '' when satisfied."""
    required = [name for name in QUOTA_CONSTRAINED if name in hard]
    if not required or is_pod_level_resources_set(pod):
        return ""
    spec = pod.get("spec") or {}
    missing: dict[str, set[str]] = {}
    for container in [*(spec.get("containers") or ()), *(spec.get("initContainers") or ())]:
        resources = container.get("resources") or {}
        stated = compute_usage({n: Quantity() for n in container_spec_list(container, REQUESTS)},
                               {n: Quantity() for n in resources.get(LIMITS) or {}})
        for name in required:
            if name not in stated:
                missing.setdefault(name, set()).add(container.get("name", ""))
    return "must specify " + "; ".join(f"{name} for: {','.join(sorted(missing[name]))}"
                                       for name in sorted(missing)) if missing else ""


# --- QoS class (pkg/apis/core/helper/qos ComputePodQOS) -------------------------------------------


def qos_class(spec: Obj) -> str:
    """ComputePodQOS (pkg/apis/core/helper/qos) on a defaulted pod spec: only cpu and memory above
    zero count. With pod-level resources set (cpu, memory or hugepages in spec.resources) those
    alone decide; otherwise the containers' and init containers' amounts are summed. BestEffort
    when nothing counts; Guaranteed when the limits name both cpu and memory (in every container,
    or at the pod level) and the summed requests equal the summed limits; Burstable otherwise."""
    requests: dict[str, Quantity] = {}
    limits: dict[str, Quantity] = {}
    guaranteed = True
    pod_level = spec.get("resources")
    if isinstance(pod_level, dict) and any(
            is_supported_pod_level_resource(name)
            for key in (REQUESTS, LIMITS) for name in (pod_level.get(key) or {})):
        sources = [pod_level]
    else:
        sources = [c.get("resources") or {} for key in ("containers", "initContainers")
                   for c in spec.get(key) or () if isinstance(c, dict)]
    for resources in sources:
        _qos_sum(requests, resources.get(REQUESTS))
        if not {CPU, MEMORY} <= _qos_sum(limits, resources.get(LIMITS)):
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and len(requests) == len(limits) and all(
            name in limits and limits[name] == amount for name, amount in requests.items()):
        return "Guaranteed"
    return "Burstable"


def _qos_sum(into: dict[str, Quantity], values: Any) -> set[str]:
    """Add the positive cpu and memory amounts of a ResourceList; the names found."""
    found: set[str] = set()
    for name in (CPU, MEMORY):
        value = (values or {}).get(name) if isinstance(values, dict) else None
        if value is None:
            continue
        try:
            amount = parse_quantity_value(value)
        except ValueError:
            continue        # validation reports it
        if amount.sign > 0:
            found.add(name)
            into[name] = into[name] + amount if name in into else amount
    return found


# --- quota scopes (pkg/quota/v1/evaluator/core/pods.go podMatchesScopeFunc) ------------------------


def pod_qos(pod: Obj) -> str:
    """The pod's QoS class: status.qosClass as the server set it, else computed (GetPodQOS)."""
    return ((pod.get("status") or {}).get("qosClass")) or qos_class(pod.get("spec") or {})


def pod_matches_quota_scopes(quota: Obj, pod: Obj) -> bool:
    """Whether a quota's `scopes` and `scopeSelector` select the pod: BestEffort / NotBestEffort by
    QoS class, Terminating / NotTerminating by activeDeadlineSeconds, PriorityClass by the pod's
    priorityClassName (In, NotIn, Exists, DoesNotExist). A quota without scopes selects every pod."""
    spec = quota.get("spec") or {}
    scopes = spec.get("scopes") or []
    expressions = (spec.get("scopeSelector") or {}).get("matchExpressions") or []
    if not scopes and not expressions:
        return True
    pod_spec = pod.get("spec") or {}
    best_effort = pod_qos(pod) == "BestEffort"
    deadline = pod_spec.get("activeDeadlineSeconds")
    terminating = isinstance(deadline, int) and deadline >= 0
    checks = {"BestEffort": best_effort, "NotBestEffort": not best_effort,
              "Terminating": terminating, "NotTerminating": not terminating}
    for scope in scopes:
        if not checks.get(scope, True):
            return False
    for expr in expressions:
        name = expr.get("scopeName")
        if name in checks and not checks[name]:
            return False
        if name == "PriorityClass" and not _priority_matches(expr, pod_spec):
            return False
    return True


def _priority_matches(expr: Obj, pod_spec: Obj) -> bool:
    name = pod_spec.get("priorityClassName", "")
    op, values = expr.get("operator"), expr.get("values") or []
    return {"In": name in values, "NotIn": name not in values, "Exists": bool(name),
            "DoesNotExist": not name}.get(str(op), True)
