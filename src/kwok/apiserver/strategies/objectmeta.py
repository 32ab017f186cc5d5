"""ObjectMeta validation shared by every kind: names, namespace, labels, annotations, owners.

The messages are apimachinery's (IsDNS1123Subdomain, IsQualifiedName, IsValidLabelValue, ...),
including their quirks (the double space in "(e.g. 'my-name',  or '123-abc'").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kwok.apiserver.registry import Cause, Obj
from kwok.apiserver.strategies.fielderrors import forbidden, immutable, invalid, required, too_long

_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = rf"{_LABEL}(\.{_LABEL})*"
_DNS1035 = "[a-z]([-a-z0-9]*[a-z0-9])?"
_QUALIFIED = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE = f"({_QUALIFIED})?"

_LABEL_RE = re.compile(f"^{_LABEL}$")
_SUBDOMAIN_RE = re.compile(f"^{_SUBDOMAIN}$")
_DNS1035_RE = re.compile(f"^{_DNS1035}$")
_QUALIFIED_RE = re.compile(f"^{_QUALIFIED}$")
_LABEL_VALUE_RE = re.compile(f"^{_LABEL_VALUE}$")

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024


def _fmt(what: str, chars: str, start_end: str, examples: list[str], regex: str) -> str:
    eg = ",  or ".join(f"'{e}'" for e in examples)
    return f"{what} must consist of {chars}, {start_end} (e.g. {eg}, regex used for validation is '{regex}')"


def dns1123_label(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _LABEL_RE.match(value):
        errs.append(_fmt("a lowercase RFC 1123 label", "lower case alphanumeric characters or '-'",
                         "and must start and end with an alphanumeric character", ["my-name", "123-abc"], _LABEL))
    return errs


def dns1123_subdomain(value: str) -> list[str]:
    errs = []
    if len(value) > 253:
        errs.append("must be no more than 253 characters")
    if not _SUBDOMAIN_RE.match(value):
        errs.append(_fmt("a lowercase RFC 1123 subdomain", "lower case alphanumeric characters, '-' or '.'",
                         "and must start and end with an alphanumeric character", ["example.com"], _SUBDOMAIN))
    return errs


def dns1035_label(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _DNS1035_RE.match(value):
        errs.append(_fmt("a DNS-1035 label", "lower case alphanumeric characters or '-'",
                         "start with an alphabetic character, and end with an alphanumeric character",
                         ["my-name", "abc-123"], _DNS1035))
    return errs


def qualified_name(value: str) -> list[str]:
    """A label or annotation key: optional DNS subdomain prefix, '/', name part of <= 63 chars."""
    prefix, _, name = value.rpartition("/")
    errs: list[str] = []
    if "/" in value and not prefix:
        errs.append("prefix part must be non-empty")
    elif prefix:
        errs.extend("prefix part " + e for e in dns1123_subdomain(prefix))
    if not name:
        errs.append("name part must be non-empty")
        return errs
    if len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    if not _QUALIFIED_RE.match(name):
        errs.append("name part " + _fmt("", "alphanumeric characters, '-', '_' or '.'",
                                        "and must start and end with an alphanumeric character",
                                        ["MyName", "my.name", "123-abc"], _QUALIFIED).lstrip())
    return errs


def label_value(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _LABEL_VALUE_RE.match(value):
        errs.append(_fmt("a valid label", "alphanumeric characters, '-', '_' or '.'",
                         "and must start and end with an alphanumeric character",
                         ["MyValue", "my_value", "12345"], _LABEL_VALUE).replace(
                             "a valid label must consist", "a valid label must be an empty string or consist"))
    return errs


NameValidator = Callable[[str], list[str]]


def validate_labels(labels: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for key, value in (labels or {}).items():
        causes += [invalid(path, key, m) for m in qualified_name(key)]
        if not isinstance(value, str):
            causes.append(invalid(f"{path}[{key}]", value, "must be a string"))
            continue
        causes += [invalid(f"{path}", value, m) for m in label_value(value)]
    return causes


def validate_annotations(annotations: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for key in annotations or {}:
        causes += [invalid(path, key, m) for m in qualified_name(key.lower())]
    size = sum(len(k) + len(v) for k, v in (annotations or {}).items() if isinstance(v, str))
    if size > TOTAL_ANNOTATION_SIZE_LIMIT:
        causes.append(too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return causes


def validate_owner_references(refs: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    controllers = 0
    for i, ref in enumerate(refs or []):
        p = f"{path}[{i}]"
        if not ref.get("apiVersion"):
            causes.append(invalid(f"{p}.apiVersion", ref.get("apiVersion", ""), "version must not be empty"))
        if not ref.get("kind"):
            causes.append(invalid(f"{p}.kind", ref.get("kind", ""), "kind must not be empty"))
        if not ref.get("name"):
            causes.append(invalid(f"{p}.name", ref.get("name", ""), "name must not be empty"))
        if not ref.get("uid"):
            causes.append(invalid(f"{p}.uid", ref.get("uid", ""), "uid must not be empty"))
        controllers += bool(ref.get("controller"))
    if controllers > 1:
        causes.append(invalid(path, refs, "Only one reference can have Controller set to true"))
    return causes


def validate_finalizers(finalizers: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for f in finalizers or []:
        causes += [invalid(path, f, m) for m in qualified_name(f)]
    return causes


def validate_object_meta(obj: Obj, namespaced: bool, name_ok: NameValidator) -> list[Cause]:
    """ValidateObjectMeta: name (or generateName), namespace scope, labels, annotations, owners."""
    meta = obj.get("metadata") or {}
    causes: list[Cause] = []
    name, generate = meta.get("name", ""), meta.get("generateName", "")
    if generate:
        causes += [invalid("metadata.generateName", generate, m) for m in name_ok(generate.rstrip("-") or "a")]
    if not name:
        if not generate:
            causes.append(required("metadata.name", "name or generateName is required"))
    else:
        causes += [invalid("metadata.name", name, m) for m in name_ok(name)]
    causes += _validate_namespace_scope(meta, namespaced)
    causes += validate_labels(meta.get("labels"), "metadata.labels")
    causes += validate_annotations(meta.get("annotations"), "metadata.annotations")
    causes += validate_owner_references(meta.get("ownerReferences"), "metadata.ownerReferences")
    causes += validate_finalizers(meta.get("finalizers"), "metadata.finalizers")
    return causes


def _validate_namespace_scope(meta: Obj, namespaced: bool) -> list[Cause]:
    ns = meta.get("namespace", "")
    if namespaced and not ns:
        return [required("metadata.namespace")]
    if namespaced:
        return [invalid("metadata.namespace", ns, m) for m in dns1123_label(ns)]
    if ns:
        return [forbidden("metadata.namespace", "not allowed on this type")]
    return []


def validate_object_meta_update(new: Obj, old: Obj) -> list[Cause]:
    """ValidateObjectMetaUpdate: identity fields never change; labels etc. are re-validated."""
    nm, om = new.get("metadata") or {}, old.get("metadata") or {}
    causes: list[Cause] = []
    for key in ("name", "namespace", "uid", "creationTimestamp"):
        if nm.get(key) and om.get(key) and nm.get(key) != om.get(key):
            causes.append(immutable(f"metadata.{key}", nm.get(key)))
    if om.get("deletionTimestamp") and nm.get("deletionTimestamp") != om.get("deletionTimestamp"):
        causes.append(immutable("metadata.deletionTimestamp", nm.get("deletionTimestamp")))
    # Only what changed is checked again: the stored values passed these checks already.
    if nm.get("labels") != om.get("labels"):
        causes += validate_labels(nm.get("labels"), "metadata.labels")
    if nm.get("annotations") != om.get("annotations"):
        causes += validate_annotations(nm.get("annotations"), "metadata.annotations")
    if nm.get("ownerReferences") != om.get("ownerReferences"):
        causes += validate_owner_references(nm.get("ownerReferences"), "metadata.ownerReferences")
    if nm.get("finalizers") != om.get("finalizers"):
        causes += validate_finalizers(nm.get("finalizers"), "metadata.finalizers")
    return causes


_PORT_NAME_RE = re.compile("^[-a-z0-9]+$")
_HAS_LETTER_RE = re.compile("[a-z]")


def port_name(value: str) -> list[str]:
    """IsValidPortName (an IANA_SVC_NAME): what container and service port names must be."""
    errs = []
    if len(value) > 15:
        errs.append("must be no more than 15 characters")
    if not _PORT_NAME_RE.match(value):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if "--" in value:
        errs.append("must not contain consecutive hyphens")
    if value and not _HAS_LETTER_RE.search(value):
        errs.append("must contain at least one letter (a-z)")
    if value.startswith("-") or value.endswith("-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def path_segment_name(value: str) -> list[str]:
    """IsValidPathSegmentName: RBAC and flow-control names (`system:controller:x` is fine)."""
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]
