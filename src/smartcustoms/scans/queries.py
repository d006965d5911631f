"""Reading stored scans for the review station and the API: queues, one scan, its image."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.scans.rendering import ViewLayers, load_layers
from smartcustoms.scans.storage import ScanStore
from smartcustoms.scans.tables import ScanRow

__all__ = ["QUEUES", "layers_of", "queue", "queue_counts"]

#: The review station's queues: name → the statuses they list.
QUEUES: dict[str, tuple[str, ...]] = {
    "review": ("awaiting_review",),
    "recheck": ("awaiting_recheck",),
    "examination": ("awaiting_examination",),
    "cleared": ("cleared",),
    "examined": ("examined",),
    "all": (),
}


def queue(session: Session, name: str, *, limit: int = 100) -> list[tuple[ScanRow, DeclarationRow]]:
    """The scans of queue ``name`` with their declarations. Work queues list flagged scans
    first (alarm, then unknown, then clear; highest score first; oldest first among equals);
    the others, newest first."""
    statuses = QUEUES[name]
    query = select(ScanRow, DeclarationRow).join(
        DeclarationRow, DeclarationRow.id == ScanRow.declaration_id
    )
    if statuses:
        query = query.where(ScanRow.status.in_(statuses))
    if name in ("review", "recheck", "examination"):
        query = query.order_by(ScanRow.priority.desc(), ScanRow.max_score.desc(), ScanRow.id)
    else:
        query = query.order_by(ScanRow.id.desc())
    return [(s, d) for s, d in session.execute(query.limit(limit)).all()]


def queue_counts(session: Session) -> dict[str, int]:
    """How many scans each status holds."""
    rows = session.execute(select(ScanRow.status, func.count()).group_by(ScanRow.status))
    return {status: int(n) for status, n in rows}


def layers_of(store: ScanStore, scan: ScanRow) -> ViewLayers:
    """The viewer's layers of a stored scan (computed on the first view, then kept)."""
    return load_layers(
        store.view_path(scan.file_sha256),
        lambda: store.read(scan.file_sha256, scan.file_format),
    )
