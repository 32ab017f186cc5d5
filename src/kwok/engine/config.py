"""KWOK configuration documents: multi-document YAML -> validated, defaulted dicts.

As KWOK's loader (pkg/config): each document is dispatched by `kind`; kinds KWOK does not know
are skipped with a warning; the 12 `kwok.x-k8s.io` kinds are checked against their CRD schema;
KwokConfiguration, KwokctlConfiguration and KwokctlResource (`config.kwok.x-k8s.io/v1alpha1`)
against the fields KWOK defines. Stages are also compiled (templates, jq, CEL), so a broken
Stage fails here. Errors name the source, the document (1-based) and the field:

    stages.yaml: document 2 (Stage "pod-ready"): spec.selector.matchExpressions[0].operator: ...

The caller reads files (this package does no I/O) and passes their text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kwok.api.quantity import Quantity, QuantityError
from kwok.engine import yamlcodec
from kwok.engine.celexpr import CELError, CELProgram
from kwok.engine.celfast import compile_fast
from kwok.engine.crdschema import SchemaError, kinds, validate
from kwok.engine.gotemplate import GoTemplate, TemplateError
from kwok.engine.stage import Stage, StageError
from kwok.engine.templatefuncs import scale_function_map

CONFIG_API_VERSION = "config.kwok.x-k8s.io/v1alpha1"

# KwokConfiguration.options: field -> (type, default) (pkg/apis/config/v1alpha1, zz_generated.defaults.go)
KWOK_OPTIONS: dict[str, tuple[type | tuple[type, ...], Any]] = {
    "enableCRDs": (list, None),
    "cidr": (str, "10.0.0.0/24"),
    "nodeIP": (str, None),
    "nodeName": (str, None),
    "nodePort": (int, None),
    "tlsCertFile": (str, None),
    "tlsPrivateKeyFile": (str, None),
    "manageSingleNode": (str, None),
    "manageAllNodes": (bool, False),
    "manageNodesWithAnnotationSelector": (str, None),
    "manageNodesWithLabelSelector": (str, None),
    "disregardStatusWithAnnotationSelector": (str, None),
    "disregardStatusWithLabelSelector": (str, None),
    "serverAddress": (str, None),
    "enableDebuggingHandlers": (bool, True),
    "enableContentionProfiling": (bool, False),
    "enableProfilingHandler": (bool, True),
    "podPlayStageParallelism": (int, 4),
    "nodePlayStageParallelism": (int, 4),
    "nodeLeaseDurationSeconds": (int, None),
    "nodeLeaseParallelism": (int, 4),
    "podsOnNodeSyncParallelism": (int, 1),
    "enablePodsOnNodeSyncListPager": (bool, True),
    "enablePodsOnNodeSyncStreamWatch": (bool, False),
    "tracing": (dict, None),
}

CONFIG_KINDS = ("KwokConfiguration", "KwokctlConfiguration", "KwokctlResource")


class ConfigError(ValueError):
    """A document that cannot be loaded; the message names source, document and field."""


@dataclass
class Documents:
    objects: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o.get("kind") == kind]


def load_documents(text: str, source: str = "<input>", compile_stages: bool = True) -> Documents:
    """Parse and validate every document of `text`; unknown kinds become warnings."""
    result = Documents()
    try:
        raw = [d for d in yamlcodec.load_all(text)]
    except Exception as err:  # yaml.YAMLError and the C loader's own errors
        raise ConfigError(f"{source}: invalid YAML: {' '.join(str(err).split())}") from None
    for index, doc in enumerate(raw, start=1):
        if doc is None:
            continue
        loaded = load_document(doc, f"{source}: document {index}", compile_stages)
        if loaded is None:
            result.warnings.append(
                f"{source}: document {index}: unsupported kind {doc.get('kind')!r}, skipped"
            )
        else:
            result.objects.append(loaded)
    return result


def load_document(doc: Any, where: str, compile_stages: bool = True) -> dict[str, Any] | None:
    """One document validated and defaulted; None for a kind KWOK does not know."""
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{where}: must be an object, got {type(doc).__name__}")
    kind = doc.get("kind")
    if not kind:
        raise ConfigError(f"{where}: kind: Required value")
    label = f"{where} ({kind} {_name(doc)})"
    try:
        if kind in kinds():
            loaded = validate(doc)
            if kind == "Stage" and compile_stages:
                Stage.compile(loaded)
            _check_expressions(loaded)
            return loaded
        if kind in CONFIG_KINDS:
            return _config_kind(doc)
    except SchemaError as err:
        raise ConfigError(f"{label}: " + f"\n{label}: ".join(err.errors)) from None
    except StageError as err:
        raise ConfigError(f"{label}: {str(err).split(': ', 1)[-1]}") from None
    except TemplateError as err:
        raise ConfigError(f"{label}: template: {err}") from None
    return None


def _check_expressions(doc: Mapping[str, Any]) -> None:
    """Compile the CEL of Metric and (Cluster)ResourceUsage documents, and their Quantities."""
    errors = [f"{path}: {problem}" for path, problem in _expression_problems(doc)]
    if errors:
        raise SchemaError(errors)


def _expression_problems(doc: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    spec = doc.get("spec") or {}
    if doc.get("kind") == "Metric":
        for i, metric in enumerate(spec.get("metrics") or []):
            path = f"spec.metrics[{i}]"
            yield from _cel_problem(metric.get("value"), f"{path}.value")
            for j, label in enumerate(metric.get("labels") or []):
                yield from _cel_problem(label.get("value"), f"{path}.labels[{j}].value")
            for j, bucket in enumerate(metric.get("buckets") or []):
                yield from _cel_problem(bucket.get("value"), f"{path}.buckets[{j}].value")
    elif doc.get("kind") in ("ResourceUsage", "ClusterResourceUsage"):
        for i, usage in enumerate(spec.get("usages") or []):
            for resource, value in (usage.get("usage") or {}).items():
                path = f"spec.usages[{i}].usage.{resource}"
                yield from _cel_problem((value or {}).get("expression"), f"{path}.expression")
                if (value or {}).get("value") is not None:
                    try:
                        Quantity(str(value["value"]))
                    except QuantityError as err:
                        yield f"{path}.value", f"Invalid value: {value['value']!r}: {err}"


def _cel_problem(expression: Any, path: str) -> Iterator[tuple[str, str]]:
    # The fast path's grammar is a subset of CEL: what it accepts is valid without loading celpy.
    if expression and compile_fast(str(expression).strip()) is None:
        try:
            CELProgram(str(expression))
        except CELError as err:
            yield path, str(err)


def _name(doc: Mapping[str, Any]) -> str:
    meta = doc.get("metadata")
    name = meta.get("name") if isinstance(meta, Mapping) else None
    return f'"{name}"' if name else "(unnamed)"


def _config_kind(doc: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(doc)
    if doc["kind"] == "KwokConfiguration":
        out["options"] = _kwok_options(doc.get("options"))
    elif doc["kind"] == "KwokctlConfiguration":
        _expect(doc.get("options"), dict, "options")
        _expect(doc.get("components"), list, "components")
        _expect(doc.get("componentsPatches"), list, "componentsPatches")
    else:
        template = doc.get("template")
        _expect(template, str, "template")
        if template:
            GoTemplate(template.strip(), _name(doc).strip('"'), scale_function_map())
    return out


def _kwok_options(options: Any) -> dict[str, Any]:
    _expect(options, dict, "options")
    out = dict(options or {})
    for key, value in out.items():
        if key in KWOK_OPTIONS and value is not None:
            _expect(value, KWOK_OPTIONS[key][0], f"options.{key}")
    for key, (_, default) in KWOK_OPTIONS.items():
        if out.get(key) is None and default is not None:
            out[key] = default
    return out


def _expect(value: Any, kind: type | tuple[type, ...], path: str) -> None:
    if value is None:
        return
    bad = not isinstance(value, kind) or (kind is int and isinstance(value, bool))
    if bad:
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise SchemaError([f"{path}: Invalid value: {value!r}: must be of type {_json_type(names)}"])


def _json_type(python_name: str) -> str:
    return {"dict": "object", "list": "array", "str": "string", "int": "integer", "bool": "boolean"}.get(
        python_name, python_name
    )
