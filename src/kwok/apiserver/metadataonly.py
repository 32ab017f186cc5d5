"""PartialObjectMetadata replies (Accept `as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1`).

Metadata-only informers (the garbage collector, namespace cleanup) ask for these: the objects
reduced to their metadata, which is all they read.
"""

from __future__ import annotations

from typing import Any

import orjson

Obj = dict[str, Any]
API_VERSION = "meta.k8s.io/v1"


def wants_metadata(accept: str) -> bool:
    return "as=PartialObjectMetadata" in accept and "as=Table" not in accept


def partial(data: bytes) -> Obj:
    meta = orjson.loads(data).get("metadata") or {}
    return {"kind": "PartialObjectMetadata", "apiVersion": API_VERSION, "metadata": meta}


def partial_list(items: list[bytes], list_meta: Obj) -> bytes:
    return orjson.dumps({"kind": "PartialObjectMetadataList", "apiVersion": API_VERSION, "metadata": list_meta,
                         "items": [partial(d) for d in items]})


def watch_encoder(event_type: str, data: bytes) -> bytes:
    return orjson.dumps({"type": event_type, "object": partial(data)}) + b"\n"
