"""One scheduling cycle as a pure function: filter the nodes, score the feasible ones, pick one.

Mirrors kube-scheduler's `schedulePod`: only as many feasible nodes are looked for as
`numFeasibleNodesToFind` allows (all nodes below 100; an adaptive 50%..5% above), starting where the
previous cycle stopped so that successive pods see different nodes; a pod's nominated node (set
by preemption) is tried first; ties between the best scores are broken at random with the `rng`
passed in. The outcome is either a node name or a FitError carrying every node's Status, from
which the FailedScheduling message is built.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

import orjson

from kwok.controlplane.resources import PODS
from kwok.controlplane.scheduler import interpod, scores, spread, volumes
from kwok.controlplane.scheduler.filters import DEFAULT_FILTERS
from kwok.controlplane.scheduler.nodeinfo import NodeInfo, Snapshot
from kwok.controlplane.scheduler.podinfo import PodInfo
from kwok.controlplane.scheduler.status import NO_NODES_AVAILABLE, Status, fit_error_message

MIN_FEASIBLE_NODES = 100
MIN_FEASIBLE_PERCENTAGE = 5


def num_feasible_nodes_to_find(num_nodes: int, percentage: int = 0) -> int:
    if num_nodes < MIN_FEASIBLE_NODES:
        return num_nodes
    if percentage <= 0:
        percentage = max(50 - num_nodes // 125, MIN_FEASIBLE_PERCENTAGE)
    return max(num_nodes * percentage // 100, MIN_FEASIBLE_NODES)


@dataclass(slots=True)
class CycleState:
    """Per-cycle data shared by the plugins (framework.CycleState)."""

    nominated: dict[str, list[PodInfo]] = field(default_factory=dict)
    affinity: interpod.AffinityState | None = None
    spread: spread.SpreadState | None = None
    volumes: volumes.VolumeState | None = None

    def nominated_extra(self, pod: PodInfo, node: NodeInfo) -> dict[str, int] | None:
        """Resources of pods nominated to `node` that outrank `pod`: they keep their place."""
        others = self.nominated.get(node.name)
        if not others:
            return None
        extra: dict[str, int] = {}
        for other in others:
            if other.key == pod.key or other.priority < pod.priority:
                continue
            extra[PODS] = extra.get(PODS, 0) + 1
            for name, amount in other.requests.items():
                extra[name] = extra.get(name, 0) + amount
        return extra


@dataclass(slots=True)
class FitError:
    pod: PodInfo
    num_nodes: int
    statuses: dict[str, Status]
    pre_filter_msg: str = ""
    post_filter_msg: str = ""

    @property
    def message(self) -> str:
        if self.num_nodes == 0:
            return NO_NODES_AVAILABLE
        return fit_error_message(self.num_nodes, self.statuses, self.pre_filter_msg, self.post_filter_msg)


def run_filters(pod: PodInfo, node: NodeInfo, state: CycleState) -> Status | None:
    for check in DEFAULT_FILTERS:
        status = check(pod, node, state)
        if status is not None:
            return status
    if state.volumes is not None:
        status = volumes.filter_node(state.volumes, node)
        if status is not None:
            return status
    if state.spread is not None:
        status = spread.filter_node(pod, node, state.spread)
        if status is not None:
            return status
    if state.affinity is not None:
        return interpod.filter_node(pod, node, state.affinity)
    return None


class Batch:
    """Opportunistic batching (kube-scheduler's OpportunisticBatching): consecutive pods with the
    same scheduling signature reuse one filtering and scoring pass over all nodes, kept as a heap
    of nodes by score; only a node that changed (it received a pod, its taints or size changed,
    a pod left it) is filtered and scored again. Each node has one live entry; an entry replaced
    by a newer one is skipped when it surfaces. Valid while every change of the snapshot since it
    was built went through `Algorithm.node_changed`."""

    def __init__(self, signature: bytes, generation: int, pod: PodInfo) -> None:
        self.signature = signature
        self.generation = generation
        self.pod = pod  # stands for every pod of this signature
        self.heap: list[tuple[int, int, float, str]] = []
        self.live: dict[str, float] = {}  # node -> the tie-break of its current entry

    def push(self, entry: tuple[int, int, float, str]) -> None:
        heapq.heappush(self.heap, entry)
        self.live[entry[3]] = entry[2]


def batch_signature(pod: PodInfo, snapshot: Snapshot) -> bytes | None:
    """The signature of a pod whose placement depends only on per-node state, or None."""
    spec = pod.spec
    if (pod.has_affinity_terms or pod.host_ports or spec.get("topologySpreadConstraints")
            or snapshot.pods_with_affinity or snapshot.prefer_no_schedule_nodes
            or (spec.get("affinity") or {}).get("nodeAffinity", {}).get("preferredDuringSchedulingIgnoredDuringExecution")
            or (pod.pod.get("status") or {}).get("nominatedNodeName") or volumes.claim_names(pod)):
        return None
    if len(snapshot.order) < MIN_FEASIBLE_NODES:
        return None  # small clusters: every node is scored anyway, exactly as kube-scheduler does
    return orjson.dumps([sorted(pod.requests.items()), pod.nonzero_cpu, pod.nonzero_memory, pod.priority,
                         pod.owner_uid,
                         spec.get("nodeSelector"), spec.get("affinity"), spec.get("tolerations")],
                        option=orjson.OPT_SORT_KEYS)


def _batch_entry(pod: PodInfo, node: NodeInfo, rng: random.Random) -> tuple[int, int, float, str]:
    """Heap key: resource score, then fewer pods of the same controller (the system default
    spreading, by hostname), then a random tie-break as selectHost's."""
    score = scores.least_allocated(pod, node) + scores.balanced_allocation(pod, node)
    return (-score, node.owner_counts.get(pod.owner_uid, 0) if pod.owner_uid else 0, rng.random(), node.name)


class Algorithm:
    """Holds the round-robin position between cycles; everything else is passed in."""

    def __init__(self, snapshot: Snapshot, rng: random.Random, percentage_of_nodes_to_score: int = 0,
                 batching: bool = True) -> None:
        self.snapshot = snapshot
        self.rng = rng
        self.percentage = percentage_of_nodes_to_score
        self.next_start = 0
        self.batching = batching
        self._batch: Batch | None = None
        self.volumes = volumes.VolumeCatalog()

    def assume(self, pod: PodInfo, node: str) -> None:
        """Place `pod` on `node` in the snapshot (before the binding is confirmed)."""
        before = self.snapshot.generation
        self.snapshot.add_pod(pod, node)
        self.node_changed(node, before)

    def node_changed(self, node: str, generation_before: int) -> None:
        """The snapshot changed on `node` alone (its object, or a pod on it); `generation_before`:
        the snapshot's generation before. Keeps the batch by filtering and scoring that node
        again instead of all of them, which node and pod churn at 5,000 nodes would cost."""
        batch = self._batch
        if batch is None or self.snapshot.generation == generation_before:
            return
        if batch.generation != generation_before:
            self._batch = None  # something changed the snapshot behind the batch's back
            return
        batch.generation = self.snapshot.generation
        batch.live.pop(node, None)
        info = self.snapshot.nodes.get(node)
        if info is not None and run_filters(batch.pod, info, CycleState()) is None:
            batch.push(_batch_entry(batch.pod, info, self.rng))

    def _batched(self, pod: PodInfo, nominated: dict[str, list[PodInfo]]) -> str | None:
        signature = batch_signature(pod, self.snapshot) if self.batching and not nominated else None
        if signature is None:
            self._batch = None
            return None
        batch = self._batch
        if batch is None or batch.signature != signature or batch.generation != self.snapshot.generation:
            batch = self._batch = Batch(signature, self.snapshot.generation, pod)
            state = CycleState()
            for info in self.snapshot.order:
                if run_filters(pod, info, state) is None:
                    entry = _batch_entry(pod, info, self.rng)
                    batch.heap.append(entry)
                    batch.live[info.name] = entry[2]
            heapq.heapify(batch.heap)
        while batch.heap:
            _, _, tie, name = heapq.heappop(batch.heap)
            if batch.live.get(name) != tie:
                continue  # replaced by a newer entry
            del batch.live[name]
            candidate = self.snapshot.nodes.get(name)
            if candidate is not None and run_filters(pod, candidate, CycleState()) is None:
                return name
        self._batch = None
        return None

    def pre_filter(self, pod: PodInfo, nominated: dict[str, list[PodInfo]]) -> CycleState:
        state = CycleState(nominated=nominated)
        if volumes.claim_names(pod):
            volume_state = volumes.pre_filter(pod, self.volumes)
            state.volumes = volume_state if isinstance(volume_state, volumes.VolumeState) else None
        state.spread = spread.pre_filter(pod, self.snapshot)
        if interpod.needed(pod, self.snapshot):
            state.affinity = interpod.pre_filter(pod, self.snapshot)
        return state

    def schedule(self, pod: PodInfo, nominated: dict[str, list[PodInfo]] | None = None) -> str | FitError:
        order = self.snapshot.order
        if not order:
            return FitError(pod, 0, {})
        batched = self._batched(pod, nominated or {})
        if batched is not None:
            return batched
        volume_state = volumes.pre_filter(pod, self.volumes) if volumes.claim_names(pod) else None
        if isinstance(volume_state, str):
            return FitError(pod, len(order), {}, pre_filter_msg=volume_state)
        state = self.pre_filter(pod, nominated or {})
        nominated_node: str = (pod.pod.get("status") or {}).get("nominatedNodeName") or ""
        if nominated_node in self.snapshot.nodes:
            if run_filters(pod, self.snapshot.nodes[nominated_node], state) is None:
                return nominated_node
        feasible, statuses = self.find_feasible(pod, state)
        if not feasible:
            return FitError(pod, len(order), statuses)
        if len(feasible) == 1:
            return feasible[0].name
        return self.select_host(pod, feasible)

    def find_feasible(self, pod: PodInfo, state: CycleState) -> tuple[list[NodeInfo], dict[str, Status]]:
        order = self.snapshot.order
        total = len(order)
        wanted = num_feasible_nodes_to_find(total, self.percentage)
        feasible: list[NodeInfo] = []
        statuses: dict[str, Status] = {}
        start, processed = self.next_start % total, 0
        for i in range(total):
            node = order[(start + i) % total]
            processed += 1
            status = run_filters(pod, node, state)
            if status is None:
                feasible.append(node)
                if len(feasible) >= wanted:
                    break
            else:
                statuses[node.name] = status
        self.next_start = (start + processed) % total
        return feasible, statuses

    def select_host(self, pod: PodInfo, feasible: list[NodeInfo]) -> str:
        totals = prioritize(pod, self.snapshot, feasible)
        best_score, best, ties = -1, feasible[0].name, 0
        for node, score in zip(feasible, totals, strict=True):
            if score > best_score:
                best_score, best, ties = score, node.name, 1
            elif score == best_score:
                ties += 1
                if self.rng.randrange(ties) == 0:  # reservoir sampling, as selectHost does
                    best = node.name
        return best


def prioritize(pod: PodInfo, snapshot: Snapshot, feasible: list[NodeInfo]) -> list[int]:
    """Weighted sum of the normalized plugin scores for each feasible node."""
    totals = [scores.least_allocated(pod, n) * scores.WEIGHT_FIT
              + scores.balanced_allocation(pod, n) * scores.WEIGHT_BALANCED for n in feasible]
    taint = scores.default_normalize([scores.intolerable_prefer_no_schedule(pod, n) for n in feasible], True)
    for i, s in enumerate(taint):
        totals[i] += s * scores.WEIGHT_TAINT_TOLERATION
    if (pod.spec.get("affinity") or {}).get("nodeAffinity"):
        affinity = scores.default_normalize([scores.node_affinity_raw(pod, n) for n in feasible], False)
        for i, s in enumerate(affinity):
            totals[i] += s * scores.WEIGHT_NODE_AFFINITY
    topology = interpod.pre_score(pod, snapshot)
    if topology is not None:
        normalized = interpod.normalize([interpod.score(n, topology) for n in feasible])
        for i, s in enumerate(normalized):
            totals[i] += s * scores.WEIGHT_INTER_POD_AFFINITY
    spread_state = spread.pre_score(pod, snapshot, feasible)
    if spread_state is not None:
        raw = [spread.score(n, spread_state) for n in feasible]
        normalized = spread.normalize([n.name for n in feasible], raw, spread_state)
        for i, s in enumerate(normalized):
            totals[i] += s * scores.WEIGHT_POD_TOPOLOGY_SPREAD
    return totals
