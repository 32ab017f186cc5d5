"""Kubernetes `Status` errors, with the exact codes, reasons, messages and details of the real server.

Public names:

    ApiError(Exception)            .code (HTTP status), .status (the Status dict), .reason, .message
    failure(code, reason, message, details=None) -> ApiError           the generic builder
    not_found(resource, name, group="")           404  pods "x" not found
    not_found_path()                              404  the server could not find the requested resource
    already_exists(resource, name, group="")      409  configmaps "x" already exists
    generate_name_conflict(resource, name, group="")  409 AlreadyExists, retry after 1 s
    conflict(resource, name, group="")            409  Operation cannot be fulfilled ... modified ...
    conflict_message(resource, name, message, group="")  409 Operation cannot be fulfilled on ...: <message>
    invalid(kind, name, causes, group="")         422  Pod "x" is invalid: [a: ..., b: ...]
    bad_request(message)                          400
    expired(requested_rv, current_rv)             410 Expired  too old resource version: X (Y)
    expired_continue()                            410 Expired for a stale continue token
    gone(message)                                 410 Gone
    unsupported_media_type(accepted)              415
    not_acceptable(accepted)                      406
    method_not_allowed()                          405  the server does not allow this method ...
    method_not_supported(resource, action, group="")  405 <action> is not supported on resources of kind ...
    request_entity_too_large(message)             413  Request entity too large: <message>
    too_many_requests(message, retry_after_seconds=None)  429
    forbidden(resource, name, message, group="")  403  pods "x" is forbidden: <message>
    unauthorized(message="Unauthorized")          401
    internal_error(message)                       500  Internal error occurred: <message>
    server_timeout(resource, operation, retry_after_seconds, group="")  500 ServerTimeout
    service_unavailable(message)                  503
    timeout(message, retry_after_seconds=0)       504  Timeout: <message>
    status_success(details=None) -> dict          the Status a delete answers with

Field errors for `invalid` (each builder returns a cause dict `{reason, message, field}` as the real
StatusCause; `invalid` also accepts any object with `reason`, `message`, `field` attributes):

    field_required(path, detail="")  field_invalid(path, value, detail="")
    field_not_supported(path, value, supported)  field_duplicate(path, value)
    field_forbidden(path, detail)  field_too_long(path, max_length)
    field_too_many(path, actual, max_items)  field_not_found(path, value)
    field_type_invalid(path, value, detail)  field_internal(path, detail)

Go value formatting shared with the selectors: go_quote (Go %q) and go_value (the field.Error form).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

__all__ = [
    "ApiError",
    "already_exists",
    "bad_request",
    "conflict",
    "conflict_message",
    "expired",
    "expired_continue",
    "failure",
    "field_duplicate",
    "field_forbidden",
    "field_internal",
    "field_invalid",
    "field_not_found",
    "field_not_supported",
    "field_required",
    "field_too_long",
    "field_too_many",
    "field_type_invalid",
    "forbidden",
    "generate_name_conflict",
    "go_quote",
    "go_string_slice",
    "go_value",
    "gone",
    "internal_error",
    "invalid",
    "method_not_allowed",
    "method_not_supported",
    "not_acceptable",
    "not_found",
    "not_found_path",
    "request_entity_too_large",
    "server_timeout",
    "service_unavailable",
    "status_success",
    "timeout",
    "too_many_requests",
    "unauthorized",
    "unsupported_media_type",
]

OPTIMISTIC_LOCK_MESSAGE = "the object has been modified; please apply your changes to the latest version and try again"
EXPIRED_CONTINUE_MESSAGE = (
    "The provided continue parameter is too old to display a consistent list result. You can start a "
    "new list without the continue parameter, or use the continue token in this response to retrieve "
    "the remainder of the results. Continuing with the provided token results in an inconsistent list "
    "- objects that were created, modified, or deleted between the time the first chunk was returned "
    "and now may show up in the list."
)


class ApiError(Exception):
    """An error the API server answers with a `Status` body and `code` as the HTTP status."""

    def __init__(self, status: dict[str, Any]) -> None:
        super().__init__(status.get("message", ""))
        self.status = status
        self.code: int = status["code"]

    @property
    def reason(self) -> str:
        return str(self.status.get("reason", ""))

    @property
    def message(self) -> str:
        return str(self.status.get("message", ""))

    def __repr__(self) -> str:
        return f"ApiError({self.code}, {self.reason!r}, {self.message!r})"


def _details(
    name: str = "", group: str = "", kind: str = "", uid: str = "",
    causes: list[dict[str, str]] | None = None, retry_after_seconds: int = 0,
) -> dict[str, Any]:
    """metav1.StatusDetails in Go field order, empty fields omitted as omitempty does."""
    pairs = (("name", name), ("group", group), ("kind", kind), ("uid", uid), ("causes", causes),
             ("retryAfterSeconds", retry_after_seconds))
    return {k: v for k, v in pairs if v}


def failure(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> ApiError:
    """A `Status` with status Failure; `details=None` leaves the key out, `{}` keeps an empty one."""
    status: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure"}
    if message:
        status["message"] = message
    if reason:
        status["reason"] = reason
    if details is not None:
        status["details"] = details
    status["code"] = code
    return ApiError(status)


def status_success(details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Success `Status` (a delete that removed the object now answers with this)."""
    status: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details:
        status["details"] = details
    return status


def _qualified(resource: str, group: str) -> str:
    """schema.GroupResource.String(): `deployments.apps`, or just `pods` for the core group."""
    return f"{resource}.{group}" if group else resource


# --- resource errors -------------------------------------------------------------------------------


def not_found(resource: str, name: str, group: str = "") -> ApiError:
    return failure(404, "NotFound", f"{_qualified(resource, group)} {go_quote(name)} not found",
                   _details(name=name, group=group, kind=resource))


def not_found_path() -> ApiError:
    """A path that names no known resource."""
    return failure(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(resource: str, name: str, group: str = "") -> ApiError:
    return failure(409, "AlreadyExists", f"{_qualified(resource, group)} {go_quote(name)} already exists",
                   _details(name=name, group=group, kind=resource))


def generate_name_conflict(resource: str, name: str, group: str = "") -> ApiError:
    message = (f"{_qualified(resource, group)} {go_quote(name)} already exists, "
               "the server was not able to generate a unique name for the object")
    return failure(409, "AlreadyExists", message,
                   _details(name=name, group=group, kind=resource, retry_after_seconds=1))


def conflict(resource: str, name: str, group: str = "") -> ApiError:
    """The optimistic-concurrency conflict: a stale resourceVersion on update or patch."""
    return conflict_message(resource, name, OPTIMISTIC_LOCK_MESSAGE, group)


def conflict_message(resource: str, name: str, message: str, group: str = "") -> ApiError:
    """A conflict with its own cause, e.g. `Precondition failed: UID in precondition: ...`."""
    return failure(409, "Conflict",
                   f"Operation cannot be fulfilled on {_qualified(resource, group)} {go_quote(name)}: {message}",
                   _details(name=name, group=group, kind=resource))


def forbidden(resource: str, name: str, message: str, group: str = "") -> ApiError:
    if not resource and not group:
        text = f"forbidden: {message}"
    elif not name:
        text = f"{_qualified(resource, group)} is forbidden: {message}"
    else:
        text = f"{_qualified(resource, group)} {go_quote(name)} is forbidden: {message}"
    return failure(403, "Forbidden", text, _details(name=name, group=group, kind=resource))


def method_not_supported(resource: str, action: str, group: str = "") -> ApiError:
    return failure(405, "MethodNotAllowed",
                   f"{action} is not supported on resources of kind {go_quote(_qualified(resource, group))}",
                   _details(group=group, kind=resource))


def server_timeout(resource: str, operation: str, retry_after_seconds: int, group: str = "") -> ApiError:
    message = (f"The {operation} operation against {_qualified(resource, group)} could not be completed "
               "at this time, please try again.")
    return failure(500, "ServerTimeout", message, _details(name=operation, group=group, kind=resource,
                                                           retry_after_seconds=retry_after_seconds))


# --- validation --------------------------------------------------------------------------------------


class CauseLike(Protocol):
    reason: str
    message: str
    field: str


def _cause_dict(cause: Mapping[str, str] | CauseLike) -> dict[str, str]:
    if isinstance(cause, Mapping):
        reason, message, field = cause.get("reason", ""), cause.get("message", ""), cause.get("field", "")
    else:
        reason, message, field = cause.reason, cause.message, cause.field
    return {k: v for k, v in (("reason", reason), ("message", message), ("field", field)) if v}


def invalid(kind: str, name: str, causes: Iterable[Mapping[str, str] | CauseLike], group: str = "") -> ApiError:
    """422 Invalid, the message aggregated from the causes as the real server does.

    One distinct cause: `Pod "x" is invalid: spec.containers: Required value`; several:
    `Pod "x" is invalid: [a: ..., b: ...]`; none: `Pod "x" is invalid`.
    """
    items = [_cause_dict(c) for c in causes]
    lines = list(dict.fromkeys(f"{c.get('field', '')}: {c.get('message', '')}" for c in items))
    head = f"{_qualified(kind, group)} {go_quote(name)} is invalid"
    if len(lines) == 1:
        head += ": " + lines[0]
    elif lines:
        head += ": [" + ", ".join(lines) + "]"
    return failure(422, "Invalid", head, _details(name=name, group=group, kind=kind, causes=items))


def _field_error(reason: str, path: str, body: str, detail: str = "") -> dict[str, str]:
    message = f"{body}: {detail}" if detail else body
    return {"reason": reason, "message": message, "field": path}


def field_required(path: str, detail: str = "") -> dict[str, str]:
    return _field_error("FieldValueRequired", path, "Required value", detail)


def field_invalid(path: str, value: Any, detail: str = "") -> dict[str, str]:
    return _field_error("FieldValueInvalid", path, f"Invalid value: {go_value(value)}", detail)


def field_type_invalid(path: str, value: Any, detail: str) -> dict[str, str]:
    return _field_error("FieldValueTypeInvalid", path, f"Invalid value: {go_value(value)}", detail)


def field_not_supported(path: str, value: Any, supported: Iterable[str]) -> dict[str, str]:
    quoted = ", ".join(go_quote(s) for s in supported)
    detail = f"supported values: {quoted}" if quoted else ""
    return _field_error("FieldValueNotSupported", path, f"Unsupported value: {go_value(value)}", detail)


def field_duplicate(path: str, value: Any) -> dict[str, str]:
    return _field_error("FieldValueDuplicate", path, f"Duplicate value: {go_value(value)}")


def field_not_found(path: str, value: Any) -> dict[str, str]:
    return _field_error("FieldValueNotFound", path, f"Not found: {go_value(value)}")


def field_forbidden(path: str, detail: str) -> dict[str, str]:
    return _field_error("FieldValueForbidden", path, "Forbidden", detail)


def field_too_long(path: str, max_length: int) -> dict[str, str]:
    unit = "byte" if max_length == 1 else "bytes"
    detail = f"may not be more than {max_length} {unit}" if max_length >= 0 else "value is too long"
    return _field_error("FieldValueTooLong", path, "Too long", detail)


def field_too_many(path: str, actual: int, max_items: int) -> dict[str, str]:
    """A negative `actual` or `max_items` means unknown, as in Go."""
    unit = "item" if max_items == 1 else "items"
    detail = f"must have at most {max_items} {unit}" if max_items >= 0 else "has too many items"
    body = f"Too many: {actual}" if actual >= 0 else "Too many"
    return _field_error("FieldValueTooMany", path, body, detail)


def field_internal(path: str, detail: str) -> dict[str, str]:
    return _field_error("InternalError", path, "Internal error", detail)


# --- request errors -----------------------------------------------------------------------------------


def bad_request(message: str) -> ApiError:
    return failure(400, "BadRequest", message)


def expired(requested_rv: int | str, current_rv: int | str) -> ApiError:
    """A watch or list from a compacted resourceVersion."""
    return failure(410, "Expired", f"too old resource version: {requested_rv} ({current_rv})")


def expired_continue() -> ApiError:
    return failure(410, "Expired", EXPIRED_CONTINUE_MESSAGE)


def gone(message: str) -> ApiError:
    return failure(410, "Gone", message)


def unsupported_media_type(accepted: Iterable[str]) -> ApiError:
    message = ("the body of the request was in an unknown format - accepted media types include: "
               + ", ".join(accepted))
    return failure(415, "UnsupportedMediaType", message)


def not_acceptable(accepted: Iterable[str]) -> ApiError:
    return failure(406, "NotAcceptable", "only the following media types are accepted: " + ", ".join(accepted))


def method_not_allowed() -> ApiError:
    return failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


def request_entity_too_large(message: str) -> ApiError:
    return failure(413, "RequestEntityTooLarge", f"Request entity too large: {message}")


def too_many_requests(message: str, retry_after_seconds: int | None = None) -> ApiError:
    """429; with `retry_after_seconds` the details carry it (clients then honour Retry-After)."""
    details = None if retry_after_seconds is None else _details(retry_after_seconds=retry_after_seconds)
    return failure(429, "TooManyRequests", message, details)


def unauthorized(message: str = "Unauthorized") -> ApiError:
    return failure(401, "Unauthorized", message or "not authorized")


def internal_error(message: str) -> ApiError:
    return failure(500, "InternalError", f"Internal error occurred: {message}",
                   _details(causes=[{"message": message}]))


def service_unavailable(message: str) -> ApiError:
    return failure(503, "ServiceUnavailable", message)


def timeout(message: str, retry_after_seconds: int = 0) -> ApiError:
    return failure(504, "Timeout", f"Timeout: {message}", _details(retry_after_seconds=retry_after_seconds))


# --- Go formatting --------------------------------------------------------------------------------------

_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
               "\\": "\\\\", '"': '\\"'}


def go_quote(text: str) -> str:
    """Go's strconv.Quote (`%q`): printable characters stay, the rest is escaped."""
    out = ['"']
    for ch in text:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def go_string_slice(values: Iterable[str]) -> str:
    """`%#v` of a []string: `[]string{"a", "b"}`."""
    return "[]string{" + ", ".join(go_quote(v) for v in values) + "}"


def go_value(value: Any) -> str:
    """How field.Error prints a bad value: strings quoted, numbers and booleans plain, nil as null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return go_string_slice(value)
    return repr(value)
