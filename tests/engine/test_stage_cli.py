"""`kwok stage test` as a user runs it: readable text, clear errors, exit codes.

In-process through click's runner (the real `kwok` process is exercised by
test_stage_conformance.py); stdout and stderr are kept apart as a terminal shows them."""

from __future__ import annotations

import pathlib

import orjson
import pytest
from click.testing import CliRunner, Result

from kwok.cli.stage import stage

POD = """apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  nodeName: node-1
  containers: [{name: c, image: nginx}]
status: {phase: Pending}
"""


def kwok(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(stage, ["test", *args], input=stdin)


def write(tmp_path: pathlib.Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


STAGES = """apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-up}
spec:
  resourceRef: {kind: Pod}
  selector:
    matchExpressions:
    - {key: .status.phase, operator: In, values: [Pending]}
  delay: {durationMilliseconds: 1000, jitterDurationMilliseconds: 3000}
  steps:
  - event: {type: Normal, reason: Started, message: "started {{ .metadata.name }}"}
  - patch:
      subresource: status
      root: status
      template: |
        phase: Running
        podIP: {{ PodIP }}
        startTime: {{ Now }}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: skipped}
"""


def test_text_summary_for_people(tmp_path: pathlib.Path) -> None:
    run = kwok(
        "-s", write(tmp_path, "stages.yaml", STAGES), "-f", "-", "--now", "2024-05-06T07:08:09Z", stdin=POD
    )
    assert run.exit_code == 0, run.stderr
    assert run.stdout.splitlines()[:4] == [
        "Pod default/web (v1): 1 possible stage(s)",
        "  stage pod-up: weight 0, delay 1s to 3s (random)",
        "    1. event Normal Started: started {{ .metadata.name }}",
        "    2. patch /status (application/merge-patch+json):",
    ]
    assert 'startTime: "2024-05-06T07:08:09Z"' in run.stdout
    assert "podIP: 10.0.0.1" in run.stdout  # the real IP pool, without --stub-functions


def test_stub_functions_and_directories(tmp_path: pathlib.Path) -> None:
    write(tmp_path, "a.yaml", STAGES)
    write(tmp_path, "kustomization.yaml", "resources: [a.yaml]\n")
    run = kwok(
        "-s",
        str(tmp_path),
        "-f",
        write(
            tmp_path,
            "pod.json",
            '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "status": {"phase": "Pending"}}',
        ),
        "--stub-functions",
        "-o",
        "yaml",
    )
    assert run.exit_code == 0, run.stderr
    assert "podIP: <PodIP>" in run.stdout and "startTime: <Now>" in run.stdout


@pytest.mark.parametrize(
    ("stage_text", "message"),
    [
        (
            STAGES.replace("{{ Now }}", "{{ Now"),
            'stages.yaml: document 1 (Stage "pod-up"): spec.steps[1].patch.template: template: pod-up:3: unclosed action',
        ),
        (
            STAGES.replace("operator: In", "operator: Inside"),
            'spec.selector.matchExpressions[0].operator: Unsupported value: "Inside"',
        ),
        (
            STAGES.replace("durationMilliseconds: 1000", "durationMilliseconds: -1"),
            "spec.delay.durationMilliseconds: Invalid value: -1",
        ),
        (STAGES.replace("{{ PodIP }}", "{{ NodeName }}"), 'function "NodeName" not defined'),
    ],
)
def test_bad_stage_is_rejected_before_anything_runs(
    tmp_path: pathlib.Path, stage_text: str, message: str
) -> None:
    run = kwok("-s", write(tmp_path, "stages.yaml", stage_text), "-f", "-", stdin=POD)
    assert run.exit_code == 1
    assert run.stdout == ""
    assert message in run.stderr


def test_template_failing_on_this_object_is_reported_for_its_stage(tmp_path: pathlib.Path) -> None:
    failing = STAGES.replace("phase: Running", "phase: {{ index .spec.containers 5 }}")
    run = kwok("-s", write(tmp_path, "stages.yaml", failing), "-f", "-", "-o", "json", stdin=POD)
    assert run.exit_code == 1
    (entry,) = orjson.loads(run.stdout)["stages"]
    assert entry["stage"] == "pod-up" and entry["next"] == []
    assert entry["error"].startswith("template: pod-up:1:") and "index out of range" in entry["error"]


def test_missing_inputs(tmp_path: pathlib.Path) -> None:
    run = kwok("-s", str(tmp_path / "none.yaml"), "-f", "-", stdin=POD)
    assert run.exit_code == 2 and "no such file or directory" in run.stderr
    run = kwok("-s", write(tmp_path, "stages.yaml", STAGES), "-f", "-", stdin="just: text\n")
    assert run.exit_code == 1 and "an object needs apiVersion and kind" in run.stderr
    run = kwok("-s", write(tmp_path, "stages.yaml", STAGES), "-f", "-", "--now", "yesterday", stdin=POD)
    assert run.exit_code == 2 and "is not an RFC 3339 time" in run.stderr
