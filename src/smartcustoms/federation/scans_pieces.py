"""A shared scan too large for one message, sent in pieces: cut at sharing, read at delivery.

:func:`cut_pieces` reads the stored file once, when the analyst shares it: it checks the whole
file against its SHA-256 and notes each piece's own, and returns the ``scan.piece`` bodies
*without their bytes*. Those go into the outbox in the sharing's transaction, ahead of the
``scan.shared`` that names the cut, so in-order delivery brings every piece to the partner
before the message that puts them together (:mod:`.scans_pieces_received`).

The bytes are read from the scan store when the deliverer sends the piece
(:func:`wire_piece`), not copied into the outbox: a 200 MB scan would otherwise be 270 MB of
base64 in the database, kept after delivery, and the deliverer, which reads a partner's pending
messages 200 at a time, would hold a gigabyte. The scan store keeps the file anyway (it is
named by its SHA-256 and never rewritten), and the piece's SHA-256 in the stored body makes
every resend the same envelope byte for byte, which the partner's idempotent inbox needs. A
file changed or lost since it was shared cannot be sent: :class:`PieceUnavailable`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Final

from smartcustoms.core.errors import Conflict, PayloadTooLarge
from smartcustoms.federation.outbox import envelope_text
from smartcustoms.federation.scans_wire import MAX_PIECES, PIECE_BYTES, Layout, layout
from smartcustoms.scans.storage import ScanStore
from smartcustoms.scans.tables import ScanRow

__all__ = ["PIECE_OVERHEAD", "PieceUnavailable", "cut_pieces", "file_changed", "wire_piece"]

#: Room for a piece's envelope around its base64: the id, the kind, two SHA-256 and the numbers
#: take about 400 bytes.
PIECE_OVERHEAD: Final = 1024


class PieceUnavailable(Conflict):
    """A piece's bytes, read from the scan store, are not the ones cut at sharing."""

    code = "scan_file_changed"


def file_changed(scan_id: int, sha256: str) -> Conflict:
    return Conflict(
        f"scan {scan_id}: the stored file no longer matches its SHA-256; it is not shared",
        details=[{"field": "scan_id", "file_sha256": sha256}],
        code="scan_file_changed",
    )


def piece_bytes(max_bytes: int) -> int:
    """The largest piece whose message fits ``max_bytes`` (base64 is 4 bytes for 3)."""
    return min(PIECE_BYTES, (max_bytes - PIECE_OVERHEAD) // 4 * 3)


def cut_pieces(
    store: ScanStore, scan: ScanRow, max_bytes: int
) -> tuple[Layout, list[dict[str, Any]]]:
    """The ``scan.piece`` bodies of ``scan``'s file for an inbox limit of ``max_bytes``, bytes
    left out (:func:`wire_piece` adds them); the file is checked against its SHA-256."""
    path = store.existing(scan.file_sha256, scan.file_format)
    size = path.stat().st_size
    step = piece_bytes(max_bytes)
    if step < 1 or -(-size // step) > MAX_PIECES:
        raise PayloadTooLarge(
            f"scan {scan.id} ({size} bytes) does not go in {MAX_PIECES} pieces under a partner's "
            f"inbox limit of {max_bytes} bytes (SMARTCUSTOMS_MAX_UPLOAD_BYTES)",
            details=[{"field": "scan_id", "limit": max_bytes, "got": size}],
        )
    cut = layout(size, step)
    whole = hashlib.sha256()
    bodies = []
    with path.open("rb") as fh:
        for index in range(cut.count):
            data = fh.read(cut.length(index))
            whole.update(data)
            bodies.append(
                {
                    "file_sha256": scan.file_sha256,
                    "file_format": scan.file_format,
                    "size": cut.size,
                    "count": cut.count,
                    "piece_bytes": cut.piece_bytes,
                    "index": index,
                    "offset": index * cut.piece_bytes,
                    "piece_sha256": hashlib.sha256(data).hexdigest(),
                }
            )
    if whole.hexdigest() != scan.file_sha256:
        raise file_changed(scan.id, scan.file_sha256)
    return cut, bodies


def wire_piece(store: ScanStore, stored: str) -> str:
    """The envelope to send for a ``scan.piece`` outbox row (``stored``): its body with the
    piece's bytes, read from the scan store and checked against the piece's SHA-256."""
    doc = json.loads(stored)
    piece = doc["body"]
    length = min(piece["piece_bytes"], piece["size"] - piece["offset"])
    try:
        with store.path(piece["file_sha256"], piece["file_format"]).open("rb") as fh:
            fh.seek(piece["offset"])
            data = fh.read(length)
    except OSError:
        data = b""
    if hashlib.sha256(data).hexdigest() != piece["piece_sha256"]:
        raise PieceUnavailable(
            f"piece {piece['index']} of scan file {piece['file_sha256'][:12]}…: the scan store "
            "no longer holds the bytes that were shared",
            details=[{"field": "file_sha256", "value": piece["file_sha256"]}],
        )
    return envelope_text(doc["id"], doc["kind"], {**piece, "data": base64.b64encode(data).decode()})
