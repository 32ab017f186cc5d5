"""The stage sets shipped with kwok (YAML next to this file), by name.

    default_stages()                                 # the default "fast" set, lease heartbeat
    default_stages(["fast"], lease=False)            # heartbeat without leases
    default_stages(["fast", "chaos", "volume"])      # sets combine
    default_stages(["node-initialize", "pod-ready"]) # single stages of the fast set
    default_stages(["general/pod-create"])           # a stage of another set: "<set>/<stage>"
    default_stages(["node-fast", "pod-fast"])        # upstream's directories (node/fast, pod/fast, ...)

"fast" is node-initialize, one node heartbeat (node-heartbeat-with-lease when `lease`, else
node-heartbeat), pod-ready, pod-complete and pod-delete, as kwokctl installs by default.
`status_update_ms` (kwokctl's nodeStatusUpdateFrequencyMilliseconds) raises the heartbeat's delay
to that frequency (jitter 1.1x) when it is longer than the stage's, as kwokctl does.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
from collections.abc import Iterable
from typing import Any

from kwok.engine import yamlcodec

STAGE_SET_NAMES = ("fast", "general", "chaos", "volume")
_HEARTBEATS = ("node-heartbeat", "node-heartbeat-with-lease")
# Upstream's kustomize/stage/<resource>/<variant> directories, as parts of our sets.
SUBSETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "node-fast": ("fast", ("node-initialize", *_HEARTBEATS)),
    "pod-fast": ("fast", ("pod-ready", "pod-complete", "pod-delete")),
    "pod-general": ("general", ()),
    "node-chaos": ("chaos", ("node-not-ready",)),
    "pod-chaos": ("chaos", ("pod-container-running-failed", "pod-init-container-running-failed")),
    "volume-fast": ("volume", ()),
}


@functools.cache
def _set(name: str) -> tuple[dict[str, Any], ...]:
    text = importlib.resources.files(__package__).joinpath(f"{name}.yaml").read_text()
    return tuple(d for d in yamlcodec.load_all(text) if d)


def stage_names(set_name: str) -> list[str]:
    return [d["metadata"]["name"] for d in _set(set_name)]


def default_stages(
    names: Iterable[str] = ("fast",), lease: bool = True, status_update_ms: int | None = None
) -> list[dict[str, Any]]:
    """Stage documents (fresh copies) for the given set and stage names."""
    chosen: dict[str, dict[str, Any]] = {}
    for name in names:
        for doc in _resolve(name, lease):
            stage = doc["metadata"]["name"]
            if stage in chosen and chosen[stage] is not doc:
                raise ValueError(f"stage {stage!r} is selected twice (from different sets)")
            chosen[stage] = doc
    docs = [copy.deepcopy(d) for d in chosen.values()]
    if status_update_ms:
        for doc in docs:
            _stretch_heartbeat(doc, status_update_ms)
    return docs


def _resolve(name: str, lease: bool) -> list[dict[str, Any]]:
    name = name.replace("/", "-") if name.replace("/", "-") in SUBSETS else name
    if name in STAGE_SET_NAMES or name in SUBSETS:
        set_name, only = SUBSETS.get(name, (name, ()))
        docs = [d for d in _set(set_name) if not only or d["metadata"]["name"] in only]
        if set_name == "fast":
            dropped = _HEARTBEATS[0] if lease else _HEARTBEATS[1]
            docs = [d for d in docs if d["metadata"]["name"] != dropped]
        return docs
    set_name, _, stage = name.rpartition("/")
    set_name = set_name or "fast"
    if set_name not in STAGE_SET_NAMES:
        raise ValueError(f"unknown stage set {set_name!r}; known: {', '.join(STAGE_SET_NAMES)}")
    found = [d for d in _set(set_name) if d["metadata"]["name"] == stage]
    if not found:
        raise ValueError(
            f"no stage {stage!r} in set {set_name!r}; it has: {', '.join(stage_names(set_name))}"
        )
    return found


def _stretch_heartbeat(doc: dict[str, Any], interval_ms: int) -> None:
    if doc["metadata"]["name"] not in _HEARTBEATS:
        return
    delay = doc["spec"].setdefault("delay", {})
    if interval_ms > int(delay.get("durationMilliseconds") or 0):
        delay["durationMilliseconds"] = interval_ms
        delay["jitterDurationMilliseconds"] = int(interval_ms * 1.1)
