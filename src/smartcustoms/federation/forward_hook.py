"""Adds the forwarding queue's hook (:func:`.forwarding.stage_positions`) to a context's
positions-written hooks, without loading tracking: a command that never stores a position
(most) does not load it; a writer that does loads it on its first batch."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from smartcustoms.core.context import AppContext

__all__ = ["POSITIONS_WRITTEN", "add_forwarding_hook"]

#: :data:`smartcustoms.tracking.pipeline.POSITIONS_WRITTEN`, here so that importing it costs
#: nothing (a test holds the two equal).
POSITIONS_WRITTEN: Final = "tracking.positions_written"


def _stage(conn: Connection, devices: Collection[str], new_of: Callable[[str], Any]) -> None:
    from smartcustoms.federation.forwarding import stage_positions

    stage_positions(conn, devices, new_of)


def add_forwarding_hook(ctx: AppContext) -> None:
    """Queue, in the storing transaction, the positions of transits handed over (once)."""
    hooks = ctx.services.setdefault(POSITIONS_WRITTEN, [])
    if _stage not in hooks:
        hooks.append(_stage)
