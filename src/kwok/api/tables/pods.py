"""The Pod printer: READY, STATUS and RESTARTS as kubectl shows them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from kwok.api.duration import human_duration, parse_time
from kwok.api.tables.cells import Cells, Obj, age, as_int, get_path, meta_of

# --- pods -------------------------------------------------------------------------------------------
# The Status cell walks init containers, then app containers from last to first, as kubelet-facing
# printers do; the reason of the last one that is waiting or terminated wins.

_POD_COMPLETED = {"type": "Completed", "status": "True"}
_POD_SUCCEEDED = [{**_POD_COMPLETED, "reason": "Succeeded", "message": "The pod has completed successfully."}]
_POD_FAILED = [{**_POD_COMPLETED, "reason": "Failed", "message": "The pod failed."}]
_NODE_UNREACHABLE_REASON = "NodeLost"


class _Restarts:
    """Restart count and the latest restart time, as printPod accumulates them."""

    def __init__(self) -> None:
        self.count = 0
        self.last: datetime | None = None

    def add(self, status: Obj) -> None:
        self.count += as_int(status.get("restartCount"))
        finished = parse_time(get_path(status, "lastState", "terminated", "finishedAt") or "")
        if finished and (self.last is None or finished > self.last):
            self.last = finished

    def cell(self, now: datetime) -> str:
        if self.count and self.last is not None:
            return f"{self.count} ({human_duration((now - self.last).total_seconds())} ago)"
        return str(self.count)


def _is_sidecar(container: Obj | None) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"  # type: ignore[union-attr]


def _terminated_reason(terminated: Obj, prefix: str) -> str:
    if terminated.get("reason"):
        return f"{prefix}{terminated['reason']}"
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{as_int(terminated.get('exitCode'))}"


def _condition_true(conditions: Iterable[Obj] | None, type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True" for c in conditions or ())


def _init_status(pod: Obj, reason: str) -> tuple[str, bool, int, _Restarts, _Restarts]:
    """Walk init containers; returns (reason, initializing, ready sidecars, all, sidecar restarts)."""
    spec_inits = {c.get("name"): c for c in get_path(pod, "spec", "initContainers") or []}
    total_inits = len(spec_inits)
    restarts, sidecar_restarts, ready = _Restarts(), _Restarts(), 0
    for index, status in enumerate(get_path(pod, "status", "initContainerStatuses") or []):
        restarts.add(status)
        sidecar = _is_sidecar(spec_inits.get(status.get("name")))
        if sidecar:
            sidecar_restarts.add(status)
        state = status.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and as_int(terminated.get("exitCode")) == 0:
            continue
        if sidecar and status.get("started"):
            ready += 1 if status.get("ready") else 0
            continue
        if terminated is not None:
            reason = _terminated_reason(terminated, "Init:")
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{index}/{total_inits}"
        return reason, True, ready, restarts, sidecar_restarts
    return reason, False, ready, restarts, sidecar_restarts


def _pod_status(pod: Obj) -> tuple[str, int, _Restarts]:
    """printPod's Status cell, ready container count and restarts."""
    status = pod.get("status") or {}
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for condition in status.get("conditions") or ():
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    reason, initializing, ready, restarts, sidecar_restarts = _init_status(pod, reason)
    if not initializing or _condition_true(status.get("conditions"), "Initialized"):
        restarts, has_running = sidecar_restarts, False
        for container in reversed(status.get("containerStatuses") or []):
            restarts.add(container)
            state = container.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None:
                reason = _terminated_reason(terminated, "")
            elif container.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(status.get("conditions"), "Ready") else "NotReady"
    if meta_of(pod).get("deletionTimestamp"):
        if status.get("reason") == _NODE_UNREACHABLE_REASON:
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"
    return reason, ready, restarts


def _total_containers(pod: Obj) -> int:
    spec = pod.get("spec") or {}
    sidecars = sum(1 for c in spec.get("initContainers") or [] if _is_sidecar(c))
    return len(spec.get("containers") or []) + sidecars


def _readiness_gates(pod: Obj) -> str:
    gates = get_path(pod, "spec", "readinessGates") or []
    if not gates:
        return "<none>"
    first_by_type: dict[str, Any] = {}
    for condition in get_path(pod, "status", "conditions") or []:
        first_by_type.setdefault(condition.get("type"), condition.get("status"))
    true_count = sum(1 for gate in gates if first_by_type.get(gate.get("conditionType")) == "True")
    return f"{true_count}/{len(gates)}"


def pod_row(pod: Obj, now: datetime) -> Cells:
    reason, ready, restarts = _pod_status(pod)
    status = pod.get("status") or {}
    pod_ips = status.get("podIPs") or []
    pod_ip = (pod_ips[0].get("ip") if pod_ips else status.get("podIP")) or "<none>"
    return [
        meta_of(pod).get("name", ""), f"{ready}/{_total_containers(pod)}", reason, restarts.cell(now),
        age(pod, now), pod_ip, get_path(pod, "spec", "nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>", _readiness_gates(pod),
    ]


def pod_conditions(pod: Obj) -> list[dict[str, str]] | None:
    phase = get_path(pod, "status", "phase")
    return _POD_SUCCEEDED if phase == "Succeeded" else _POD_FAILED if phase == "Failed" else None

