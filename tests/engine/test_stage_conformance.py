"""The 16 upstream stage conformance cases (kwok kustomize/stage/**/testdata).

For each `<case>.input.yaml` the candidate stages are the other *.yaml files of its stage
directory; `kwok stage test --now 2006-01-02T15:04:05Z --stub-functions -o yaml` must print the
recorded `<case>.output.yaml`. We compare byte for byte (stricter than the README's rule, which
lets null and "" keys be dropped), in-process for all cases and as a real process for some.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

from kwok.engine import yamlcodec
from kwok.engine.config import load_documents
from kwok.engine.lifecycle import StageSet
from kwok.engine.stagetest import UPSTREAM_TEST_NOW, run_stage_test, stage_test_funcs
from tests.conftest import SHARED_DIR

UPSTREAM = pathlib.Path(SHARED_DIR + "/upstream/kwok/kustomize/stage")
CASES = sorted(UPSTREAM.glob("*/*/testdata/*.input.yaml"))

pytestmark = pytest.mark.skipif(not CASES, reason="upstream KWOK data not present")


def _case_id(path: pathlib.Path) -> str:
    return f"{path.parents[2].name}/{path.parents[1].name}/{path.name.removesuffix('.input.yaml')}"


def _stage_docs(directory: pathlib.Path) -> list[dict[str, object]]:
    docs: list[dict[str, object]] = []
    for file in sorted(directory.glob("*.yaml")):
        if file.name != "kustomization.yaml":
            docs.extend(load_documents(file.read_text(), str(file)).of_kind("Stage"))
    return docs


def _expected(case: pathlib.Path) -> str:
    return case.with_name(case.name.replace(".input.", ".output.")).read_text()


def test_all_sixteen_cases_are_present() -> None:
    assert len(CASES) == 16


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_case_in_process(case: pathlib.Path) -> None:
    stages = StageSet.load(_stage_docs(case.parents[1]))
    obj = yamlcodec.load(case.read_text())
    funcs = stage_test_funcs(UPSTREAM_TEST_NOW, "0.9.0", stub=True)
    result = run_stage_test(stages, obj, UPSTREAM_TEST_NOW, funcs)
    assert yamlcodec.dump(result) == _expected(case)


def _kwok_stage_test(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    # The `kwok` entry point (kwok.cli.kwok:main) loads `kwok stage` lazily.
    command = [sys.executable, "-m", "kwok.cli.kwok", "stage", "test", *args]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("name", ["pod/general/pod-create-with-init", "volume/fast/pvc-provision"])
def test_case_as_a_real_process(name: str) -> None:
    case = next(c for c in CASES if _case_id(c) == name)
    run = _kwok_stage_test(
        "-s",
        str(case.parents[1]),
        "-f",
        str(case),
        "--now",
        "2006-01-02T15:04:05Z",
        "--stub-functions",
        "-o",
        "yaml",
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == _expected(case)


def test_object_from_stdin_and_json_output() -> None:
    case = next(c for c in CASES if _case_id(c) == "pod/general/pod-delete")
    run = _kwok_stage_test(
        "-s",
        str(case.parents[1]),
        "-f",
        "-",
        "--now",
        "2006-01-02T15:04:05Z",
        "--stub-functions",
        "-o",
        "json",
        stdin=case.read_text(),
    )
    assert run.returncode == 0, run.stderr
    import orjson

    assert orjson.loads(run.stdout) == yamlcodec.load(_expected(case))
