"""A partner's scan arriving in pieces: kept on disk, bounded, put together for its
``scan.shared``.

Each ``scan.piece`` (:func:`.scans_wire.read_piece`: the cut is whole, the piece is exactly its
slice and hashes to its SHA-256) is written to
``<data dir>/federation/scan-pieces/<partner id>/<file SHA-256>-<size>-<piece bytes>/<index>.part``
— to a temporary name, then renamed, so a piece is whole or absent, and never held in memory
with the others. A piece sent again is answered as the one already there; another piece under
the same index is a conflict. What a partner may leave here is bounded: at most
``federation_scan_pieces_max_bytes`` in all (a larger scan is refused at its first piece, 413),
at most :data:`MAX_OPEN_SETS` files on their way at once, and a file whose pieces stopped
coming is deleted ``federation_scan_pieces_keep_hours`` after the last one
(``federation.scan_pieces_discarded``) — at the partner's next piece, or by the deliverer's
timer (:func:`expire_everywhere`) for a partner that never sends again. The partner's requests
for pieces are taken one at a time (its directory row is locked), so two of them cannot both
pass the bound.

:func:`assemble` puts the pieces together when the ``scan.shared`` that names them arrives
(in-order delivery brings it after them), checking the whole file's SHA-256; the pieces are
deleted once the scan is stored and committed, or at once when the partner's message is
refused for good — sending it again could not succeed, so nothing should wait for it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, Final

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import ConfigurationError, Conflict, PayloadTooLarge, ValidationFailed
from smartcustoms.core.events import Event
from smartcustoms.core.settings import Settings
from smartcustoms.core.unit import Unit
from smartcustoms.federation.directory import kinds_of
from smartcustoms.federation.inbox import Incoming, handler
from smartcustoms.federation.scans_tables import RECEIVED, SharedScanRow
from smartcustoms.federation.scans_wire import (
    PIECE,
    SCANS_KIND,
    Layout,
    PartnerNotAllowed,
    ScanDigestMismatch,
    read_piece,
)
from smartcustoms.federation.tables import PartnerRow

__all__ = [
    "MAX_OPEN_SETS",
    "ScanPiecesDiscarded",
    "after_commit",
    "assemble",
    "discard",
    "expire_everywhere",
    "pieces_root",
    "scans_settings",
]

#: Files a partner may have on their way here at once (in-order delivery sends one at a time;
#: more are ones it gave up on, until they expire).
MAX_OPEN_SETS: Final = 4
_PART = ".part"

log = logging.getLogger("smartcustoms.federation")


@dataclass(frozen=True, kw_only=True)
class ScanPiecesDiscarded(Event):
    """A partner's pieces of a file deleted before they made a scan: they stopped coming."""

    type: ClassVar[str] = "federation.scan_pieces_discarded"
    partner: str
    file_sha256: str
    pieces: int
    bytes: int
    reason: str


def pieces_root(settings: Settings) -> Path:
    return settings.data_dir / "federation" / "scan-pieces"


def _folder(settings: Settings, partner_id: int, sha256: str, cut: Layout) -> Path:
    return pieces_root(settings) / str(partner_id) / f"{sha256}-{cut.size}-{cut.piece_bytes}"


def _part(folder: Path, index: int) -> Path:
    return folder / f"{index:05d}{_PART}"


def _held(folder: Path) -> tuple[int, int]:
    """(files, bytes) in ``folder``, temporaries included."""
    found = [e.stat().st_size for e in os.scandir(folder) if e.is_file()]
    return len(found), sum(found)


def _sets(settings: Settings, partner_id: int) -> list[Path]:
    root = pieces_root(settings) / str(partner_id)
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def discard(settings: Settings, partner_id: int, sha256: str, cut: Layout) -> None:
    shutil.rmtree(_folder(settings, partner_id, sha256, cut), ignore_errors=True)


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run ``action`` once ``session``'s transaction has committed (not if it rolls back)."""
    event.listen(session, "after_commit", lambda _s: action(), once=True)


def _expire(unit: Unit, settings: Settings, partner: PartnerRow) -> None:
    """Delete the partner's files whose last piece came longer ago than the settings keep."""
    oldest = clock.now() - timedelta(hours=settings.federation_scan_pieces_keep_hours)
    for folder in _sets(settings, partner.id):
        if folder.stat().st_mtime >= oldest.timestamp():
            continue
        files, size = _held(folder)
        shutil.rmtree(folder, ignore_errors=True)
        log.warning(
            "federation: %s's %d pieces (%d bytes) of %s never made a scan: deleted",
            partner.name, files, size, folder.name[:64],
        )  # fmt: skip
        unit.emit(
            ScanPiecesDiscarded(
                actor="system:federation",
                partner=partner.name,
                file_sha256=folder.name[:64],
                pieces=files,
                bytes=size,
                reason="expired",
            )
        )


def expire_everywhere(unit_of: Callable[[], Any], settings: Settings) -> int:
    """Delete every partner's expired files (one unit of work, opened by ``unit_of`` only when
    something expired: the deliverer's timer calls this often); how many partners had some."""
    root = pieces_root(settings)
    if not root.is_dir():
        return 0
    oldest = (clock.now() - timedelta(hours=settings.federation_scan_pieces_keep_hours)).timestamp()
    due = [
        int(d.name)
        for d in root.iterdir()
        if d.name.isdigit()
        and any(s.stat().st_mtime < oldest for s in _sets(settings, int(d.name)))
    ]
    if not due:
        return 0
    with unit_of() as unit:
        # Locked as a piece's request locks it: no piece is written into a set being deleted.
        partners = select(PartnerRow).where(PartnerRow.id.in_(due)).with_for_update()
        for partner in unit.session.scalars(partners):
            _expire(unit, settings, partner)
    return len(due)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _over(message: str, field: str, limit: int, got: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"message: {field}: {message}",
        details=[
            {
                "field": field,
                "limit": limit,
                "got": got,
                "setting": "federation_scan_pieces_max_bytes",
            }
        ],
        code="scan_pieces_over_limit",
    )


def scans_settings(message: Incoming) -> Settings:
    """The settings to store a scan message with, once its sender may send us scans."""
    if SCANS_KIND not in kinds_of(message.partner):
        raise PartnerNotAllowed(
            f"partner {message.partner.name!r} is not one we take scans from",
            details=[{"field": "kind", "value": message.kind}],
        )
    if message.settings is None:
        raise ConfigurationError("the inbox was given no settings: no scan store to store into")
    return message.settings


@handler(PIECE, keep_body=False)
def _receive_piece(unit: Unit, message: Incoming) -> dict[str, Any]:
    partner, settings = message.partner, scans_settings(message)
    piece = read_piece(message.body, max_bytes=settings.max_upload_bytes)
    cut, limit = piece.layout, settings.federation_scan_pieces_max_bytes
    answer = {"file_sha256": piece.file_sha256, "index": piece.index, "count": cut.count}
    # One request of this partner's at a time from here (PostgreSQL; SQLite has one writer).
    unit.session.execute(select(PartnerRow.id).where(PartnerRow.id == partner.id).with_for_update())
    done = unit.session.scalar(
        select(SharedScanRow.scan_id).where(
            SharedScanRow.partner_id == partner.id,
            SharedScanRow.direction == RECEIVED,
            SharedScanRow.file_sha256 == piece.file_sha256,
        )
    )
    if done is not None:  # a piece of a scan already put together: nothing to keep
        return answer | {"existing": True, "scan_id": done}
    if cut.size > limit:
        raise _over(
            f"a {cut.size}-byte file is more than a partner may send here in pieces",
            "body.size", limit, cut.size,
        )  # fmt: skip
    _expire(unit, settings, partner)
    folder = _folder(settings, partner.id, piece.file_sha256, cut)
    target = _part(folder, piece.index)
    if target.is_file():
        if _sha256_of(target) != piece.piece_sha256:
            raise Conflict(
                f"message: body.data: piece {piece.index} of {piece.file_sha256[:12]}… came "
                "before with other bytes",
                details=[{"field": "body.piece_sha256", "index": piece.index}],
                code="scan_piece_conflict",
            )
        return answer | {"existing": True}
    sets = _sets(settings, partner.id)
    if folder not in sets and len(sets) >= MAX_OPEN_SETS:
        raise _over(
            f"{len(sets)} files are already on their way in pieces from {partner.name}",
            "body.file_sha256", MAX_OPEN_SETS, len(sets) + 1,
        )  # fmt: skip
    used = sum(_held(s)[1] for s in sets)
    if used + len(piece.data) > limit:
        raise _over(
            f"{used} bytes of pieces from {partner.name} are waiting here already",
            "body.data", limit, used + len(piece.data),
        )  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f"{piece.index:05d}.{os.getpid()}.tmp"
    with temporary.open("wb") as fh:
        fh.write(piece.data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temporary, target)  # whole or absent
    received = sum(1 for p in folder.iterdir() if p.suffix == _PART)
    return answer | {"existing": False, "received": received}


def assemble(settings: Settings, partner: PartnerRow, sha256: str, cut: Layout) -> bytes:
    """The file the partner sent in pieces, put together and checked against ``sha256``.
    Missing pieces are :class:`ValidationFailed` (``scan_pieces_missing``), a whole that does
    not hash to ``sha256`` :class:`ScanDigestMismatch`; either names its field."""
    folder = _folder(settings, partner.id, sha256, cut)
    missing = [i for i in range(cut.count) if not _part(folder, i).is_file()]
    if missing:
        raise ValidationFailed(
            f"message: body.pieces: {len(missing)} of the file's {cut.count} pieces never came "
            f"(first: {missing[0]})",
            details=[{"field": "body.pieces.count", "missing": missing[:20]}],
            code="scan_pieces_missing",
        )
    whole = folder / f"whole.{os.getpid()}.tmp"
    digest = hashlib.sha256()
    try:
        with whole.open("wb") as out:
            for index in range(cut.count):
                data = _part(folder, index).read_bytes()
                digest.update(data)
                out.write(data)
        if digest.hexdigest() != sha256 or whole.stat().st_size != cut.size:
            raise ScanDigestMismatch(
                "message: body.pieces: the pieces put together do not hash to the SHA-256 "
                "announced",
                details=[{"field": "body.scan.file_sha256", "expected": sha256}],
            )
        return whole.read_bytes()  # our intake reads the file from memory, as any upload
    finally:
        whole.unlink(missing_ok=True)
