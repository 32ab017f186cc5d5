"""The stage sets we ship behave like KWOK's: they reproduce the upstream conformance outputs."""

from __future__ import annotations

import pathlib

import pytest

from kwok.engine import StageSet, default_stages, yamlcodec
from kwok.engine.stagesets import STAGE_SET_NAMES
from kwok.engine.stagetest import UPSTREAM_TEST_NOW, run_stage_test, stage_test_funcs
from tests.conftest import SHARED_DIR

UPSTREAM = pathlib.Path(SHARED_DIR + "/upstream/kwok/kustomize/stage")
OUR_SET = {
    "node/fast": "fast",
    "pod/fast": "fast",
    "pod/general": "general",
    "node/chaos": "chaos",
    "volume/fast": "volume",
}
CASES = sorted(UPSTREAM.glob("*/*/testdata/*.input.yaml"))


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parents[2].name}/{p.parents[1].name}/{p.name}")
def test_our_set_reproduces_the_upstream_case(case: pathlib.Path) -> None:
    upstream_dir = f"{case.parents[2].name}/{case.parents[1].name}"
    stages = StageSet.load(default_stages([OUR_SET[upstream_dir]], lease=True))
    result = run_stage_test(
        stages,
        yamlcodec.load(case.read_text()),
        UPSTREAM_TEST_NOW,
        stage_test_funcs(UPSTREAM_TEST_NOW, "0.9.0", stub=True),
    )
    assert yamlcodec.dump(result) == case.with_name(case.name.replace(".input.", ".output.")).read_text()


def test_fast_set_picks_the_heartbeat_by_lease() -> None:
    names = lambda lease: [d["metadata"]["name"] for d in default_stages(["fast"], lease=lease)]  # noqa: E731
    assert names(True) == [
        "node-initialize",
        "node-heartbeat-with-lease",
        "pod-ready",
        "pod-complete",
        "pod-delete",
    ]
    assert "node-heartbeat" in names(False) and "node-heartbeat-with-lease" not in names(False)


def test_upstream_directory_names_select_parts_of_sets() -> None:
    names = lambda *sets: [d["metadata"]["name"] for d in default_stages(list(sets), lease=False)]  # noqa: E731
    assert names("node-fast", "pod-fast") == names("fast")
    assert names("node/chaos") == ["node-not-ready"]
    assert names("pod-general") == [d["metadata"]["name"] for d in default_stages(["general"])]


def test_every_set_loads_and_sets_combine() -> None:
    for name in STAGE_SET_NAMES:
        assert StageSet.load(default_stages([name])).stages
    assert len(StageSet.load(default_stages(["fast", "chaos", "volume"])).stages) == 12


def test_single_stages_and_heartbeat_stretch() -> None:
    (beat,) = default_stages(["node-heartbeat"], status_update_ms=50_000)
    assert beat["spec"]["delay"] == {"durationMilliseconds": 50_000, "jitterDurationMilliseconds": 55_000}
    assert default_stages(["general/pod-create"])[0]["metadata"]["name"] == "pod-create"
    with pytest.raises(ValueError, match="no stage 'pod-fly'"):
        default_stages(["pod-fly"])
    with pytest.raises(ValueError, match="selected twice"):
        default_stages(["fast", "general"])


def _plan_fast(obj: dict, funcs: dict) -> tuple[str, list]:
    from kwok.engine import CELContext

    stages = StageSet.load(default_stages(["fast"]))
    ctx = CELContext(now=UPSTREAM_TEST_NOW)
    (candidate,) = stages.for_resource(obj["apiVersion"], obj["kind"]).match(obj, ctx)
    return candidate.stage.name, candidate.stage.plan(obj, funcs, typed=True)


def test_fast_pod_ready_with_init_containers_sidecars_and_dual_stack() -> None:
    from kwok.engine import PodNetwork, environment_funcs

    node = {
        "spec": {"podCIDRs": ["10.244.1.0/24", "fd00:1::/64"]},
        "status": {"addresses": [{"type": "InternalIP", "address": "192.168.1.10"}]},
    }
    network = PodNetwork("10.0.0.0/24", "192.168.0.1", {"n1": node}.get)
    funcs = {**environment_funcs(UPSTREAM_TEST_NOW, UPSTREAM_TEST_NOW, "0.9.0"), **network.template_funcs()}
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
        "spec": {
            "nodeName": "n1",
            "readinessGates": [{"conditionType": "example.com/gate"}],
            "initContainers": [
                {"name": "init", "image": "i"},
                {"name": "proxy", "image": "e", "restartPolicy": "Always"},
            ],
            "containers": [{"name": "app", "image": "a", "ports": [{"containerPort": 80}]}],
        },
        "status": {"phase": "Pending"},
    }
    name, (patch,) = _plan_fast(pod, funcs)
    status = patch["data"]["status"]
    assert name == "pod-ready" and patch["type"] == "application/strategic-merge-patch+json"
    assert [c["type"] for c in status["conditions"]] == [
        "Initialized",
        "Ready",
        "ContainersReady",
        "example.com/gate",
    ]
    init, proxy = status["initContainerStatuses"]
    assert init["state"]["terminated"]["reason"] == "Completed" and "started" not in init
    assert proxy["started"] is True and "running" in proxy["state"]
    assert status["podIPs"] == [{"ip": "10.244.1.1"}, {"ip": "fd00:1::1"}] and status["podIP"] == "10.244.1.1"
    assert status["hostIP"] == "192.168.1.10" and status["startTime"] == "2006-01-02T15:04:05Z"


def test_fast_node_initialize_keeps_what_the_node_reports() -> None:
    from kwok.engine import environment_funcs

    funcs = {
        **environment_funcs(UPSTREAM_TEST_NOW, UPSTREAM_TEST_NOW, "0.9.0"),
        "NodeIP": lambda: "10.1.1.1",
        "NodeName": lambda: "",
        "NodePort": lambda: 10250,
    }
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "n", "creationTimestamp": "2006-01-01T00:00:00Z"},
        "status": {
            "capacity": {"cpu": "32", "pods": 110},
            "nodeInfo": {"architecture": "arm64"},
            "addresses": [{"type": "Hostname", "address": "n"}],
        },
    }
    name, (patch,) = _plan_fast(node, funcs)
    status = patch["data"]["status"]
    assert name == "node-initialize"
    assert status["capacity"] == {"cpu": "32", "pods": 110}  # the literal number survives
    assert status["allocatable"] == {"cpu": "1k", "memory": "1Ti", "pods": "1M"}
    assert status["addresses"] == [{"type": "InternalIP", "address": "10.1.1.1"}]  # Hostname already there
    assert status["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 10250}}
    assert (
        status["nodeInfo"]["architecture"] == "arm64" and status["nodeInfo"]["kubeletVersion"] == "kwok-0.9.0"
    )
    assert {c["lastTransitionTime"] for c in status["conditions"]} == {"2006-01-01T00:00:00Z"}
