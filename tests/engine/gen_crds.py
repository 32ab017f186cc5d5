"""Derive src/kwok/engine/data/crds.json from the upstream KWOK CRDs.

Run `python tests/engine/gen_crds.py` after updating /work/shared/upstream; test_crds.py fails when
the shipped file and the upstream CRDs disagree. Descriptions are dropped: the engine needs the
structure (types, required, defaults, enums, bounds), not the prose.
"""

from __future__ import annotations

import glob
import json
import pathlib
import sys
from typing import Any

import yaml

UPSTREAM = str(pathlib.Path(__file__).resolve().parents[3] / "shared/upstream/kwok/kustomize/crd/bases")
TARGET = pathlib.Path(__file__).resolve().parents[2] / "src/kwok/engine/data/crds.json"


def _strip(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _strip(v) for k, v in sorted(schema.items()) if k != "description"}
    if isinstance(schema, list):
        return [_strip(v) for v in schema]
    return schema


def derive(upstream: str = UPSTREAM) -> dict[str, Any]:
    kinds = []
    for path in sorted(glob.glob(f"{upstream}/*.yaml")):
        with open(path) as f:
            crd = yaml.safe_load(f)
        spec = crd["spec"]
        for version in spec["versions"]:
            kinds.append(
                {
                    "group": spec["group"],
                    "version": version["name"],
                    "kind": spec["names"]["kind"],
                    "listKind": spec["names"]["listKind"],
                    "plural": spec["names"]["plural"],
                    "singular": spec["names"]["singular"],
                    "scope": spec["scope"],
                    "subresources": sorted(version.get("subresources") or {}),
                    "schema": _strip(version["schema"]["openAPIV3Schema"]),
                }
            )
    return {"kinds": sorted(kinds, key=lambda k: k["kind"])}


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render(derive(sys.argv[1] if len(sys.argv) > 1 else UPSTREAM)))
    print(f"wrote {TARGET}")
