"""One error hierarchy for the whole product.

Every error a user or a client can cause is a :class:`SmartCustomsError`. It carries a stable
machine ``code``, a human ``message`` and ``details`` (a list of dicts naming the field, row or
byte offset at fault). The web layer renders each one as
``{"error": {"code": ..., "message": ..., "details": [...]}}`` with the class's HTTP status; the
CLI prints the message and exits non-zero. Anything that is not a SmartCustomsError is a bug:
it is logged with its traceback and the client sees only a generic ``internal_error``.

    SmartCustomsError (500 internal_error)
    ├── ConfigurationError (500 configuration_error)   a setting is missing or wrong
    ├── BadRequest (400 bad_request)
    │   └── ValidationFailed (422 validation_failed)    input does not fit; details name fields
    ├── Unauthenticated (401 unauthenticated)
    ├── Forbidden (403 forbidden)
    ├── NotFound (404 not_found)
    ├── Conflict (409 conflict)
    ├── PayloadTooLarge (413 payload_too_large)
    ├── RateLimited (429 rate_limited)
    └── ServiceUnavailable (503 service_unavailable)    e.g. the schema needs `db upgrade`
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

__all__ = [
    "BadRequest",
    "ConfigurationError",
    "Conflict",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "ServiceUnavailable",
    "SmartCustomsError",
    "Unauthenticated",
    "ValidationFailed",
]


class SmartCustomsError(Exception):
    """Base of every error the product raises on purpose."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        details: Sequence[Mapping[str, Any]] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details: list[dict[str, Any]] = [dict(d) for d in details or ()]
        if code is not None:
            # A more precise code for this instance (e.g. "token_expired") without a new class.
            self.code = code  # type: ignore[misc]

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape of this error."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ConfigurationError(SmartCustomsError):
    code = "configuration_error"


class BadRequest(SmartCustomsError):
    status_code = 400
    code = "bad_request"


class ValidationFailed(BadRequest):
    """Input does not fit. Each detail names where: ``{"field": "items[3].hs_code", ...}``."""

    status_code = 422
    code = "validation_failed"


class Unauthenticated(SmartCustomsError):
    status_code = 401
    code = "unauthenticated"


class Forbidden(SmartCustomsError):
    status_code = 403
    code = "forbidden"


class NotFound(SmartCustomsError):
    status_code = 404
    code = "not_found"


class Conflict(SmartCustomsError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(SmartCustomsError):
    status_code = 413
    code = "payload_too_large"


class RateLimited(SmartCustomsError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after_s = retry_after_s


class ServiceUnavailable(SmartCustomsError):
    status_code = 503
    code = "service_unavailable"
