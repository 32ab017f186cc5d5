"""The stage sets we ship behave like KWOK's: they reproduce the upstream conformance outputs."""

from __future__ import annotations

import pathlib

import pytest

from kwok.engine import StageSet, default_stages, yamlcodec
from kwok.engine.stagesets import STAGE_SET_NAMES
from kwok.engine.stagetest import UPSTREAM_TEST_NOW, run_stage_test, stage_test_funcs

UPSTREAM = pathlib.Path("/work/shared/upstream/kwok/kustomize/stage")
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
