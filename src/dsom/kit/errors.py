"""Domain errors: each carries its code and HTTP status; one handler renders them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prometheus_client import Counter

ERRORS_ANSWERED = Counter("dsom_http_errors_total", "Error answers by code", ["code"])


class DomainError(Exception):
    """An error with a stable machine-readable code, rendered as `{"error": {...}}`."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def body(self) -> dict[str, Any]:
        """The spec's error body, with any details beside code and message."""
        return {"error": {"code": self.code, "message": self.message, **self.details}}


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class ValidationFailed(DomainError):
    """One or more field errors: `fields` lists `{"field", "message"}`."""

    status_code = 422
    code = "validation_failed"


class RateLimited(DomainError):
    """Over a configured rate; `retry_after` (seconds) says when to try again."""

    status_code = 429
    code = "rate_limited"


class Unavailable(DomainError):
    status_code = 503
    code = "unavailable"


def retry_after(status: int, details: Mapping[str, Any]) -> dict[str, str]:
    """The Retry-After header of an error answer: a second for a 503, and for a 429 what
    its `retry_after` says; none for any other."""
    if status == 503:
        return {"Retry-After": "1"}
    if status == 429:
        return {"Retry-After": str(int(details.get("retry_after", 1)))}
    return {}
