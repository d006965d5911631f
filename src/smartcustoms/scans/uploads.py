"""Resumable scan uploads: a scan file that arrives in pieces over a thin link, and survives a
dropped connection (the server side of the tus 1.0 resumable upload protocol, without HTTP).

A scanning site on a slow or unreliable line starts an upload with the file's length and what
the scan is linked to (the same fields as a one-piece upload), then sends the bytes in as many
pieces as its line allows. Whatever arrived before a connection dropped is kept: the client asks
how far the upload got and goes on from there. When the last byte arrives the scan is received
exactly as a one-piece upload would be (:func:`smartcustoms.scans.intake.receive_scan`).

Each upload is two files in one folder of the data directory, shared by every web worker on the
host: ``ID.json`` (owner, length, linked fields, the scan once received) and ``ID.part`` (the
bytes so far; its size is the offset). Appending holds an exclusive ``flock`` on the part file,
so two connections (or two workers) cannot append to one upload at once. Unfinished uploads are
removed after :data:`UPLOAD_TTL`.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import math
import os
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

from smartcustoms.core.errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed

__all__ = [
    "MAX_SIDECAR_BYTES",
    "UPLOAD_TTL",
    "Appender",
    "PendingUpload",
    "UploadStore",
    "parse_metadata",
]

#: Unfinished uploads older than this are removed (a day: a thin link's worst night).
UPLOAD_TTL = 24 * 3600.0
#: A sidecar travels in the upload's metadata; sidecars are a few kilobytes of JSON.
MAX_SIDECAR_BYTES = 32 * 1024
_FIELDS = (
    "filename",
    "declaration_id",
    "container_number",
    "tare_kg",
    "goods_gross_kg",
    "declared_empty",
    "sidecar",
)
_ID_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _invalid(name: str, message: str) -> ValidationFailed:
    where = f"Upload-Metadata {name}"
    return ValidationFailed(f"{where}: {message}", details=[{"field": where, "problem": message}])


def parse_metadata(header: str | None) -> dict[str, str]:
    """The tus ``Upload-Metadata`` header: comma-separated ``key base64value`` pairs, decoded.
    Raises ValidationFailed naming the pair."""
    pairs: dict[str, str] = {}
    for index, item in enumerate((header or "").split(",")):
        if not item.strip():
            continue
        key, _, encoded = item.strip().partition(" ")
        if key not in _FIELDS:
            raise _invalid(
                key[:40] or f"pair {index + 1}", f"unknown key; known: {', '.join(_FIELDS)}"
            )
        if key in pairs:
            raise _invalid(key, "given twice")
        try:
            pairs[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _invalid(key, "not base64 of UTF-8 text") from None
    return pairs


def _number(pairs: Mapping[str, str], key: str, *, integer: bool = False) -> float | int | None:
    if key not in pairs:
        return None
    text = pairs[key].strip()
    try:
        value: float | int = int(text) if integer else float(text)
    except ValueError:
        raise _invalid(key, f"{text[:30]!r} is not a number") from None
    top = 2**31 - 1 if integer else 1e9
    if not math.isfinite(value) or not (1 if integer else 0) <= value <= top:
        raise _invalid(key, f"{text[:30]!r} is out of range")
    return value


@dataclass
class PendingUpload:
    """One upload's state (the ``ID.json`` file)."""

    id: str
    owner: str
    length: int
    fields: dict[str, Any]
    created: float
    offset: int = 0
    scan_id: int | None = None

    @property
    def complete(self) -> bool:
        return self.offset == self.length


def _fields(pairs: Mapping[str, str]) -> dict[str, Any]:
    """The linked fields of :class:`~smartcustoms.scans.intake.Upload`, checked."""
    if "declaration_id" not in pairs:
        raise _invalid("declaration_id", "required: the stored declaration the scan belongs to")
    fields: dict[str, Any] = {
        "file_name": (pairs.get("filename") or "scan")[:200],
        "declaration_id": _number(pairs, "declaration_id", integer=True),
        "container_number": (pairs.get("container_number") or "").strip() or None,
        "tare_kg": _number(pairs, "tare_kg"),
        "goods_gross_kg": _number(pairs, "goods_gross_kg"),
        "declared_empty": None,
        "sidecar": None,
    }
    if fields["container_number"] is not None and len(fields["container_number"]) > 17:
        raise _invalid("container_number", "longer than 17 characters")
    if "declared_empty" in pairs:
        text = pairs["declared_empty"].strip().lower()
        if text not in ("true", "false"):
            raise _invalid("declared_empty", "true or false")
        fields["declared_empty"] = text == "true"
    if "sidecar" in pairs:
        if len(pairs["sidecar"].encode()) > MAX_SIDECAR_BYTES:
            raise _invalid("sidecar", f"larger than {MAX_SIDECAR_BYTES} bytes")
        fields["sidecar"] = pairs["sidecar"]
    return fields


class UploadStore:
    """The uploads folder (``<data dir>/uploads``)."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes

    def _paths(self, upload_id: str) -> tuple[Path, Path]:
        # Ids are ours (from secrets), but they come back in URLs: never a path of anyone else's.
        if not (16 <= len(upload_id) <= 64 and set(upload_id) <= _ID_ALPHABET):
            raise NotFound("no such upload")
        return self.folder / f"{upload_id}.json", self.folder / f"{upload_id}.part"

    def create(self, owner: str, length: int, pairs: Mapping[str, str]) -> PendingUpload:
        if length < 1:
            raise ValidationFailed(
                "Upload-Length: the file is empty",
                details=[{"field": "Upload-Length", "problem": "must be at least 1"}],
            )
        if length > self.max_bytes:
            raise PayloadTooLarge(
                f"Upload-Length {length} is over the limit of {self.max_bytes} bytes"
            )
        fields = _fields(pairs)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sweep()
        upload = PendingUpload(
            id=secrets.token_hex(16), owner=owner, length=length, fields=fields, created=time.time()
        )
        self._paths(upload.id)[1].touch(exist_ok=False)
        self._save(upload)
        return upload

    def get(self, upload_id: str, owner: str) -> PendingUpload:
        """The upload, if ``owner`` started it (anyone else is told it does not exist)."""
        state, part = self._paths(upload_id)
        try:
            raw = json.loads(state.read_text())
            size = part.stat().st_size
        except (OSError, ValueError):
            raise NotFound("no such upload") from None
        upload = PendingUpload(**raw)
        if upload.owner != owner:
            raise NotFound("no such upload")
        # Once received, the bytes are in the scan store and the part file is emptied.
        upload.offset = upload.length if upload.scan_id is not None else size
        return upload

    @contextmanager
    def appending(self, upload_id: str, owner: str, offset: int) -> Iterator[Appender]:
        """Append at ``offset`` (which must be where the upload stands), holding the upload's
        lock; what is written stays written even if the caller fails half-way. A complete
        upload not yet received may be appended nothing, to try receiving it again."""
        upload = self.get(upload_id, owner)
        _, part = self._paths(upload_id)
        with part.open("ab") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Conflict("another connection is appending to this upload") from None
            size = os.fstat(handle.fileno()).st_size
            # Read again under the lock: whoever held it before may have received the upload,
            # or deleted it (then opening the part file made an empty one: not left behind).
            try:
                upload = self.get(upload_id, owner)
            except NotFound:
                part.unlink(missing_ok=True)
                raise
            if upload.scan_id is not None:
                raise Conflict(f"this upload was received as scan {upload.scan_id}")
            if offset != size:
                raise Conflict(
                    f"Upload-Offset {offset} is not where the upload stands ({size})",
                    details=[{"field": "Upload-Offset", "expected": size}],
                )
            appender = Appender(handle, size, upload.length, lambda: self._remove(upload_id))
            try:
                yield appender
            finally:
                if not appender.discarded:
                    appender.flush()

    def data(self, upload: PendingUpload) -> bytes:
        return self._paths(upload.id)[1].read_bytes()

    def received(self, upload: PendingUpload, scan_id: int) -> None:
        """The upload became scan ``scan_id``: keep the state (the client may ask again), drop
        the bytes (the scan store has them)."""
        upload.scan_id = scan_id
        self._save(upload)
        self._paths(upload.id)[1].write_bytes(b"")

    def delete(self, upload_id: str, owner: str) -> None:
        """Abandon an upload; refused while a connection appends to it or receives it (the
        receiving reads the part file: removing it then would fail the receiving half-way)."""
        self.get(upload_id, owner)
        _, part = self._paths(upload_id)
        try:
            handle = part.open("rb")
        except FileNotFoundError:
            raise NotFound("no such upload") from None
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Conflict("a connection is appending to this upload") from None
            self._remove(upload_id)

    def _remove(self, upload_id: str) -> None:
        for path in self._paths(upload_id):
            path.unlink(missing_ok=True)

    def sweep(self, now: float | None = None) -> int:
        """Remove uploads older than :data:`UPLOAD_TTL`; return how many."""
        now = time.time() if now is None else now
        removed = 0
        for state in self.folder.glob("*.json"):
            try:
                created = float(json.loads(state.read_text())["created"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if now - created > UPLOAD_TTL:
                state.unlink(missing_ok=True)
                state.with_suffix(".part").unlink(missing_ok=True)
                removed += 1
        return removed

    def _save(self, upload: PendingUpload) -> None:
        state, _ = self._paths(upload.id)
        raw = asdict(upload)
        raw.pop("offset")
        temporary = state.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(raw))
        temporary.replace(state)  # atomic: a reader sees the old state or the new, never half


class Appender:
    def __init__(
        self, handle: BinaryIO, offset: int, length: int, remove: Callable[[], None]
    ) -> None:
        self._handle = handle
        self.offset = offset
        self._length = length
        self._remove = remove
        self.discarded = False

    @property
    def complete(self) -> bool:
        return self.offset == self._length

    def flush(self) -> None:
        """Make what was written durable (and visible to :meth:`UploadStore.data`)."""
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def discard(self) -> None:
        """Remove the upload while holding its lock (a file that can never be a scan)."""
        self._remove()
        self.discarded = True

    def write(self, chunk: bytes) -> None:
        if self.offset + len(chunk) > self._length:
            raise ValidationFailed(
                f"the body goes past Upload-Length {self._length}",
                details=[{"field": "body", "problem": "longer than the upload"}],
            )
        self._handle.write(chunk)
        self.offset += len(chunk)
