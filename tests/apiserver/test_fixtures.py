"""Upstream's fully populated objects (k8s-api testdata/HEAD) round-trip through create -> get.

The fixtures carry placeholder values ("nameValue") that validation rightly refuses in places, so
the metadata is made valid first; what a fixture then sets must come back unchanged, apart from the
fields the server owns (uid, resourceVersion, timestamps, managedFields, generation) and status,
which a create resets for kinds with a status subresource. Defaulting may add fields, never change
what the client set.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.apiserver.harness import ApiServer
from tests.conftest import SHARED_DIR

HEAD = Path(SHARED_DIR + "/upstream/k8s-api/testdata/HEAD")
SERVER_SET = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink",
              "deletionTimestamp", "deletionGracePeriodSeconds", "generateName", "namespace")
NS = "fixtures"


def _fixtures() -> list[Path]:
    return sorted(HEAD.glob("*.json")) if HEAD.exists() else []


@pytest.fixture(scope="module")
def served(apiserver: ApiServer) -> Iterator[dict[tuple[str, str], tuple[str, bool]]]:
    apiserver.request("POST", "/api/v1/namespaces", {"metadata": {"name": NS}})
    out: dict[tuple[str, str], tuple[str, bool]] = {}
    for gv_path in ["/api/v1"] + [f"/apis/{gv['groupVersion']}" for g in apiserver.request("GET", "/apis")[1]["groups"]
                                  for gv in g["versions"]]:
        gv = apiserver.request("GET", gv_path)[1]
        for r in gv["resources"]:
            if "/" not in r["name"] and "get" in r["verbs"] and "create" in r["verbs"]:
                out[(gv["groupVersion"], r["kind"])] = (f"{gv_path}/" + (f"namespaces/{NS}/" if r["namespaced"]
                                                                          else "") + r["name"], r["namespaced"])
    yield out


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        for key, child in value.items():
            yield from _leaves(child, f"{path}.{key}")
    elif isinstance(value, list) and value:
        for i, child in enumerate(value):
            yield from _leaves(child, f"{path}[{i}]")
    else:
        yield path, value


def _get(obj: Any, path: str) -> Any:
    import re

    for part in re.findall(r"\.([^.\[]+)|\[(\d+)\]", path):
        key, index = part
        if key:
            if not isinstance(obj, dict) or key not in obj:
                return KeyError(path)
            obj = obj[key]
        else:
            if not isinstance(obj, list) or int(index) >= len(obj):
                return KeyError(path)
            obj = obj[int(index)]
    return obj


def test_fixtures_round_trip(apiserver: ApiServer, served: dict[tuple[str, str], tuple[str, bool]]) -> None:
    accepted, changed = [], []
    for path in _fixtures():
        obj = json.loads(path.read_text())
        target = served.get((obj.get("apiVersion", ""), obj.get("kind", "")))
        if target is None:
            continue
        url, _namespaced = target
        meta = obj["metadata"]
        for key in SERVER_SET:
            meta.pop(key, None)
        meta["name"] = f"fixture-{obj['kind'].lower()}"
        meta.pop("ownerReferences", None)
        meta.pop("finalizers", None)
        code, stored, _ = apiserver.request("POST", url, obj)
        if code != 201:
            continue
        accepted.append(path.name)
        code, got, _ = apiserver.request("GET", f"{url}/{meta['name']}")
        assert code == 200
        assert got == stored
        for leaf, value in _leaves(obj):
            if leaf.startswith(".status"):
                continue
            if _get(got, leaf) != value:
                changed.append(f"{path.name}: {leaf}: sent {value!r}, stored {_get(got, leaf)!r}")
    assert len(accepted) >= 10, accepted
    assert changed == []


def _comparable(obj: dict[str, Any]) -> Any:
    """The object without server-owned fields, its own name replaced (it shows up in labels too)."""
    meta = {k: v for k, v in obj["metadata"].items() if k not in SERVER_SET}
    text = json.dumps({**{k: v for k, v in obj.items() if k != "metadata"}, "metadata": meta}, sort_keys=True)
    return json.loads(text.replace(f'"{meta["name"]}"', '"NAME"'))


def test_protobuf_bodies_store_what_json_bodies_store(apiserver: ApiServer,
                                                      served: dict[tuple[str, str], tuple[str, bool]]) -> None:
    from kwok.api import protobuf

    compared = 0
    for path in _fixtures():
        pb = path.with_suffix(".pb")
        obj = json.loads(path.read_text())
        target = served.get((obj.get("apiVersion", ""), obj.get("kind", "")))
        if target is None or not pb.exists():
            continue
        url = target[0]
        decoded = protobuf.decode(pb.read_bytes())
        for body in (obj, decoded):
            meta = body["metadata"]
            for key in (*SERVER_SET, "ownerReferences", "finalizers"):
                meta.pop(key, None)
        obj["metadata"]["name"] = f"json-{obj['kind'].lower()}"
        decoded["metadata"]["name"] = f"pb-{obj['kind'].lower()}"
        code_json, from_json, _ = apiserver.request("POST", url, obj)
        code_pb, from_pb, _ = apiserver.request("POST", url, protobuf.encode(decoded),
                                                "application/vnd.kubernetes.protobuf")
        assert code_pb == code_json, (path.name, from_pb)
        if code_json == 201:
            assert _comparable(from_pb) == _comparable(from_json), path.name
            compared += 1
    assert compared >= 10
