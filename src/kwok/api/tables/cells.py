"""Column definitions and the small cell formatters shared by several printers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from kwok.api.duration import parse_time, since
from kwok.api.selectors import SelectorError, label_selector_from_object

Obj = Mapping[str, Any]
Cells = list[Any]
Row = Callable[[Obj, datetime], Cells]

_NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name automatically. "
    "Name is primarily intended for creation idempotence and configuration definition. Cannot be "
    "updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
AGE_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. "
    "It is not guaranteed to be set in happens-before order across separate operations. Clients "
    "may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the "
    "system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)


def column(name: str, type_: str = "string", priority: int = 0, description: str = "", format_: str = "") -> dict[str, Any]:
    return {"name": name, "type": type_, "format": format_, "description": description or name,
            "priority": priority}


NAME = column("Name", format_="name", description=_NAME_DOC)
AGE = column("Age", description=AGE_DOC)
CONTAINERS = column("Containers", priority=1, description="Names of each container in the template.")
IMAGES = column("Images", priority=1, description="Images referenced by each container in the template.")
SELECTOR = column("Selector", priority=1, description="A label query over pods that should match the replica count.")


# --- small formatters shared by several printers ---------------------------------------------------


def meta_of(obj: Obj) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def get_path(obj: Obj | None, *path: str) -> Any:
    value: Any = obj
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def age(obj: Obj, now: datetime) -> str:
    return since(meta_of(obj).get("creationTimestamp"), now)


def format_labels(labels: Mapping[str, str] | None) -> str:
    """labels.FormatLabels: `a=b,c=d` sorted by key, `<none>` when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """metav1.FormatLabelSelector: the canonical selector string, `<none>` when it selects all."""
    try:
        text = str(label_selector_from_object(selector))
    except SelectorError:
        return "<error>"
    return text or "<none>"


def selector_string(selector: Mapping[str, Any] | None) -> str:
    """LabelSelectorAsSelector(...).String(): empty for a nil or empty selector."""
    try:
        return str(label_selector_from_object(selector))
    except SelectorError:
        return "<invalid>"


def template_containers(template_spec: Obj | None) -> tuple[str, str]:
    containers = (template_spec or {}).get("containers") or []
    return (",".join(c.get("name", "") for c in containers),
            ",".join(c.get("image", "") for c in containers))


def as_int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def list_with_more(items: list[str], count: int, limit: int = 3) -> str:
    text = ",".join(items[:limit])
    if count > limit:
        return f"{text} + {count - limit} more..."
    return text or "<unset>"


def created_at(obj: Obj, _now: datetime) -> str:
    parsed = parse_time(meta_of(obj).get("creationTimestamp") or "")
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ") if parsed else "0001-01-01T00:00:00Z"

