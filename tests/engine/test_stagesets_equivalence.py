"""Our stage sets against upstream KWOK's stage files, stage by stage, on many objects.

Upstream ships test cases for only some stages (test_stagesets.py replays those); here every
upstream stage and ours of the same name must agree - match, weight, delay range and actions -
on the upstream inputs plus objects made to reach the other stages (chaos labels, heartbeats,
init containers, annotations overriding delays and weights).
"""

from __future__ import annotations

import copy
import pathlib
from typing import Any

import pytest

from kwok.engine import CELContext, Stage, StageSet, default_stages, load_documents, yamlcodec
from kwok.engine.stagesets import STAGE_SET_NAMES
from kwok.engine.stagetest import UPSTREAM_TEST_NOW, stage_test_funcs
from tests.conftest import SHARED_DIR

UPSTREAM = pathlib.Path(SHARED_DIR + "/upstream/kwok/kustomize/stage")
pytestmark = pytest.mark.skipif(not UPSTREAM.exists(), reason="upstream KWOK data not present")


# upstream kustomize/stage/<resource>/<variant> -> our set
OUR_SET = {
    "fast": "fast",
    "heartbeat": "fast",
    "heartbeat-with-lease": "fast",
    "general": "general",
    "chaos": "chaos",
}


def _upstream_stages() -> dict[str, tuple[str, Stage]]:
    """'<dir>/<stage>' -> (our set, upstream stage)."""
    found: dict[str, tuple[str, Stage]] = {}
    for file in sorted(UPSTREAM.glob("*/*/*.yaml")):
        if file.name != "kustomization.yaml":
            our_set = "volume" if file.parent.parent.name == "volume" else OUR_SET[file.parent.name]
            for doc in load_documents(file.read_text(), str(file)).of_kind("Stage"):
                key = f"{file.parent.parent.name}/{file.parent.name}/{doc['metadata']['name']}"
                found[key] = (our_set, Stage.compile(doc))
    return found


def _ours() -> dict[str, dict[str, Stage]]:
    found: dict[str, dict[str, Stage]] = {}
    for name in STAGE_SET_NAMES:
        docs = default_stages([name], lease=False)
        if name == "fast":
            docs += default_stages(["node-heartbeat-with-lease"])
        found[name] = {s.name: s for s in StageSet.load(docs).stages}
    return found


def _objects() -> list[dict[str, Any]]:
    objs = [yamlcodec.load(p.read_text()) for p in sorted(UPSTREAM.glob("*/*/testdata/*.input.yaml"))]
    pods = [o for o in objs if o["kind"] == "Pod"]
    nodes = [o for o in objs if o["kind"] == "Node"]
    extra: list[dict[str, Any]] = []
    for pod in pods:
        for label in ("pod-container-running-failed", "pod-init-container-running-failed"):
            for phase in ("Running", "Pending"):
                p = copy.deepcopy(pod)
                p["metadata"].setdefault("labels", {})[f"{label}.stage.kwok.x-k8s.io"] = "true"
                p.setdefault("status", {})["phase"] = phase
                p["spec"].setdefault(
                    "initContainers", [{"name": "init", "image": "i"}, {"name": "side", "image": "s"}]
                )
                p["spec"]["containers"] = p["spec"]["containers"] + [{"name": "second", "image": "b"}]
                extra.append(p)
                q = copy.deepcopy(p)
                q["metadata"]["annotations"] = {
                    f"{label}.stage.kwok.x-k8s.io/{k}": v
                    for k, v in {
                        "container-name": "second",
                        "reason": "Boom",
                        "message": "it broke",
                        "exit-code": "3",
                        "delay": "2s",
                        "jitter-delay": "1m",
                        "weight": "0x10",
                    }.items()
                }
                q["metadata"]["annotations"][f"{label}.stage.kwok.x-k8s.io/container-name"] = (
                    "side" if "init" in label else "second"
                )
                extra.append(q)
        r = copy.deepcopy(pod)
        r["metadata"]["annotations"] = {
            f"{s}.stage.kwok.x-k8s.io/{k}": v
            for s in ("pod-create", "pod-ready", "pod-complete", "pod-delete")
            for k, v in (("delay", "3s"), ("jitter-delay", ""), ("weight", "7"))
        }
        extra.append(r)
    for node in nodes:
        n = copy.deepcopy(node)
        n["metadata"]["creationTimestamp"] = "2006-01-01T00:00:00Z"
        n["status"] = {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": "10.9.9.9"}],
            "capacity": {"cpu": "4", "pods": "110"},
        }
        extra.append(n)
        c = copy.deepcopy(n)
        c["metadata"]["labels"] = {"node-not-ready.stage.kwok.x-k8s.io": "true"}
        extra.append(c)
        d = copy.deepcopy(c)
        d["metadata"]["annotations"] = {
            "node-not-ready.stage.kwok.x-k8s.io/type": "DiskPressure",
            "node-not-ready.stage.kwok.x-k8s.io/reason": "Disk",
            "node-not-ready.stage.kwok.x-k8s.io/delay": "5s",
        }
        extra.append(d)
    return objs + extra


# Upstream's templates for these stages read `index .status.containerStatuses $i` (or the init
# statuses) into a variable they never use, so they fail on a pod whose status lists fewer
# containers than its spec; ours do not read it, and complete such pods. A deliberate difference.
UNUSED_STATUS_INDEX = {
    "pod-complete",
    "pod-ready",
    "pod-init-container-running",
    "pod-init-container-completed",
}

UPSTREAM_STAGES = _upstream_stages() if UPSTREAM.exists() else {}
OUR_STAGES = _ours()
OBJECTS = _objects() if UPSTREAM.exists() else []


def _behaviour(stage: Stage, obj: dict[str, Any]) -> Any:
    ctx = CELContext(now=UPSTREAM_TEST_NOW, unstructured=True)
    if stage.kind != obj["kind"]:
        return None
    try:
        if not stage.matches(obj, ctx):
            return "no match"
        funcs = stage_test_funcs(UPSTREAM_TEST_NOW, "0.9.0", stub=True)
        return (
            stage.weight(obj, ctx),
            stage.delay_range(obj, UPSTREAM_TEST_NOW, ctx),
            stage.plan(obj, funcs),
        )
    except Exception as err:  # the same failure on both sides is agreement too
        return f"error {type(err).__name__}"


def _without_blank(value: Any) -> Any:
    """The upstream README's comparison: keys whose value is null or "" count as absent."""
    if isinstance(value, dict):
        return {k: _without_blank(v) for k, v in value.items() if v is not None and v != ""}
    if isinstance(value, (list, tuple)):
        return [_without_blank(v) for v in value]
    return value


@pytest.mark.parametrize("key", sorted(UPSTREAM_STAGES))
def test_our_stage_behaves_like_upstreams(key: str) -> None:
    our_set, theirs = UPSTREAM_STAGES[key]
    ours = OUR_STAGES[our_set].get(theirs.name)
    assert ours is not None, f"our {our_set} set has no stage {theirs.name}"
    compared = 0
    for obj in OBJECTS:
        expected = _behaviour(theirs, obj)
        if expected is None or (expected == "error StepError" and theirs.name in UNUSED_STATUS_INDEX):
            continue
        assert _without_blank(_behaviour(ours, obj)) == _without_blank(expected), (key, obj["metadata"])
        compared += expected != "no match"
    assert compared > 0, f"no object reached {key}"
