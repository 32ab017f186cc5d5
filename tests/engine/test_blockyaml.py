"""The fast block-YAML reader must agree with PyYAML wherever it answers."""

from __future__ import annotations

import glob

import pytest

from kwok.engine import StageSet, blockyaml, default_stages, yamlcodec
from kwok.engine.gotemplate import json_numbers
from kwok.engine.stagetest import UPSTREAM_TEST_NOW, stage_test_funcs
from tests.conftest import SHARED_DIR

SNIPPETS = [
    "",
    "a: 1",
    "a: 1\nb:\n  c: x\n  d: [ ]\n",
    "a:\n- 1\n- two\n- '3'\n- \"4\"\nb: null",
    "a:\n  - x: 1\n    y: 2\n  - - n1\n    - n2\n  -\n    z: 3\n  -\n",
    "k: yes\nl: No\nm: ~\nn: 0x1F\no: 010\np: 1_000\nq: 1.5e3\nr: .inf\ns: -.5\nt: 1:30\nu: +12",
    "time: 2006-01-02T15:04:05Z\ndate: 2006-01-02\nv: '2006-01-02'",
    "quoted: \"a\\\"b\\\\c\\n\\u00e9\"\nsingle: 'it''s'\nempty1: \"\"\nempty2: ''",
    "a: x # comment\n# whole line\nb: 'y' # c\nc: \"z\"  # c",
    "url: http://x/y\nkey with spaces: v\n\"quoted key\": 1\n'k2': 2\n3: three\ntrue: t",
    "msg: 'containers with unready status: [ a ]'\nport: 10250",
    "a: -1\nb: - x",
    "a: [1, 2]",
    "a: {b: 1}",
    "a: |\n  text\n",
    "a: >\n  folded\n",
    "a: &x 1\nb: *x",
    "a: !!str 1",
    "a: multi\n  line",
    "- a\n- b",
    "plain scalar",
    "---\na: 1",
    "a:\tb",
    "a: b: c",
    "a: =",
    "? complex\n: key",
    "a:\n  b: 1\n c: 2",
    "a: 'unterminated",
    'a: "bad \\x escape"',
    "a: '1' trailing",
    "x:\n  - a\n  b: 1",
    'a: "x\x85y"\nb: 1',
    "a: x\u2028y",
    "a: 'x\u2029y'",
    "a: x\x7fy",
]


@pytest.mark.parametrize("text", SNIPPETS)
def test_agrees_with_pyyaml_or_declines(text: str) -> None:
    fast = blockyaml.load(text)
    if fast is blockyaml.NOT_HANDLED:
        return
    slow = yamlcodec.json_keys(yamlcodec.load(text))  # both as JSON: string keys
    assert fast == slow
    assert type(fast) is type(slow)


@pytest.mark.parametrize("text", ['a: "x\x85y"', "a: x\u2028y", "a: x\ty"])
def test_declines_the_line_breaks_and_tabs_pyyaml_treats_specially(text: str) -> None:
    # PyYAML folds NEL/LS/PS inside a scalar (a reader that kept them would differ).
    assert blockyaml.load(text) is blockyaml.NOT_HANDLED


def test_handles_what_our_stage_sets_render() -> None:
    funcs = stage_test_funcs(UPSTREAM_TEST_NOW, "0.9.0", stub=True)
    objects = [
        yamlcodec.load(open(f).read())
        for f in glob.glob(SHARED_DIR + "/upstream/kwok/kustomize/stage/*/*/testdata/*.input.yaml")
    ]
    if not objects:
        pytest.skip("upstream data not present")
    stages = [
        s
        for name in ("fast", "general", "chaos", "volume")
        for s in StageSet.load(default_stages([name], lease=False)).stages
    ]
    rendered = 0
    for stage in stages:
        for patch in (p for step in stage.steps for p in (step.patch, step.apply) if p is not None):
            for obj in objects:
                try:
                    text = patch.template.render(json_numbers(obj), funcs)
                except Exception:  # templates that do not apply to this object
                    continue
                assert blockyaml.load(text) == yamlcodec.json_keys(yamlcodec.load(text)), (stage.name, text)
                rendered += 1
    assert rendered > 200


def test_load_rendered_falls_back_to_pyyaml() -> None:
    assert yamlcodec.load_rendered("a: [1, {b: 2}]") == {"a": [1, {"b": 2}]}
    assert yamlcodec.load_rendered("a: |\n  x\n") == {"a": "x\n"}


@pytest.mark.parametrize("index", [0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 19, 20])
def test_common_shapes_take_the_fast_path(index: int) -> None:
    assert blockyaml.load(SNIPPETS[index]) is not blockyaml.NOT_HANDLED
