"""How many refused requests from one address become ledger records.

A refused request that claims a partner's key is recorded in the ledger: it is evidence that
someone tried to pass for that partner. But a partner's key id is public (it is on the card),
so anyone who reaches the inbox could grow our ledger at will by sending forged requests. Each
address therefore gets at most ``federation_refusals_recorded_per_minute`` ledger records a
minute; the refusals beyond are still refused, and logged with their count, not recorded.
The window is per process: with N web workers an address gets at most N times the limit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Final

from smartcustoms.core.context import AppContext

__all__ = ["RefusalLimiter", "refusal_limiter"]

log = logging.getLogger("smartcustoms.federation")

_SERVICE: Final = "federation.refusals"
WINDOW_S: Final = 60.0
#: Addresses remembered at once; the oldest windows go first beyond this (a flood from many
#: addresses costs memory bounded by this, not by the number of addresses).
MAX_ADDRESSES: Final = 10_000


class RefusalLimiter:
    def __init__(self, per_window: int, *, window_s: float = WINDOW_S) -> None:
        self.per_window = per_window
        self.window_s = window_s
        self._lock = threading.Lock()
        # address → (window start, recorded in it, not recorded in it)
        self._windows: OrderedDict[str, tuple[float, int, int]] = OrderedDict()

    def admit(self, address: str, *, now: float | None = None) -> bool:
        """True if a refusal from ``address`` is to be recorded in the ledger now."""
        at = time.monotonic() if now is None else now
        with self._lock:
            start, recorded, dropped = self._windows.pop(address, (at, 0, 0))
            if at - start >= self.window_s:
                if dropped:
                    log.warning(
                        "federation: %d more refused requests from %s in %.0f s were not "
                        "recorded in the ledger (limit %d a minute)",
                        dropped, address, self.window_s, self.per_window,
                    )  # fmt: skip
                start, recorded, dropped = at, 0, 0
            admitted = recorded < self.per_window
            if admitted:
                recorded += 1
            else:
                dropped += 1
            self._windows[address] = (start, recorded, dropped)
            while len(self._windows) > MAX_ADDRESSES:
                self._windows.popitem(last=False)
            return admitted


def refusal_limiter(ctx: AppContext) -> RefusalLimiter:
    limiter = ctx.services.get(_SERVICE)
    if limiter is None:
        limiter = RefusalLimiter(ctx.settings.federation_refusals_recorded_per_minute)
        ctx.services[_SERVICE] = limiter
    assert isinstance(limiter, RefusalLimiter)
    return limiter
