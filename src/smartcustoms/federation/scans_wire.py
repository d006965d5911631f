"""The wire form of shared scans: ``scan.shared`` and ``scan.examined``, read as a hostile
partner's bytes.

``scan.shared`` body::

    {"from": "Kenya Revenue Authority",
     "scan": {"id": 17, "file_name": "MSCU1234566.tif", "file_format": "tiff",
              "file_sha256": "<hex>", "file_bytes": 5012345, "container_number": "MSCU1234566",
              "declaration_ref": "KE-LRN-1", "alarm_decision": "ALARM", "acquired_at": "…"},
     "file": "<base64 of the scan file>", "sidecar": "<base64 of its .json>" | null,
     "report": {…the sender's machine report, shaped like a DICOS TDR…},
     "decision": {"decision": "physical_examination", "status": "awaiting_examination",
                  "at": "…", "regions": [{"col0", "row0", "col1", "row1", "label"}]} | null,
     "note": "…" | null, "declaration": {…the WCO declaration document…},
     "transit": {"id": 5, "reference": "KE-T-5"} | null,
     "shared_by": "ana", "shared_at": "…"}

``scan.examined`` body: ``{"origin_scan_id", "file_sha256", "irregular", "codes", "regions",
"found_kg", "examined_at", "by"}``.

A file whose message fits the partner's inbox body limit (``SMARTCUSTOMS_MAX_UPLOAD_BYTES``,
32 MiB by default: files up to about 23 MiB, base64 being 4/3 of the bytes) travels base64 in
``file``, as every version of this exchange understands. A larger one travels ahead in
``scan.piece`` messages, in order, and ``scan.shared`` then carries ``"file": null`` and
``"pieces": {"count": n, "piece_bytes": p}`` (the size is ``scan.file_bytes``)::

    {"file_sha256": "<hex of the whole file>", "file_format": "tiff", "size": 150000000,
     "count": 36, "piece_bytes": 4194304, "index": 0, "offset": 0,
     "piece_sha256": "<hex of this piece>", "data": "<base64 of the piece>"}

Piece ``index`` is bytes ``[index × piece_bytes, …)``, every one ``piece_bytes`` long but the
last: a piece cannot overlap another or reach past ``size``. Every field read here is checked
and a problem names it (``body.scan.file_sha256``, ``body.offset``); the bytes are then read by
our own readers within our own limits (:mod:`smartcustoms.scans.limits`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from smartcustoms.core.errors import Conflict, ValidationFailed

__all__ = [
    "EXAMINED",
    "MAX_PIECES",
    "MAX_SIDECAR",
    "PIECE",
    "PIECE_BYTES",
    "SCANS_KIND",
    "SHARED",
    "Layout",
    "PartnerNotAllowed",
    "Piece",
    "ScanDigestMismatch",
    "SharedScan",
    "iso",
    "layout",
    "read_examined",
    "read_piece",
    "read_shared",
]

SHARED: Final = "scan.shared"
EXAMINED: Final = "scan.examined"
PIECE: Final = "scan.piece"
#: The largest piece we send: 4 MiB of file, 5.3 MiB of base64 (less when the inbox limit is
#: smaller): a piece retried costs little, and a 200 MB scan is 48 messages.
PIECE_BYTES: Final = 4 * 1024 * 1024
#: The most pieces one file may come in (a hostile partner's one-byte pieces would be a file
#: each on our disk).
MAX_PIECES: Final = 4096
#: The partner kind (on its card and in our directory) that exchanges scans.
SCANS_KIND: Final = "scans"
MAX_SIDECAR: Final = 1 << 20  # a sidecar is a few kB of JSON
MAX_NOTE: Final = 2000
_SHA = re.compile(r"^[0-9a-f]{64}$")
_MACHINE = ("ALARM", "CLEAR", "UNKNOWN")
_FORMATS = ("tiff", "dicos")


class ScanDigestMismatch(ValidationFailed):
    """The shared file's bytes do not hash to the SHA-256 the message announces."""

    code = "scan_digest_mismatch"


class PartnerNotAllowed(Conflict):
    """The partner may not exchange scans with us (its card or our directory says so), or is
    suspended."""

    code = "partner_not_allowed"


def _bad(field: str, problem: str) -> ValidationFailed:
    return ValidationFailed(f"message: {field}: {problem}", details=[{"field": field}])


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _when(value: Any, field: str, *, optional: bool = True) -> datetime | None:
    if value is None and optional:
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise _bad(field, "an ISO 8601 time with its zone")
    return parsed.astimezone(UTC)


def _str(doc: dict[str, Any], key: str, where: str, limit: int, *, optional: bool = False) -> Any:
    value = doc.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise _bad(f"{where}.{key}", f"text of 1 to {limit} characters")
    return value


def _dict(doc: dict[str, Any], key: str, where: str, *, optional: bool = False) -> Any:
    value = doc.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, dict):
        raise _bad(f"{where}.{key}", "an object")
    return value


def _id(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**31:
        raise _bad(field, "a positive integer id")
    return value


def _bytes(text: Any, field: str, limit: int) -> bytes:
    # Length first: a base64 text of n characters holds at most 3n/4 bytes.
    if not isinstance(text, str) or not text or len(text) * 3 // 4 > limit:
        raise _bad(field, f"base64 of 1 to {limit} bytes")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _bad(field, "base64 (RFC 4648, no line breaks)") from None


def _regions(value: Any, field: str) -> list[Any]:
    """Marked regions as the partner sent them: kept only when shaped as ours (boxes of whole
    pixels); their bounds are checked against the image when shown, as any mark."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 50:
        raise _bad(field, "a list of at most 50 regions")
    for n, box in enumerate(value):
        if not isinstance(box, dict) or not all(
            isinstance(box.get(k), int) and not isinstance(box.get(k), bool) and box[k] >= 0
            for k in ("col0", "row0", "col1", "row1")
        ):
            raise _bad(f"{field}[{n}]", "a box {col0, row0, col1, row1} in whole pixels")
        if not isinstance(box.get("label", ""), str) or len(box.get("label", "")) > 80:
            raise _bad(f"{field}[{n}].label", "text of at most 80 characters")
    return [
        {k: box[k] for k in ("col0", "row0", "col1", "row1")} | {"label": box.get("label", "")}
        for box in value
    ]


def _sha(doc: dict[str, Any], key: str, where: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not _SHA.match(value):
        raise _bad(f"{where}.{key}", "a SHA-256 in lower-case hex")
    return value


def _count(value: Any, field: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _bad(field, f"a whole number from {low} to {high}")
    return value


@dataclass(frozen=True)
class Layout:
    """How a file is cut: ``count`` pieces of ``piece_bytes``, the last one shorter."""

    size: int
    count: int
    piece_bytes: int

    def length(self, index: int) -> int:
        return min(self.piece_bytes, self.size - index * self.piece_bytes)


def layout(size: int, piece_bytes: int) -> Layout:
    return Layout(size, -(-size // piece_bytes), piece_bytes)


def _layout(size: Any, size_field: str, doc: dict[str, Any], where: str) -> Layout:
    """The cut a message announces (``doc``'s ``count`` and ``piece_bytes``), whole: ``count``
    is exactly what the size and ``piece_bytes`` make, so no piece can overlap another or reach
    past the end."""
    size = _count(size, size_field, 1, 2**40)
    piece_bytes = _count(doc.get("piece_bytes"), f"{where}.piece_bytes", 1, 2**40)
    cut = layout(size, piece_bytes)
    if doc.get("count") != cut.count or cut.count > MAX_PIECES:
        raise _bad(
            f"{where}.count",
            f"{cut.count} ({size} bytes in pieces of {piece_bytes}), at most {MAX_PIECES}",
        )
    return cut


@dataclass(frozen=True)
class Piece:
    """A ``scan.piece`` message, checked: ``data`` is exactly piece ``index`` of the cut."""

    file_sha256: str
    layout: Layout
    index: int
    piece_sha256: str
    data: bytes


def read_piece(body: dict[str, Any], *, max_bytes: int) -> Piece:
    """Check a ``scan.piece`` body; a piece is at most ``max_bytes`` (the inbox limit)."""
    sha = _sha(body, "file_sha256", "body")
    cut = _layout(body.get("size"), "body.size", body, "body")
    if cut.piece_bytes > max_bytes:
        raise _bad("body.piece_bytes", f"at most {max_bytes}, the inbox limit")
    index = _count(body.get("index"), "body.index", 0, cut.count - 1)
    start = index * cut.piece_bytes
    offset = body.get("offset")
    if offset != start or isinstance(offset, bool):
        raise _bad("body.offset", f"{start}: piece {index} starts there, pieces do not overlap")
    want = cut.length(index)
    data = _bytes(body.get("data"), "body.data", want + 2)  # base64 rounds up to 3 bytes
    if len(data) != want:
        raise _bad("body.data", f"{want} bytes: piece {index} of a {cut.size}-byte file")
    piece_sha = _sha(body, "piece_sha256", "body")
    if hashlib.sha256(data).hexdigest() != piece_sha:
        raise ScanDigestMismatch(
            "message: body.data: the piece's SHA-256 is not the one announced",
            details=[{"field": "body.piece_sha256", "expected": piece_sha}],
        )
    return Piece(sha, cut, index, piece_sha, data)


@dataclass(frozen=True)
class SharedScan:
    """A ``scan.shared`` message, checked. ``data`` is None when the file came ahead in
    pieces cut as ``pieces`` says (their SHA-256 is checked once they are put together)."""

    origin_scan_id: int
    file_name: str
    file_format: str
    file_sha256: str
    data: bytes | None
    sidecar: bytes | None
    container_number: str
    declaration_ref: str | None
    machine: str
    report: dict[str, Any]
    decision: str | None
    status: str | None
    decided_at: datetime | None
    regions: list[Any]
    note: str | None
    declaration: dict[str, Any]
    transit_id: int | None
    transit_reference: str | None
    shared_by: str
    shared_at: datetime
    pieces: Layout | None = None


def read_shared(body: dict[str, Any], *, max_bytes: int) -> SharedScan:
    """Check a ``scan.shared`` body; the file is at most ``max_bytes`` and hashes to the
    SHA-256 announced (:class:`ScanDigestMismatch` otherwise)."""
    scan = _dict(body, "scan", "body")
    fmt = _str(scan, "file_format", "body.scan", 8)
    if fmt not in _FORMATS:
        raise _bad("body.scan.file_format", "tiff or dicos")
    sha = _sha(scan, "file_sha256", "body.scan")
    machine = _str(scan, "alarm_decision", "body.scan", 8)
    if machine not in _MACHINE:
        raise _bad("body.scan.alarm_decision", "ALARM, CLEAR or UNKNOWN")
    data, pieces = None, None
    if body.get("pieces") is None:
        data = _bytes(body.get("file"), "body.file", max_bytes)
        if hashlib.sha256(data).hexdigest() != sha:
            raise ScanDigestMismatch(
                "message: body.file: the file's SHA-256 is not the one announced",
                details=[{"field": "body.scan.file_sha256", "expected": sha}],
            )
    else:
        cut = _dict(body, "pieces", "body")
        pieces = _layout(scan.get("file_bytes"), "body.scan.file_bytes", cut, "body.pieces")
    sidecar = body.get("sidecar")
    decision = _dict(body, "decision", "body", optional=True) or {}
    transit = _dict(body, "transit", "body", optional=True) or {}
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise _bad("body.note", f"text of at most {MAX_NOTE} characters")
    return SharedScan(
        origin_scan_id=_id(scan.get("id"), "body.scan.id"),
        file_name=_str(scan, "file_name", "body.scan", 255),
        file_format=fmt,
        file_sha256=sha,
        data=data,
        sidecar=None if sidecar is None else _bytes(sidecar, "body.sidecar", MAX_SIDECAR),
        container_number=_str(scan, "container_number", "body.scan", 11),
        declaration_ref=_str(scan, "declaration_ref", "body.scan", 70, optional=True),
        machine=machine,
        report=_dict(body, "report", "body"),
        decision=_str(decision, "decision", "body.decision", 24, optional=True),
        status=_str(decision, "status", "body.decision", 24, optional=True),
        decided_at=_when(decision.get("at"), "body.decision.at"),
        regions=_regions(decision.get("regions"), "body.decision.regions"),
        note=note or None,
        declaration=_dict(body, "declaration", "body"),
        transit_id=None if not transit else _id(transit.get("id"), "body.transit.id"),
        transit_reference=_str(transit, "reference", "body.transit", 70, optional=True),
        shared_by=_str(body, "shared_by", "body", 64),
        shared_at=_when(body.get("shared_at"), "body.shared_at", optional=False)
        or datetime.now(UTC),
        pieces=pieces,
    )


@dataclass(frozen=True)
class Examined:
    """A ``scan.examined`` message, checked."""

    origin_scan_id: int
    file_sha256: str
    irregular: bool
    codes: list[str]
    regions: list[Any]
    found_kg: Decimal | None
    examined_at: datetime
    by: str


def read_examined(body: dict[str, Any], known_codes: list[str]) -> Examined:
    irregular = body.get("irregular")
    if not isinstance(irregular, bool):
        raise _bad("body.irregular", "true or false")
    codes = body.get("codes") or []
    if not isinstance(codes, list) or not all(c in known_codes for c in codes):
        raise _bad("body.codes", f"a list of {', '.join(known_codes)}")
    found = body.get("found_kg")
    try:
        found_kg = None if found is None else Decimal(str(found)).quantize(Decimal("0.001"))
    except InvalidOperation:
        found_kg = Decimal(-1)
    if found_kg is not None and not (found_kg.is_finite() and 0 <= found_kg < Decimal("1e9")):
        raise _bad("body.found_kg", "a mass in kilograms, as a decimal string")
    sha = _str(body, "file_sha256", "body", 64)
    return Examined(
        origin_scan_id=_id(body.get("origin_scan_id"), "body.origin_scan_id"),
        file_sha256=sha,
        irregular=irregular,
        codes=sorted(set(codes)),
        regions=_regions(body.get("regions"), "body.regions"),
        found_kg=found_kg,
        examined_at=_when(body.get("examined_at"), "body.examined_at", optional=False)
        or datetime.now(UTC),
        by=_str(body, "by", "body", 64),
    )
