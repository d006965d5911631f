"""Errors of the notification channels.

SmartCustomsError
└── DeliveryFailed        a channel could not hand the message over
    (``permanent``: the same message will never go through — a refused address, a
    rejected login — so it goes dead at once instead of being retried)
"""

from __future__ import annotations

from typing import Any

from smartcustoms.core.errors import ServiceUnavailable

__all__ = ["DeliveryFailed"]


class DeliveryFailed(ServiceUnavailable):
    code = "delivery_failed"

    def __init__(self, message: str, *, permanent: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.permanent = permanent
