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


def load_rendered(text: str) -> Any:
    """What a template rendered: the fast block-YAML reader, else PyYAML (same result)."""
    from kwok.engine.blockyaml import NOT_HANDLED
    from kwok.engine.blockyaml import load as load_block

    value = load_block(text)  # its keys are already strings
    return json_keys(load(text)) if value is NOT_HANDLED else value


def json_keys(value: Any) -> Any:
    """YAML-to-JSON as sigs.k8s.io/yaml does it: mapping keys become strings (`1:` -> "1")."""
    if isinstance(value, dict):
        if all(type(k) is str for k in value):
            return {k: json_keys(v) for k, v in value.items()}
        return {key_text(k): json_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_keys(v) for v in value]
    return value


def key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def implicit_resolvers() -> dict[str, list[tuple[str, Any]]]:
    """The plain-scalar rules of `load`, by first character (wildcard rules appended)."""
    table = _Loader.yaml_implicit_resolvers
    wildcard = list(table.get(None, []))
    return {first: list(rules) + wildcard for first, rules in table.items() if first is not None}


def load_all(text: str) -> Iterator[Any]:
    return yaml.load_all(text, Loader=_Loader)


class _Dumper(yaml.CSafeDumper):
    pass


def _represent_str(dumper: yaml.CSafeDumper, value: str) -> yaml.ScalarNode:
    # go-yaml double-quotes a string that would read back as another type ("True", "1", "");
    # other strings that cannot be plain get single quotes, as PyYAML chooses too.
    implicit = dumper.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    style = '"' if implicit != "tag:yaml.org,2002:str" else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dump(value: Any) -> str:
    """Keys sorted, block style, strings quoted as go-yaml quotes them (kwok's encoder)."""
    text: str = yaml.dump(value, Dumper=_Dumper, default_flow_style=False, sort_keys=True, allow_unicode=True)
    return text
