"""YAML as KWOK reads it (sigs.k8s.io/yaml): YAML 1.1 scalars, but timestamps stay strings.

PyYAML's loaders turn `2006-01-02T15:04:05Z` into a datetime; Go's YAML-to-JSON path keeps the
text, and a Kubernetes object must carry the string. The libyaml C loader is used for speed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml


class _Loader(yaml.CSafeLoader):
    pass


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


def load(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)


def load_all(text: str) -> Iterator[Any]:
    return yaml.load_all(text, Loader=_Loader)


def dump(value: Any) -> str:
    """Keys sorted, block style, as kwok's encoder writes its test outputs."""
    text: str = yaml.dump(value, Dumper=yaml.CSafeDumper, default_flow_style=False, sort_keys=True)
    return text
