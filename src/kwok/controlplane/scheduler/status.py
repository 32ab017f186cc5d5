"""A plugin's verdict on one node, and the FailedScheduling message built from all verdicts.

Codes follow the framework: UNSCHEDULABLE means preemption might help; UNRESOLVABLE
(UnschedulableAndUnresolvable) means removing pods cannot help, so preemption skips the node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

UNSCHEDULABLE: Final = "Unschedulable"
UNRESOLVABLE: Final = "UnschedulableAndUnresolvable"

NO_NODES_AVAILABLE = "no nodes available to schedule pods"
PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_PREEMPTION_VICTIMS = "No preemption victims found for incoming pod"


@dataclass(frozen=True, slots=True)
class Status:
    code: str
    reasons: tuple[str, ...]
    plugin: str = ""

    @property
    def resolvable(self) -> bool:
        return self.code == UNSCHEDULABLE


def unschedulable(plugin: str, *reasons: str) -> Status:
    return Status(UNSCHEDULABLE, reasons, plugin)


def unresolvable(plugin: str, *reasons: str) -> Status:
    return Status(UNRESOLVABLE, reasons, plugin)


def fit_error_message(num_nodes: int, statuses: dict[str, Status], pre_filter_msg: str = "",
                      post_filter_msg: str = "") -> str:
    """`FitError.Error()`: "0/5 nodes are available: 1 node(s) ..., 4 Insufficient cpu." and the
    preemption outcome after it. Reasons are counted over nodes and sorted as strings, like Go's
    sortReasonsHistogram (so "10 ..." sorts before "3 ...")."""
    message = f"0/{num_nodes} nodes are available:"
    if pre_filter_msg:
        message += f" {pre_filter_msg}."
    else:
        histogram: dict[str, int] = {}
        for status in statuses.values():
            for reason in status.reasons:
                histogram[reason] = histogram.get(reason, 0) + 1
        message += " " + ", ".join(sorted(f"{n} {r}" for r, n in histogram.items())) + "."
    if post_filter_msg:
        message += f" {post_filter_msg}"
    return message
