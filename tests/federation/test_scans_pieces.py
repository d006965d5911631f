"""Scans larger than a partner's inbox limit, shared in pieces between two real instances
(uvicorn, each its own database, keys, ledger, scan store), with the inbox limit set to
256 KiB so a 690 kB scan takes four pieces: it arrives whole (same SHA-256, through Uganda's
intake, in its review queue); the outbox holds no copy of the bytes and Uganda's inbox keeps
only each piece's SHA-256; a partner down midway, after pieces were delivered but not marked,
gets each piece once; hostile pieces — overlapping, past the end, with other bytes than
announced, more than the bound, never completed, or a whole that does not hash to what the
scan says — are refused with typed errors naming the field, and what is left on Uganda's disk
stays under its bound and is deleted once expired."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from smartcustoms.core.roles import Role
from smartcustoms.federation.directory import get_partner
from smartcustoms.federation.scans_pieces import wire_piece
from smartcustoms.federation.scans_pieces_received import expire_everywhere, pieces_root
from smartcustoms.federation.service import FederationOutbox, outbox_of
from smartcustoms.federation.tables import DEAD, DELIVERED, PENDING, InboxRow, OutboxRow
from smartcustoms.scans.storage import store_for
from smartcustoms.scans.tables import ScanRow
from tests.federation.instances import Instance
from tests.federation.test_handover import (  # noqa: F401 - the two instances, reused
    KE,
    UG,
    _bearer,
    _fsck_clean,
    _outbox,
    httpx,
    pair,
)
from tests.federation.test_scans_shared import (
    _counts,
    _delivered,
    _post,
    _received,
    _scan,
    _stored_files,
)
from tests.scans.stored import FLAGGED, case
from tests.waiting import wait_for

LIMIT = 256 * 1024  # the inbox body limit of both instances here
BOUND = 1_500_000  # what Kenya may leave in pieces on Uganda's disk


@pytest.fixture(autouse=True)
def _small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both instances of ``pair`` (made after this autouse fixture) take these settings."""
    monkeypatch.setenv("SMARTCUSTOMS_MAX_UPLOAD_BYTES", str(LIMIT))
    monkeypatch.setenv("SMARTCUSTOMS_FEDERATION_SCAN_PIECES_MAX_BYTES", str(BOUND))


def _share(ke: Instance, scan_id: int) -> None:
    analyst = _bearer(ke, f"ke-analyst-{secrets.token_hex(2)}", Role.IMAGE_ANALYST)
    shared = httpx.post(
        f"{ke.url}/api/scans/{scan_id}/share", json={"partner": UG}, headers=analyst
    )
    assert shared.status_code == 201, shared.text


def _shared_by_hand(ke: Instance, folder: Path) -> tuple[FederationOutbox, list[OutboxRow]]:
    """Kenya's deliverer stopped, a scan shared: its outbox rows, for us to send."""
    outbox = outbox_of(ke.ctx)
    assert outbox is not None
    outbox.stop()
    _share(ke, _scan(ke, case(FLAGGED), folder))
    return outbox, _outbox(ke)


def _wired(ke: Instance, row: OutboxRow) -> str:
    """The envelope Kenya's deliverer sends for a piece row (its bytes read from the store)."""
    return wire_piece(store_for(ke.ctx.settings), row.body)


def _kept(ug: Instance) -> list[Path]:
    """Files Uganda keeps in pieces (its folders per partner and file)."""
    root = pieces_root(ug.ctx.settings)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _field(answer: Any) -> str:
    return str(answer.body["error"]["details"][0]["field"])


def _ug_inbox(ug: Instance) -> list[InboxRow]:
    with ug.ctx.db.session() as session:
        rows = list(session.scalars(select(InboxRow).order_by(InboxRow.id)))
        session.expunge_all()
        return rows


def test_a_scan_over_the_inbox_limit_arrives_whole_in_pieces(
    pair: tuple[Instance, Instance],  # noqa: F811
    tmp_path: Path,
) -> None:
    ke, ug = pair
    scan_id = _scan(ke, case(FLAGGED), tmp_path)
    with ke.ctx.db.session() as session:
        scan = session.get(ScanRow, scan_id)
        assert scan is not None
        sha, size = scan.file_sha256, scan.file_bytes
    assert size > LIMIT  # one message could not carry it
    _share(ke, scan_id)
    rows = _outbox(ke)
    kinds = [r.kind for r in rows]
    assert kinds == ["scan.piece"] * (len(rows) - 1) + ["scan.shared"] and len(rows) >= 4
    # The outbox holds the cut, not the bytes: each piece row is a few hundred bytes, and the
    # scan.shared row carries no file.
    assert all(len(r.body) < 1024 for r in rows[:-1])
    shared_body = json.loads(rows[-1].body)["body"]
    assert shared_body["file"] is None
    assert shared_body["pieces"]["count"] == len(rows) - 1
    assert all(len(_wired(ke, r)) <= LIMIT for r in rows[:-1])  # each fits the inbox
    _delivered(ke)

    (received,) = _received(ug)
    assert received.origin_scan_id == scan_id and received.file_sha256 == sha
    with ug.ctx.db.session() as session:
        ug_scan = session.get(ScanRow, received.scan_id)
        assert ug_scan is not None
        assert (ug_scan.file_sha256, ug_scan.file_bytes) == (sha, size)
        assert ug_scan.source == "federation" and ug_scan.status == "awaiting_review"
    store = store_for(ug.ctx.settings)
    assert store.verify(sha, "tiff")
    ug_analyst = _bearer(ug, "ug-analyst", Role.IMAGE_ANALYST)
    queue = httpx.get(f"{ug.url}/scans", headers=ug_analyst).text
    assert f'data-testid="from-partner-{received.scan_id}"' in queue
    # Uganda's inbox keeps each piece's SHA-256, not its bytes; the pieces are gone from disk.
    pieces = [r for r in _ug_inbox(ug) if r.kind == "scan.piece"]
    assert len(pieces) == len(rows) - 1
    assert all(r.body.startswith("sha256:") and len(r.body) == 71 for r in pieces)
    assert _kept(ug) == []
    arrived = ug.records("federation.message_received")
    assert [r["kind"] for r in arrived].count("scan.piece") == len(rows) - 1
    assert [r["scan_id"] for r in ug.records("federation.scan_received_from_partner")] == [
        received.scan_id
    ]
    _fsck_clean(ke)
    _fsck_clean(ug)


def test_a_partner_down_midway_gets_every_piece_once(
    pair: tuple[Instance, Instance],  # noqa: F811
    tmp_path: Path,
) -> None:
    ke, ug = pair
    # The deliverer sends two pieces, then dies before marking them delivered.
    outbox, rows = _shared_by_hand(ke, tmp_path)
    for row in rows[:2]:
        assert outbox.deliverer.send(ug.url, _wired(ke, row).encode()) == (200, None)
    assert len(_kept(ug)) == 2
    ug.stop_serving()  # and Uganda goes down before the next deliverer starts
    outbox.start()
    wait_for(lambda: _outbox(ke)[0].attempts >= 2, message="the deliverer did not try", timeout=30)
    assert _outbox(ke)[0].last_error is not None and _received(ug) == []
    ug.start_serving()
    _delivered(ke)

    (received,) = _received(ug)
    counts = _counts(ug)
    assert counts["scans"] == 1 and counts["federation_scans"] == 1
    # One inbox row per message: the two pieces sent again were answered as duplicates.
    inbox = _ug_inbox(ug)
    assert sorted(r.message_id for r in inbox) == sorted(r.message_id for r in rows)
    received_ids = [r["message_id"] for r in ug.records("federation.message_received")]
    assert len(received_ids) == len(set(received_ids)) == len(rows)
    with ug.ctx.db.session() as session:
        ug_scan = session.get(ScanRow, received.scan_id)
        assert ug_scan is not None
        assert store_for(ug.ctx.settings).verify(ug_scan.file_sha256, ug_scan.file_format)
    # A piece sent again under a new id, after its scan was put together: nothing kept.
    again = _post(ke, ug, "scan.piece", json.loads(_wired(ke, rows[0]))["body"])
    assert again.status == 200 and again.body["answer"]["existing"] is True
    assert _kept(ug) == [] and _counts(ug)["scans"] == 1
    with ke.ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxRow)) == len(rows)
    assert all(r.state == DELIVERED for r in _outbox(ke))


def _fake(size: int, piece: int, data: bytes | None = None) -> tuple[str, list[dict[str, Any]]]:
    """A file's SHA-256 and its piece bodies, as a partner would send them."""
    data = os.urandom(size) if data is None else data
    count = -(-size // piece)
    bodies = []
    for index in range(count):
        chunk = data[index * piece : (index + 1) * piece]
        bodies.append(
            {
                "file_sha256": hashlib.sha256(data).hexdigest(),
                "size": size,
                "count": count,
                "piece_bytes": piece,
                "index": index,
                "offset": index * piece,
                "piece_sha256": hashlib.sha256(chunk).hexdigest(),
                "data": base64.b64encode(chunk).decode(),
            }
        )
    return hashlib.sha256(data).hexdigest(), bodies


def test_hostile_pieces_are_refused_and_the_disk_stays_bounded(
    pair: tuple[Instance, Instance],  # noqa: F811
    tmp_path: Path,
) -> None:
    ke, ug = pair
    _, rows = _shared_by_hand(ke, tmp_path)  # we post them, altered as a hostile partner would
    genuine = [json.loads(_wired(ke, r))["body"] for r in rows[:-1]]
    shared = json.loads(rows[-1].body)["body"]
    before = _counts(ug)

    def refused(body: dict[str, Any], status: int, code: str, field: str) -> None:
        answer = _post(ke, ug, "scan.piece", body)
        assert (answer.status, answer.error_code, _field(answer)) == (status, code, field), (
            answer.body
        )

    first, second = genuine[0], genuine[1]
    # Overlapping: piece 1 claiming to start inside piece 0.
    refused({**second, "offset": second["offset"] - 10}, 422, "validation_failed", "body.offset")
    # Past the end: an index beyond the count, a piece longer than its slice, a count that the
    # size does not make.
    refused({**second, "index": first["count"]}, 422, "validation_failed", "body.index")
    longer = base64.b64decode(second["data"]) + b"\0" * 10
    refused(
        {**second, "data": base64.b64encode(longer).decode(),
         "piece_sha256": hashlib.sha256(longer).hexdigest()},
        422, "validation_failed", "body.data",
    )  # fmt: skip
    refused({**second, "count": second["count"] + 1}, 422, "validation_failed", "body.count")
    # Bytes that are not the ones announced.
    altered = bytearray(base64.b64decode(first["data"]))
    altered[0] ^= 0xFF
    refused(
        {**first, "data": base64.b64encode(bytes(altered)).decode()},
        422, "scan_digest_mismatch", "body.piece_sha256",
    )  # fmt: skip
    assert _kept(ug) == []

    # The genuine first piece is kept; the same index with other bytes is a conflict.
    assert _post(ke, ug, "scan.piece", first).status == 200
    refused(
        {**first, "data": base64.b64encode(bytes(altered)).decode(),
         "piece_sha256": hashlib.sha256(bytes(altered)).hexdigest()},
        409, "scan_piece_conflict", "body.piece_sha256",
    )  # fmt: skip
    # The scan.shared that comes with pieces missing: refused, its pieces deleted.
    answer = _post(ke, ug, "scan.shared", shared)
    assert (answer.status, answer.error_code, _field(answer)) == (
        422, "scan_pieces_missing", "body.pieces.count",
    )  # fmt: skip
    assert _kept(ug) == []

    # Every piece there, but put together they are not the file the scan names.
    wrong_sha, wrong = _fake(shared["scan"]["file_bytes"], first["piece_bytes"])
    for body in wrong:
        assert _post(ke, ug, "scan.piece", body).status == 200
    answer = _post(
        ke, ug, "scan.shared", {**shared, "scan": {**shared["scan"], "file_sha256": wrong_sha}}
    )
    assert (answer.status, answer.error_code) == (422, "scan_unreadable")  # not a TIFF
    assert _kept(ug) == []  # refused for good: deleted
    forged = [{**b, "file_sha256": shared["scan"]["file_sha256"]} for b in wrong]
    for body in forged:
        assert _post(ke, ug, "scan.piece", body).status == 200
    answer = _post(ke, ug, "scan.shared", shared)
    assert (answer.status, answer.error_code, _field(answer)) == (
        422, "scan_digest_mismatch", "body.scan.file_sha256",
    )  # fmt: skip
    assert _kept(ug) == []

    # More than a partner may leave here: a file over the bound at once, then pieces of files
    # that never finish until the bound is reached.
    _, huge = _fake(BOUND + 1, 150_000, b"\0" * (BOUND + 1))
    refused(huge[0], 413, "scan_pieces_over_limit", "body.size")
    unfinished = [_fake(600_000, 150_000)[1] for _ in range(4)]
    for bodies in unfinished[:3]:
        for body in bodies[:3]:
            assert _post(ke, ug, "scan.piece", body).status == 200
    assert _post(ke, ug, "scan.piece", unfinished[3][0]).status == 200
    held = 10 * 150_000
    assert held == BOUND
    refused(unfinished[3][1], 413, "scan_pieces_over_limit", "body.data")
    assert sum(p.stat().st_size for p in _kept(ug)) == held
    # No more than four files on their way at once, however small.
    _, small = _fake(1000, 500)
    refused(small[0], 413, "scan_pieces_over_limit", "body.file_sha256")

    # Pieces whose scan.shared never comes are deleted once they expire, at the partner's next
    # piece, and the ledger says so.
    keep = ug.ctx.settings.federation_scan_pieces_keep_hours * 3600
    for folder in pieces_root(ug.ctx.settings).glob("*/*"):
        old = time.time() - keep - 60
        os.utime(folder, (old, old))
    assert _post(ke, ug, "scan.piece", first).status == 200
    assert [p.name for p in _kept(ug)] == ["00000.part"]
    discarded = ug.records("federation.scan_pieces_discarded")
    assert len(discarded) == 4 and {r["reason"] for r in discarded} == {"expired"}
    assert sum(r["bytes"] for r in discarded) == held
    # A partner that never sends again: the deliverer's timer deletes what expired all the same.
    assert expire_everywhere(ug.ctx.unit, ug.ctx.settings) == 0  # nothing expired: no write
    for folder in pieces_root(ug.ctx.settings).glob("*/*"):
        os.utime(folder, (old, old))
    assert expire_everywhere(ug.ctx.unit, ug.ctx.settings) == 1
    assert _kept(ug) == []
    assert len(ug.records("federation.scan_pieces_discarded")) == 5

    # Nothing half-stored: no scan, no declaration, no stored file.
    after = _counts(ug)
    assert (after["scans"], after["federation_scans"], after["declarations"]) == (
        before["scans"], before["federation_scans"], before["declarations"],
    )  # fmt: skip
    assert [p for p in _stored_files(ug) if p.parent.name != "tmp"] == []
    with ug.ctx.unit() as unit:  # a partner that may not exchange scans sends no pieces
        get_partner(unit.session, KE).kinds = "transits"
    refused(genuine[1], 409, "partner_not_allowed", "kind")


def test_a_piece_whose_file_changed_since_sharing_is_set_aside(
    pair: tuple[Instance, Instance],  # noqa: F811
    tmp_path: Path,
) -> None:
    ke, ug = pair
    outbox, rows = _shared_by_hand(ke, tmp_path)
    shared = json.loads(rows[0].body)["body"]
    # The stored file is altered after sharing (a disk fault, a hand): its last piece no
    # longer hashes to what was cut, so the deliverer cannot send it.
    path = store_for(ke.ctx.settings).path(shared["file_sha256"], shared["file_format"])
    path.chmod(0o600)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    outbox.start()
    wait_for(
        lambda: all(r.state != PENDING for r in _outbox(ke)), message="still pending", timeout=30
    )
    states = [(r.kind, r.state) for r in _outbox(ke)]
    assert states[:-2] == [("scan.piece", DELIVERED)] * (len(rows) - 2)
    assert states[-2:] == [("scan.piece", DEAD), ("scan.shared", DEAD)]
    aside = {r["kind"]: r for r in ke.records("federation.message_set_aside")}
    assert aside["scan.piece"]["error"].startswith("piece ")
    assert aside["scan.shared"]["error"] == "HTTP 422 scan_pieces_missing"
    # Uganda refused the scan and kept nothing of it.
    assert _received(ug) == [] and _kept(ug) == [] and _counts(ug)["scans"] == 0
