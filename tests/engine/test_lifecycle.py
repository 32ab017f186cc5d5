"""Stage matching, weights, delays and steps, with KWOK's rules and quirks."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from kwok.engine import CELContext, Lifecycle, Stage, StageError, StageSet
from kwok.engine.stagetest import UPSTREAM_TEST_NOW

NOW = UPSTREAM_TEST_NOW
CTX = CELContext(now=NOW)


def stage(name: str = "s", kind: str = "Pod", api_group: str = "v1", **spec: Any) -> Stage:
    spec.setdefault("selector", {})
    ref = {"apiGroup": api_group, "kind": kind}
    return Stage.compile({"kind": "Stage", "metadata": {"name": name}, "spec": {"resourceRef": ref, **spec}})


def pod(**fields: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}}
    obj.update(fields)
    return obj


# --- matching -----------------------------------------------------------------------------


def test_null_or_absent_selector_disables_the_stage_and_empty_selector_matches_all() -> None:
    assert not stage(selector=None).matches(pod(), CTX)
    assert not Stage.compile({"metadata": {"name": "x"}, "spec": {"resourceRef": {"kind": "Pod"}}}).matches(
        pod(), CTX
    )
    assert stage(selector={}).matches(pod(), CTX)


def test_labels_and_annotations_are_anded() -> None:
    s = stage(selector={"matchLabels": {"a": "1"}, "matchAnnotations": {"b": "2"}})
    assert s.matches(pod(metadata={"labels": {"a": "1"}, "annotations": {"b": "2"}}), CTX)
    assert not s.matches(pod(metadata={"labels": {"a": "1"}}), CTX)
    assert not s.matches(pod(metadata={"labels": {"a": "2"}, "annotations": {"b": "2"}}), CTX)


@pytest.mark.parametrize(
    ("operator", "values", "obj_value", "expected"),
    [
        ("In", ["Running"], "Running", True),
        ("In", ["Running"], "Pending", False),
        ("In", ["Running"], None, False),
        ("NotIn", ["Running"], None, True),
        ("NotIn", ["Running"], "Pending", True),
        ("In", ["true"], True, True),  # booleans compare as "true"/"false"
        ("In", ["3"], 3, True),  # integers in decimal
        ("In", ["1.5"], 1.5, False),  # quirk: a JSON float never matches
        ("NotIn", ["1.5"], 1.5, True),
        ("Exists", [], "x", True),
        ("Exists", [], None, False),
        ("DoesNotExist", [], None, True),
    ],
)
def test_jq_operators(operator: str, values: list[str], obj_value: Any, expected: bool) -> None:
    selector = {"matchExpressions": [{"key": ".status.x", "operator": operator, "values": values or None}]}
    s = stage(kind="ConfigMap", selector=selector)  # an unstructured kind
    obj = pod(status={"x": obj_value}) if obj_value is not None else pod(status={})
    assert s.matches(obj, CTX) is expected


def test_numbers_never_match_in_for_typed_node_and_pod_stages() -> None:
    # KWOK's pod controller gives jq the Pod through a JSON round trip: every number is a float.
    selector = {"matchExpressions": [{"key": ".spec.priority", "operator": "In", "values": ["3"]}]}
    assert not stage(selector=selector).matches(pod(spec={"priority": 3}), CTX)
    # ... while its stage tests load the object unstructured, where integers match.
    unstructured = CELContext(now=NOW, unstructured=True)
    assert stage(selector=selector).matches(pod(spec={"priority": 3}), unstructured)


def test_jq_runtime_error_means_in_false_and_not_in_true() -> None:
    key = ".status.conditions.[] | .status"
    assert not stage(
        selector={"matchExpressions": [{"key": key, "operator": "In", "values": ["x"]}]}
    ).matches(pod(), CTX)
    assert stage(selector={"matchExpressions": [{"key": key, "operator": "NotIn", "values": ["x"]}]}).matches(
        pod(), CTX
    )


def test_new_jq_form_and_cel_expressions() -> None:
    s = stage(
        selector={
            "matchExpressions": [
                {"jq": {"key": ".status.phase", "operator": "In", "values": ["Running"]}},
                {"cel": {"expression": "self.metadata.name == 'p' && !has(self.metadata.deletionTimestamp)"}},
            ]
        }
    )
    assert s.matches(pod(status={"phase": "Running"}), CTX)
    assert not s.matches(pod(status={"phase": "Pending"}), CTX)


def test_cel_error_or_non_bool_fails_the_match() -> None:
    # KWOK aborts matching for the object (no stage at all) when a CEL selector fails.
    from kwok.engine import CELError

    failing = {"matchExpressions": [{"cel": {"expression": "self.status.phase == 'x'"}}]}
    with pytest.raises(CELError, match="phase"):
        stage(kind="Widget", api_group="example.com/v1", selector=failing).matches(
            {"kind": "Widget", "status": {}}, CTX
        )
    assert not stage(selector=failing).matches(pod(), CTX)  # a typed Pod reads phase as ""
    with pytest.raises(CELError, match="must be a bool"):
        stage(selector={"matchExpressions": [{"cel": {"expression": "'yes'"}}]}).matches(pod(), CTX)


# --- weights and choice ---------------------------------------------------------------------


def test_weight_from_annotation_with_fallbacks() -> None:
    s = stage(weight=7, weightFrom={"expressionFrom": '.metadata.annotations["w"]'})
    assert s.weight(pod(), CTX) == 7  # no output: static weight
    assert s.weight(pod(metadata={"annotations": {"w": "0x10"}}), CTX) == 16  # Go ParseInt base 0
    assert s.weight(pod(metadata={"annotations": {"w": "010"}}), CTX) == 8
    assert s.weight(pod(metadata={"annotations": {"w": ""}}), CTX) is None  # unavailable
    assert s.weight(pod(metadata={"annotations": {"w": "many"}}), CTX) is None
    assert s.weight(pod(metadata={"annotations": {"w": True}}), CTX) == 7  # other types: static weight


def test_choose_follows_kwok_weight_rules() -> None:
    a, b, c = stage("a", weight=0), stage("b", weight=3), stage("c", weight=1)
    lifecycle = Lifecycle([a, b, c])
    candidates = lifecycle.match(pod(), CTX)
    assert [x.stage.name for x in Lifecycle.possible(candidates)] == ["b", "c"]
    rng = random.Random(1)
    picks = [Lifecycle.choose(candidates, rng).name for _ in range(4000)]  # type: ignore[union-attr]
    assert "a" not in picks
    assert 0.7 < picks.count("b") / len(picks) < 0.8


def test_all_zero_weights_choose_uniformly() -> None:
    candidates = Lifecycle([stage("a"), stage("b")]).match(pod(), CTX)
    assert len(Lifecycle.possible(candidates)) == 2
    picks = {Lifecycle.choose(candidates, random.Random(i)).name for i in range(50)}  # type: ignore[union-attr]
    assert picks == {"a", "b"}
    assert Lifecycle.choose([], random.Random(0)) is None


# --- delays -------------------------------------------------------------------------------


def test_delay_range_and_random_delay() -> None:
    s = stage(delay={"durationMilliseconds": 1000, "jitterDurationMilliseconds": 5000})
    assert s.delay_range(pod(), NOW) == [1_000_000_000, 5_000_000_000]
    delays = {s.delay(pod(), NOW, random.Random(i)) for i in range(100)}
    assert all(1.0 <= d < 5.0 for d in delays) and len(delays) > 50


def test_jitter_not_above_duration_is_the_delay() -> None:
    # KWOK quirk: when jitter <= duration, the delay is the jitter.
    s = stage(delay={"durationMilliseconds": 5000, "jitterDurationMilliseconds": 2000})
    assert s.delay_range(pod(), NOW) == [2_000_000_000]
    assert s.delay(pod(), NOW, random.Random(0)) == 2.0


def test_duration_from_time_duration_and_fallback() -> None:
    s = stage(
        delay={
            "durationMilliseconds": 1000,
            "durationFrom": {"expressionFrom": '.metadata.annotations["d"]'},
            "jitterDurationFrom": {"expressionFrom": ".metadata.deletionTimestamp"},
        }
    )
    assert s.delay_range(pod(), NOW) == [1_000_000_000]  # no output, no jitter value
    assert s.delay_range(pod(metadata={"annotations": {"d": "1m30s"}}), NOW) == [90_000_000_000]
    in_30s = (NOW + dt.timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert s.delay_range(pod(metadata={"deletionTimestamp": in_30s}), NOW) == [1_000_000_000, 30_000_000_000]
    past = (NOW - dt.timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert s.delay_range(pod(metadata={"deletionTimestamp": past}), NOW) == [-30_000_000_000]
    assert s.delay(pod(metadata={"deletionTimestamp": past}), NOW, random.Random(0)) == 0.0


def test_cel_jitter_duration_from_is_ignored_like_kwok() -> None:
    s = stage(
        delay={
            "durationMilliseconds": 1000,
            "jitterDurationMilliseconds": 3000,
            "jitterDurationFrom": {"cel": {"expression": "duration('10s')"}},
        }
    )
    assert s.delay_range(pod(), NOW) == [1_000_000_000, 3_000_000_000]
    s = stage(delay={"durationFrom": {"cel": {"expression": "duration('10s')"}}})
    assert s.delay_range(pod(), NOW) == [10_000_000_000]


def test_no_delay_configured() -> None:
    assert stage().delay_range(pod(), NOW) is None
    assert stage().delay(pod(), NOW, random.Random(0)) == 0.0


# --- steps --------------------------------------------------------------------------------


def test_legacy_next_becomes_event_finalizers_status_patch_then_delete() -> None:
    s = stage(
        next={
            "event": {"type": "Normal", "reason": "R", "message": "M"},
            "finalizers": {"add": [{"value": "f"}]},
            "statusTemplate": "phase: {{ .status.phase }}",
            "delete": True,
        }
    )
    actions = s.plan(pod(status={"phase": "Running"}), {})
    assert actions == [
        {"kind": "event", "type": "Normal", "reason": "R", "message": "M"},
        {
            "kind": "patch",
            "type": "application/json-patch+json",
            "data": [{"op": "add", "path": "/metadata/finalizers", "value": ["f"]}],
        },
        {
            "kind": "patch",
            "type": "application/merge-patch+json",
            "subresource": "status",
            "data": {"status": {"phase": "Running"}},
        },
        {"kind": "delete"},
    ]


def test_typed_objects_default_to_strategic_merge_and_json_patch_paths_get_the_root() -> None:
    s = stage(
        steps=[
            {"patch": {"root": "status", "template": "phase: X"}},
            {"patch": {"type": "json", "root": "status", "template": "[{op: add, path: /x, value: 1}]"}},
        ]
    )
    typed = s.plan(pod(), {}, typed=True)
    assert typed[0]["type"] == "application/strategic-merge-patch+json"
    assert typed[1]["data"] == [{"op": "add", "path": "/status/x", "value": 1}]


def test_after_delete_only_events_are_emitted_and_immediate_comes_last() -> None:
    s = stage(
        immediateNextStage=True,
        steps=[
            {"delete": True},
            {"event": {"type": "Normal", "reason": "Gone", "message": "m"}, "patch": {"template": "a: 1"}},
        ],
    )
    assert [a["kind"] for a in s.plan(pod(), {})] == ["delete", "event", "immediate"]


@pytest.mark.parametrize(
    ("current", "spec", "ops"),
    [
        (
            [],
            {"add": [{"value": "a"}, {"value": "b"}]},
            [{"op": "add", "path": "/metadata/finalizers", "value": ["a", "b"]}],
        ),
        (
            ["a"],
            {"add": [{"value": "a"}, {"value": "b"}]},
            [{"op": "add", "path": "/metadata/finalizers/-", "value": "b"}],
        ),
        (
            ["a", "b", "c"],
            {"remove": [{"value": "a"}, {"value": "c"}]},
            [
                {"op": "remove", "path": "/metadata/finalizers/2"},
                {"op": "remove", "path": "/metadata/finalizers/0"},
            ],
        ),
        (["a"], {"remove": [{"value": "a"}]}, [{"op": "remove", "path": "/metadata/finalizers"}]),
        (
            ["a"],
            {"empty": True, "add": [{"value": "z"}]},
            [
                {"op": "remove", "path": "/metadata/finalizers"},
                {"op": "add", "path": "/metadata/finalizers", "value": ["z"]},
            ],
        ),
        ([], {"empty": True}, None),
    ],
)
def test_finalizer_json_patches(
    current: list[str], spec: dict[str, Any], ops: list[dict[str, Any]] | None
) -> None:
    actions = stage(steps=[{"finalizers": spec}]).plan(pod(metadata={"finalizers": current}), {})
    assert actions == (
        [] if ops is None else [{"kind": "patch", "type": "application/json-patch+json", "data": ops}]
    )


def test_apply_and_impersonation() -> None:
    s = stage(
        steps=[
            {
                "apply": {
                    "template": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .metadata.name }}}",
                    "impersonation": {"username": "u"},
                }
            }
        ]
    )
    assert s.plan(pod(), {}) == [
        {
            "kind": "apply",
            "type": "application/apply-patch+yaml",
            "impersonation": {"username": "u"},
            "data": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p"}},
        }
    ]


def test_template_failure_is_reported_for_that_object_only() -> None:
    from kwok.engine import StepError

    s = stage(steps=[{"patch": {"template": "x: {{ index .spec.containers 0 }}"}}])
    with pytest.raises(StepError, match="index"):
        s.plan(pod(spec={"containers": []}), {})
    assert s.plan(pod(spec={"containers": ["c"]}), {})[0]["data"] == {"x": "c"}


# --- load-time errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"selector": {"matchExpressions": [{"key": ".a", "operator": "Has"}]}},
            r'stage "s": spec\.selector\.matchExpressions\[0\]\.operator: Unsupported value: "Has"',
        ),
        ({"selector": {"matchExpressions": [{"key": ".a", "operator": "In"}]}}, r"values: must be specified"),
        (
            {"selector": {"matchExpressions": [{"key": ".a |", "operator": "Exists"}]}},
            r"matchExpressions\[0\]\.key: invalid jq",
        ),
        (
            {"selector": {"matchExpressions": [{"cel": {"expression": "self.a =="}}]}},
            r"cel\.expression: invalid CEL expression 'self\.a ==': syntax error at 1:",
        ),
        (
            {"steps": [{"patch": {"template": "a: 1\nb: {{ .x"}}]},
            r"spec\.steps\[0\]\.patch\.template: template: s:2: unclosed action",
        ),
        ({"steps": [{"patch": {"template": "{{ Frobnicate }}"}}]}, r'function "Frobnicate" not defined'),
        (
            {"steps": [{"patch": {"type": "apply", "template": "a: 1"}}]},
            r'patch\.type: Unsupported value: "apply"',
        ),
        ({"delay": {"durationMilliseconds": -5}}, r"durationMilliseconds: must be >= 0"),
        ({"weightFrom": {"jq": {"expression": ".a["}}}, r"spec\.weightFrom\.jq\.expression: invalid jq"),
    ],
)
def test_bad_stages_fail_at_load(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(StageError, match=message):
        stage(**spec)


def test_unknown_builtin_kind_fails_at_load_but_custom_groups_are_accepted() -> None:
    with pytest.raises(
        StageError, match=r'spec\.resourceRef\.kind: Unsupported value: "Pods": v1 has no such kind'
    ):
        stage(kind="Pods")
    assert Stage.compile(
        {"metadata": {"name": "x"}, "spec": {"resourceRef": {"apiGroup": "example.com/v1", "kind": "Widget"}}}
    )
    assert Stage.compile(
        {
            "metadata": {"name": "x"},
            "spec": {"resourceRef": {"apiGroup": "kwok.x-k8s.io/v1alpha1", "kind": "Stage"}},
        }
    )


def test_stage_set_groups_by_resource_and_rejects_duplicates() -> None:
    docs = [
        {
            "kind": "Stage",
            "metadata": {"name": "a"},
            "spec": {"resourceRef": {"kind": "Node"}, "selector": {}},
        },
        {
            "kind": "Stage",
            "metadata": {"name": "b"},
            "spec": {"resourceRef": {"apiGroup": "apps/v1", "kind": "Deployment"}},
        },
        {"kind": "ConfigMap", "metadata": {"name": "ignored"}},
    ]
    stages = StageSet.load(docs)
    assert stages.resource_refs() == [("apps/v1", "Deployment"), ("v1", "Node")]
    assert [s.name for s in stages.for_resource("v1", "Node").stages] == ["a"]
    assert not stages.for_resource("v1", "Pod")
    with pytest.raises(StageError, match="Duplicate"):
        StageSet.load(docs[:1] * 2)


def test_cel_results_are_cached_per_object_revision() -> None:
    s = stage(selector={"matchExpressions": [{"cel": {"expression": "self.metadata.name == 'p'"}}]})
    obj = pod(metadata={"name": "p", "uid": "u", "resourceVersion": "1"})
    assert s.matches(obj, CTX)
    obj["metadata"]["name"] = "q"  # same revision: the cached answer stands
    assert s.matches(obj, CTX)
    obj["metadata"]["resourceVersion"] = "2"
    assert not s.matches(obj, CTX)


def test_clock_dependent_cel_is_not_cached_across_instants() -> None:
    s = stage(selector={"matchExpressions": [{"cel": {"expression": "self.SinceSecond() > 30.0"}}]})
    obj = pod(
        metadata={
            "name": "p",
            "uid": "u-clock",
            "resourceVersion": "1",
            "creationTimestamp": "2006-01-02T15:04:00Z",
        }
    )
    assert not s.matches(obj, CELContext(now=NOW))
    assert s.matches(obj, CELContext(now=NOW + dt.timedelta(seconds=30)))


def test_apply_must_render_a_whole_object() -> None:
    from kwok.engine import StepError

    s = stage(steps=[{"apply": {"template": "metadata: {name: x}"}}])
    with pytest.raises(StepError, match="apiVersion and kind"):
        s.plan(pod(), {})


def test_cel_weight_and_duration() -> None:
    from kwok.engine import CELError

    s = stage(
        weightFrom={"cel": {"expression": "size(self.metadata.name) * 2"}},
        delay={"durationFrom": {"cel": {"expression": "duration('1m') + duration('500ms')"}}},
    )
    assert s.weight(pod(), CTX) == 2
    assert s.delay_range(pod(), NOW) == [60_500_000_000]
    with pytest.raises(CELError, match="weight"):
        stage(weightFrom={"cel": {"expression": "'heavy'"}}).weight(pod(), CTX)
    with pytest.raises(CELError, match="duration"):
        stage(delay={"durationFrom": {"cel": {"expression": "true"}}}).delay_range(pod(), NOW)


def test_unparsable_jq_duration_falls_back_to_milliseconds() -> None:
    s = stage(
        delay={
            "durationMilliseconds": 2000,
            "durationFrom": {"jq": {"expression": '.metadata.annotations["d"]'}},
        }
    )
    assert s.delay_range(pod(metadata={"annotations": {"d": "soon"}}), NOW) == [2_000_000_000]
    assert s.delay_range(pod(metadata={"annotations": {"d": ""}}), NOW) is None  # empty: unavailable


def test_stage_test_reports_a_failed_match_for_the_object() -> None:
    from kwok.engine.stagetest import run_stage_test

    stages = StageSet(
        [
            stage(
                kind="Widget",
                api_group="example.com/v1",
                selector={"matchExpressions": [{"cel": {"expression": "self.spec.x"}}]},
            )
        ]
    )
    result = run_stage_test(
        stages, {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}, NOW, {}
    )
    assert result["stages"] == [] and "spec" in result["error"]
