"""Pod garbage collector: finished pods beyond `--terminated-pod-gc-threshold` (oldest first),
terminating pods on nodes declared out of service, pods bound to nodes that no longer exist, and
terminating pods that were never scheduled."""

from __future__ import annotations

import asyncio
from typing import Any

from kwok.client import ApiError
from kwok.controlplane.controllers.base import Controller
from kwok.controlplane.controllers.pods import is_terminal
from kwok.controlplane.timefmt import rfc3339

GC_PERIOD = 20.0
ORPHAN_QUARANTINE = 40.0
OUT_OF_SERVICE_TAINT = "node.kubernetes.io/out-of-service"


class PodGCController(Controller):
    name = "pod-garbage-collector"
    component = "pod-garbage-collector"

    def setup(self) -> None:
        self.pods = self.ctx.informer("v1", "pods")
        self.nodes = self.ctx.informer("v1", "nodes")
        self.threshold = getattr(self.ctx.options, "terminated_pod_gc_threshold", 12500)
        self.api = self.client.resource("v1", "pods")
        self._missing_since: dict[str, float] = {}

    async def run(self) -> None:
        while True:
            await asyncio.sleep(GC_PERIOD)
            await self.collect()

    async def collect(self) -> None:
        pods = list(self.pods.store.values())
        now = self.ctx.now()
        finished = sorted((p for p in pods if is_terminal(p) and not p["metadata"].get("deletionTimestamp")),
                          key=lambda p: p["metadata"].get("creationTimestamp") or "")
        if self.threshold > 0 and len(finished) > self.threshold:
            for pod in finished[:len(finished) - self.threshold]:
                await self._delete(pod, "PodGC: terminated pod", force=False)
        for pod in self.out_of_service(pods):
            await self._delete(pod, "", force=True, mark_failed=True)
        for pod in pods:
            node = (pod.get("spec") or {}).get("nodeName")
            if node and node not in self.nodes.store:
                since = self._missing_since.setdefault(node, now)
                if now - since >= ORPHAN_QUARANTINE:
                    await self._delete(pod, "PodGC: node no longer exists", force=True)
            elif not node and pod["metadata"].get("deletionTimestamp"):
                await self._delete(pod, "", force=True)
        self._missing_since = {n: t for n, t in self._missing_since.items() if n not in self.nodes.store}

    def out_of_service(self, pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Terminating pods on nodes that are not Ready and carry the out-of-service taint: an
        administrator declared the node gone, so its pods cannot finish terminating (gcTerminating)."""
        found = []
        for pod in pods:
            node = self.nodes.store.get((pod.get("spec") or {}).get("nodeName") or "")
            if pod["metadata"].get("deletionTimestamp") and node is not None and _out_of_service(node):
                found.append(pod)
        return sorted(found, key=lambda p: p["metadata"].get("creationTimestamp") or "")

    async def _delete(self, pod: dict[str, Any], message: str, force: bool, mark_failed: bool = False) -> None:
        """Delete (force: at once), first marking a pod that has not finished Failed, with a
        DisruptionTarget condition saying why when there is a `message`."""
        name, ns = pod["metadata"]["name"], pod["metadata"].get("namespace")
        try:
            if (message or mark_failed) and force and not is_terminal(pod):
                status: dict[str, Any] = {"phase": "Failed"}
                if message:
                    conditions = [c for c in (pod.get("status") or {}).get("conditions") or ()
                                  if c.get("type") != "DisruptionTarget"]
                    conditions.append({"type": "DisruptionTarget", "status": "True", "reason": "DeletionByPodGC",
                                       "message": message, "lastTransitionTime": rfc3339(self.ctx.now())})
                    status["conditions"] = conditions
                await self.api.patch(name, {"status": status}, namespace=ns, subresource="status")
            await self.api.delete(name, ns, grace_period_seconds=0 if force else None,
                                  preconditions={"uid": pod["metadata"]["uid"]})
        except ApiError as err:
            if not (err.is_not_found or err.is_conflict):
                raise


def _out_of_service(node: dict[str, Any]) -> bool:
    ready = next((c for c in (node.get("status") or {}).get("conditions") or () if c.get("type") == "Ready"), None)
    tainted = any(t.get("key") == OUT_OF_SERVICE_TAINT for t in (node.get("spec") or {}).get("taints") or ())
    return tainted and (ready is None or ready.get("status") != "True")
