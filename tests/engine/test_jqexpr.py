"""jq selectors: the fast path must agree with libjq (gojq semantics KWOK relies on)."""

from __future__ import annotations

import pytest

from kwok.engine.jqexpr import JQ, JQError

OBJECTS = [
    {},
    {"metadata": None},
    {"metadata": {"name": "n", "labels": {"a/b": "x"}, "ownerReferences": [{"kind": "Job"}, {"kind": "RS"}]}},
    {
        "status": {
            "phase": "Pending",
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "X", "status": "False"}],
        }
    },
    {"status": {"conditions": []}},
    {"status": {"conditions": None}},
    {"status": {"conditions": "not-a-list"}},
    {"status": {"conditions": [{"type": "Ready", "status": True}, {"type": 1}]}},
    {"status": {"conditions": [1, 2]}},
    {"status": {"conditions": [None, {"type": "Ready"}, {"type": "Ready", "status": None}]}},
    {"status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Ready", "status": "False"}]}},
    {"status": {"conditions": [{"type": "Ready", "status": "True"}, "text"]}},
    {"status": {"conditions": {"a": {"type": "Ready", "status": "y"}}}},
    {
        "status": {
            "phase": 3,
            "initContainerStatuses": [{"state": {"waiting": {"reason": "PodInitializing"}}}],
        }
    },
]

SELECTORS = [
    ".",
    ".metadata.name",
    ".metadata.deletionTimestamp",
    '.metadata.labels["a/b"]',
    '.metadata["labels"]["a/b"]',
    ".metadata.ownerReferences.[].kind",
    ".metadata.ownerReferences[].kind",
    '.status.conditions.[] | select( .type == "Ready" ) | .status',
    '.status.conditions[] | select(.type == "X") | .status',
    ".status.conditions.[] | select(.type == 1)",
    ".status.conditions.[] | select(.status == true) | .type",
    ".status.initContainerStatuses.[].state.waiting.reason",
    ".status.phase",
]


@pytest.mark.parametrize("selector", SELECTORS)
def test_fast_path_agrees_with_libjq(selector: str) -> None:
    query = JQ(selector)
    assert query.is_fast, "this selector shape should take the fast path"
    for obj in OBJECTS:
        assert query.outputs(obj) == query.slow_outputs(obj), obj


def test_other_programs_use_libjq() -> None:
    query = JQ('[.status.conditions[] | .type] | join(",")')
    assert not query.is_fast
    assert query.outputs(OBJECTS[3]) == ["Ready,X"]


def test_runtime_error_means_no_output() -> None:
    # KWOK swallows gojq errors: the selector then sees no value.
    assert JQ(".status.conditions.[]").outputs({"status": {}}) == []
    assert JQ(".a.b").outputs({"a": "text"}) == []


def test_syntax_error_is_reported_at_compile_time() -> None:
    with pytest.raises(JQError, match=r"invalid jq expression '\.a\['"):
        JQ(".a[")
