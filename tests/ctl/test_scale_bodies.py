"""`kwokctl scale` bodies: spliced from one render where that is exact, rendered each time where not."""

from __future__ import annotations

import orjson
import pytest

from kwok.ctl import scale
from kwok.ctl.scalebody import BodyMaker


def maker_for(res: scale.ScaleResource, name: str, count: int, params: list[str] | None = None) -> BodyMaker:
    parameters = scale.apply_params(res.parameters, params or [])
    todo = [(scale.serial_name(name, i, 6), i) for i in range(count)]
    return BodyMaker.build(res.template, parameters, "", name,
                           lambda n, i: scale.render(res, parameters, n, "", i, name), todo)


@pytest.mark.parametrize(("kind", "params"), [("node", []), ("pod", ['.nodeName="fake-node-000000"'])])
def test_builtin_templates_are_spliced_and_match_real_renders(kind: str, params: list[str]) -> None:
    res = scale.load_resource(kind, [])
    maker = maker_for(res, f"fake-{kind}", 300, params)
    assert maker.pieces is not None, "the built-in templates take the fast path"
    parameters = scale.apply_params(res.parameters, params)
    for i in (0, 1, 7, 255, 256, 299):
        name = scale.serial_name(f"fake-{kind}", i, 6)
        assert orjson.loads(maker.body(name, i)) == scale.render(res, parameters, name, "", i, f"fake-{kind}")


def test_node_bodies_carry_their_own_name_cidr_and_ips() -> None:
    maker = maker_for(scale.load_resource("node", []), "n", 300)
    node = orjson.loads(maker.body("n-000257", 257))
    assert node["metadata"]["name"] == node["metadata"]["labels"]["kubernetes.io/hostname"] == "n-000257"
    assert node["metadata"]["labels"][scale.SCALE_LABEL] == "n"
    assert node["spec"]["podCIDR"] == "10.1.1.0/24"
    assert [a["address"] for a in node["status"]["addresses"]] == ["192.0.3.2", "2001:db8::102"]


def test_a_template_computing_with_the_index_is_rendered_object_by_object() -> None:
    doc = {
        "kind": "KwokctlResource", "metadata": {"name": "cm"}, "parameters": {},
        "template": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ Name }}\n"
                    "data:\n  next: {{ add Index 1 | quote }}\n  index: {{ Index }}\n",
    }
    res = scale.load_resource("cm", [doc])
    maker = maker_for(res, "cm", 5)
    assert maker.pieces is None
    body = orjson.loads(maker.body("cm-000003", 3))
    assert body["data"] == {"next": "4", "index": 3}
    assert body["metadata"] == {"name": "cm-000003", "labels": {scale.SCALE_LABEL: "cm"}}


def test_a_template_that_renders_no_object_is_an_error() -> None:
    doc = {"kind": "KwokctlResource", "metadata": {"name": "bad"}, "template": "just: text\n"}
    with pytest.raises(scale.ScaleError, match="rendered no object with apiVersion and kind"):
        scale.render(scale.load_resource("bad", [doc]), {}, "bad", "", 0, "bad")
