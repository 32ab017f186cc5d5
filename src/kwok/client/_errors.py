"""ApiError: a non-2xx reply (or no reply at all) from the API server, as a Status."""

from __future__ import annotations

from typing import Any

# Reasons KWOK treats as transient (client-go IsServerTimeout/IsTimeout/IsTooManyRequests/
# IsServiceUnavailable, plus connection failures, which carry status 0 here).
_RETRYABLE_STATUS = frozenset({0, 429, 503, 504})
_RETRYABLE_REASONS = frozenset({"ServerTimeout", "Timeout", "TooManyRequests", "ServiceUnavailable"})


class ApiError(Exception):
    """The API server's Status for a failed request.

    `status` is the HTTP code; 0 means the request never got a reply (connection refused/reset,
    client-side timeout) - `reason` then says which.
    """

    def __init__(self, status: int, reason: str, message: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {reason}: {message}" if status else f"{reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.body: dict[str, Any] = body if body is not None else {}

    @classmethod
    def from_status(cls, status: int, body: Any) -> ApiError:
        """Build from a reply body, which is a Status for every real API server error."""
        if isinstance(body, dict) and body.get("kind") == "Status":
            code = body.get("code") or status
            return cls(int(code), str(body.get("reason") or ""), str(body.get("message") or ""), body)
        text = body.decode(errors="replace") if isinstance(body, bytes | bytearray) else str(body)
        return cls(status, _reason_for(status), text.strip()[:500], {})

    @property
    def is_not_found(self) -> bool:
        return self.status == 404

    @property
    def is_conflict(self) -> bool:
        return self.status == 409 and self.reason != "AlreadyExists"

    @property
    def is_already_exists(self) -> bool:
        return self.status == 409 and self.reason == "AlreadyExists"

    @property
    def is_gone(self) -> bool:
        """410: the resourceVersion asked for was compacted away; list again."""
        return self.status == 410

    @property
    def is_retryable(self) -> bool:
        return self.status in _RETRYABLE_STATUS or self.reason in _RETRYABLE_REASONS

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked us to wait (Status details.retryAfterSeconds), if any."""
        details = self.body.get("details") or {}
        seconds = details.get("retryAfterSeconds") if isinstance(details, dict) else None
        return float(seconds) if isinstance(seconds, int | float) and seconds > 0 else None


def _reason_for(status: int) -> str:
    return {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        405: "MethodNotAllowed",
        406: "NotAcceptable",
        409: "Conflict",
        410: "Expired",
        413: "RequestEntityTooLarge",
        415: "UnsupportedMediaType",
        422: "Invalid",
        429: "TooManyRequests",
        500: "InternalError",
        503: "ServiceUnavailable",
        504: "Timeout",
    }.get(status, "Unknown")
