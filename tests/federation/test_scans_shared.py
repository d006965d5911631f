"""Scans shared between two real instances (uvicorn, each its own database, keys, ledger and
scan store): Kenya's analyst shares a scan of a container it handed over to Uganda; Uganda
stores it through its own intake, shows it in its review queue and beside the transit with
Kenya's decision, says "scanned by Kenya" on its own scan of the same container, and its
examination result flows back to Kenya's scan page. A partner that may not receive scans is
refused; a file whose bytes are not the ones announced, or a decompression bomb, is refused
with a typed error and nothing stored; a message delivered again is a duplicate."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from smartcustoms.core.roles import Role
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.federation.client import post_signed
from smartcustoms.federation.directory import get_partner
from smartcustoms.federation.inbox import INBOX_PATH
from smartcustoms.federation.outbox import envelope_text
from smartcustoms.federation.scans_audit import auditors
from smartcustoms.federation.scans_tables import RECEIVED, SharedScanRow
from smartcustoms.federation.service import outbox_of, own_signer
from smartcustoms.federation.signing import sign_request
from smartcustoms.federation.tables import DELIVERED, InboxRow, OutboxRow
from smartcustoms.ledger.audit import audit
from smartcustoms.scans.intake import Upload, receive_scan
from smartcustoms.scans.storage import store_for
from smartcustoms.scans.tables import ScanRow
from smartcustoms.tracking.transits import (
    TransitRequest,
    arm_transit,
    create_transit,
    hand_over_transit,
)
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
from tests.scans.readers import bombs
from tests.scans.stored import FLAGGED, Case, case, declaration_for, lodge, write
from tests.waiting import wait_for


def _scan(instance: Instance, item: Case, folder: Path, *, fmt: str = "tiff") -> int:
    """A scan received at ``instance`` through its own intake, its declaration lodged first
    (or found: the same declarant and LRN are the same declaration)."""
    with instance.ctx.db.session() as session:
        declaration_id = session.scalar(
            select(DeclarationRow.id).where(DeclarationRow.lrn == item.reference)
        )
    if declaration_id is None:
        (declaration_id,) = lodge(instance.ctx, declaration_for(item))
    path = write(item, folder, f"scan-{fmt}", fmt)
    with instance.ctx.unit() as unit:
        received = receive_scan(
            unit,
            store_for(instance.ctx.settings),
            Upload(path.read_bytes(), path.name, declaration_id),
            actor="scanner",
            source="api",
        )
        return received.scan.id


def _hand_over(instance: Instance, scan_id: int) -> int:
    """A transit of the scanned container's declaration, armed and handed over to Uganda."""
    with instance.ctx.db.session() as session:
        scan = session.get(ScanRow, scan_id)
        assert scan is not None
        declaration_id = scan.declaration_id
    with instance.ctx.unit() as unit:
        row = create_transit(
            unit,
            TransitRequest(
                declaration_id=declaration_id,
                device_id="SEAL-SCAN-1",
                vehicle="KBX 123A",
                corridor="northern",
                origin="KEMBA",
                destination="UGKLA",
                deadline=datetime.now(UTC) + timedelta(hours=48),
            ),
            actor="officer",
            administration=KE,
        )
        transit_id = row.id
    with instance.ctx.unit() as unit:
        arm_transit(unit, transit_id, actor="officer")
    with instance.ctx.unit() as unit:
        hand_over_transit(
            unit, transit_id, actor="officer", border="KE-MALABA", to_administration=UG
        )
    return transit_id


def _delivered(instance: Instance) -> None:
    wait_for(
        lambda: all(r.state == DELIVERED for r in _outbox(instance)),
        message="not delivered",
        timeout=60,
    )


def _received(instance: Instance) -> list[SharedScanRow]:
    with instance.ctx.db.session() as session:
        rows = list(
            session.scalars(select(SharedScanRow).where(SharedScanRow.direction == RECEIVED))
        )
        session.expunge_all()
        return rows


def _counts(instance: Instance) -> dict[str, int]:
    with instance.ctx.db.session() as session:
        return {
            table.__tablename__: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (ScanRow, SharedScanRow, InboxRow, DeclarationRow)
        }


def _stored_files(instance: Instance) -> list[Path]:
    root = store_for(instance.ctx.settings).root
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _post(sender: Instance, receiver: Instance, kind: str, body: dict[str, Any]) -> Any:
    """A message signed by ``sender``'s key, posted to ``receiver``'s inbox as is."""
    url = receiver.url + INBOX_PATH
    raw = envelope_text(str(uuid.uuid4()), kind, body).encode()
    return post_signed(url, raw, sign_request(own_signer(sender.ctx), "POST", url, raw))


def _form(url: str, headers: dict[str, str], fields: dict[str, str]) -> tuple[int, str]:
    """A form posted as the review station's page posts it (no redirect followed)."""

    class _Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    request = urllib.request.Request(  # noqa: S310 - http to the local test instance
        url, data=urllib.parse.urlencode(fields).encode(), method="POST", headers=dict(headers)
    )
    request.add_header("content-type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.build_opener(_Stay).open(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_share_receive_show_and_the_examination_flows_back(
    pair: tuple[Instance, Instance],  # noqa: F811
    tmp_path: Path,
) -> None:
    ke, ug = pair
    item = case(FLAGGED)
    scan_id = _scan(ke, item, tmp_path / "ke")
    transit_id = _hand_over(ke, scan_id)
    _delivered(ke)

    ke_analyst = _bearer(ke, "ke-analyst", Role.IMAGE_ANALYST)
    region = {"col0": 10, "row0": 20, "col1": 60, "row1": 80, "label": "block"}
    reviewed = httpx.post(
        f"{ke.url}/api/scans/{scan_id}/review",
        json={"decision": "physical_examination", "regions": [region]},
        headers=ke_analyst,
    )
    assert reviewed.status_code == 200, reviewed.text
    # A command-centre operator may not share; the analyst may, once per partner.
    operator = _bearer(ke, "ke-operator", Role.COMMAND_CENTRE_OPERATOR)
    share_url = f"{ke.url}/api/scans/{scan_id}/share"
    assert httpx.post(share_url, json={"partner": UG}, headers=operator).status_code == 403
    shared = httpx.post(
        share_url, json={"partner": UG, "note": "dense block behind the doors"}, headers=ke_analyst
    )
    assert shared.status_code == 201, shared.text
    (sent,) = shared.json()["shared"]
    assert sent["direction"] == "sent" and sent["partner"] == UG
    assert sent["transit_id"] == transit_id and sent["examination"] is None
    again = httpx.post(share_url, json={"partner": UG}, headers=ke_analyst)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_shared"
    _delivered(ke)

    # Uganda stored it through its own intake: its store, its machine, its review queue.
    (received,) = _received(ug)
    assert received.origin_scan_id == scan_id and received.sender_decision == "physical_examination"
    with ug.ctx.db.session() as session:
        ug_scan = session.get(ScanRow, received.scan_id)
        assert ug_scan is not None
        assert ug_scan.source == "federation" and ug_scan.status == "awaiting_review"
        assert ug_scan.container_number == item.container
        assert store_for(ug.ctx.settings).verify(ug_scan.file_sha256, ug_scan.file_format)
        handed_in = received.transit_id
        assert handed_in is not None  # beside the transit Kenya handed over
    ug_analyst = _bearer(ug, "ug-analyst", Role.IMAGE_ANALYST)
    api = httpx.get(f"{ug.url}/api/scans/{received.scan_id}", headers=ug_analyst).json()
    (beside,) = api["shared"]
    assert beside["direction"] == "received" and beside["partner"] == KE
    assert beside["sender_decision"] == "physical_examination"
    assert beside["sender_machine"] == "ALARM" and beside["note"] == "dense block behind the doors"

    # The review station: the queue says where it came from, the page shows Kenya's decision
    # and links the transit; in French too.
    queue = httpx.get(f"{ug.url}/scans", headers=ug_analyst).text
    assert f'data-testid="from-partner-{received.scan_id}"' in queue and KE in queue
    page = httpx.get(f"{ug.url}/scans/{received.scan_id}", headers=ug_analyst).text
    assert 'data-testid="shared-from"' in page
    decision = page.split('data-testid="sender-decision">', 1)[1].split("</dd>", 1)[0]
    assert "Physical examination" in decision
    assert f'href="/tracking/transits/{handed_in}"' in page
    assert 'data-testid="share-form"' not in page  # a partner's scan is the partner's to share
    french = httpx.get(
        f"{ug.url}/scans/{received.scan_id}", headers={**ug_analyst, "accept-language": "fr"}
    ).text
    assert "Leur décision" in french and "Partagé par" in french

    # Uganda's own scan of the same container (another file) says Kenya scanned it already.
    local_id = _scan(ug, item, tmp_path / "ug", fmt="dicos")
    flagged = httpx.get(f"{ug.url}/scans", headers=ug_analyst).text
    flag = flagged.split(f'data-testid="partner-scanned-{local_id}">', 1)[1].split("</small>")[0]
    assert f"Scanned by {KE}" in flag and "Physical examination" in flag
    listed = httpx.get(f"{ug.url}/api/scans?queue=review", headers=ug_analyst).json()
    mine = next(s for s in listed if s["id"] == local_id)
    assert [(p["partner"], p["scan_id"]) for p in mine["partner_scans"]] == [(KE, received.scan_id)]
    lookup = httpx.get(
        f"{ug.url}/api/scans/partner-scans?container_number={item.container}", headers=ug_analyst
    ).json()
    assert [p["sender_decision"] for p in lookup] == ["physical_examination"]

    # Uganda examines the container; the result flows back to Kenya's scan page.
    ug_officer = _bearer(ug, "ug-officer", Role.EXAMINING_OFFICER)
    examined = httpx.post(
        f"{ug.url}/api/scans/{received.scan_id}/examination",
        json={"irregular": True, "codes": ["concealment"], "found_kg": "120.5"},
        headers=ug_officer,
    )
    assert examined.status_code == 201, examined.text
    _delivered(ug)

    def came_back() -> bool:
        got = httpx.get(f"{ke.url}/api/scans/{scan_id}", headers=ke_analyst).json()
        return got["shared"][0]["examination"] is not None

    wait_for(came_back, message="the examination did not flow back", timeout=30)
    result = httpx.get(f"{ke.url}/api/scans/{scan_id}", headers=ke_analyst).json()
    exam = result["shared"][0]["examination"]
    assert exam["irregular"] is True and exam["codes"] == ["concealment"]
    assert exam["found_kg"] == "120.500"
    ke_page = httpx.get(f"{ke.url}/scans/{scan_id}", headers=ke_analyst).text
    shown = ke_page.split('data-testid="partner-examination">', 1)[1].split("</span></span>")[0]
    assert "Irregular" in shown and "Concealed goods" in shown

    # Every step in both ledgers, and both pass ledger fsck.
    assert ke.records("federation.scan_shared")[0]["scan_id"] == scan_id
    assert ke.records("federation.scan_examined_by_partner")[0]["irregular"] is True
    arrived = ug.records("federation.scan_received_from_partner")
    assert [r["origin_scan_id"] for r in arrived] == [scan_id]
    assert any(r["scan_id"] == received.scan_id for r in ug.records("scans.received"))
    assert ug.records("federation.scan_examination_sent")[0]["origin_scan_id"] == scan_id
    _fsck_clean(ke)
    _fsck_clean(ug)
    for instance in (ke, ug):
        report = audit(instance.ctx.db, auditors())
        assert report.ok, report.problems
        assert report.checked["federation_scans"] == 1
    # A result altered in the table is caught against its record.
    with ke.ctx.unit() as unit:
        row = unit.session.scalars(select(SharedScanRow)).one()
        row.examined_irregular = False
    (problem,) = audit(ke.ctx.db, auditors()).problems
    assert "the partner's examination differs" in problem


def test_a_partner_not_allowed_scans_is_refused_both_ways(
    pair: tuple[Instance, Instance],  # noqa: F811
    tmp_path: Path,
) -> None:
    ke, ug = pair
    scan_id = _scan(ke, case(FLAGGED), tmp_path)
    supervisor = _bearer(ke, "ke-supervisor", Role.SUPERVISOR)
    with ke.ctx.unit() as unit:
        get_partner(unit.session, UG).kinds = "transits"  # our directory narrows what it takes
    refused = httpx.post(
        f"{ke.url}/api/scans/{scan_id}/share", json={"partner": UG}, headers=supervisor
    )
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "partner_not_allowed" and error["details"][0]["field"] == "partner"
    unknown = httpx.post(
        f"{ke.url}/api/scans/{scan_id}/share", json={"partner": "Nobody"}, headers=supervisor
    )
    assert (
        unknown.status_code == 404 and unknown.json()["error"]["details"][0]["field"] == "partner"
    )
    # The review station's form says why, on the scan's page.
    status, page = _form(f"{ke.url}/scans/{scan_id}/share", supervisor, {"partner": UG})
    assert status == 409 and 'data-testid="scan-error"' in page and "may not receive" in page
    assert 'data-testid="share-form"' not in page  # no partner to offer
    assert _outbox(ke) == [] and _counts(ke)["federation_scans"] == 0

    # Uganda takes no scans from Kenya: a scan.shared that reaches its inbox anyway is refused.
    with ke.ctx.unit() as unit:
        get_partner(unit.session, UG).kinds = "transits,scans"
    outbox = outbox_of(ke.ctx)
    assert outbox is not None
    outbox.stop()
    offered = httpx.get(f"{ke.url}/scans/{scan_id}", headers=supervisor).text
    assert 'data-testid="share-form"' in offered and f'<option value="{UG}">' in offered
    status, _ = _form(f"{ke.url}/scans/{scan_id}/share", supervisor, {"partner": UG})
    assert status == 303
    (message,) = _outbox(ke)
    with ug.ctx.unit() as unit:
        get_partner(unit.session, KE).kinds = "transits"
    answer = _post(ke, ug, "scan.shared", json.loads(message.body)["body"])
    assert answer.status == 409 and answer.error_code == "partner_not_allowed"
    assert _counts(ug)["scans"] == 0 and _stored_files(ug) == []


def test_corrupt_or_bomb_files_are_refused_and_nothing_is_stored(
    pair: tuple[Instance, Instance],  # noqa: F811
    tmp_path: Path,
) -> None:
    ke, ug = pair
    scan_id = _scan(ke, case(FLAGGED), tmp_path)
    outbox = outbox_of(ke.ctx)
    assert outbox is not None
    outbox.stop()  # we post Kenya's message by hand, altered as a hostile partner would
    analyst = _bearer(ke, "ke-analyst", Role.IMAGE_ANALYST)
    share = httpx.post(f"{ke.url}/api/scans/{scan_id}/share", json={"partner": UG}, headers=analyst)
    assert share.status_code == 201, share.text
    (message,) = _outbox(ke)
    genuine = json.loads(message.body)["body"]
    before = _counts(ug)

    # Bytes that are not the ones announced.
    data = bytearray(base64.b64decode(genuine["file"]))
    data[-1] ^= 0xFF
    altered = {**genuine, "file": base64.b64encode(bytes(data)).decode()}
    answer = _post(ke, ug, "scan.shared", altered)
    assert answer.status == 422 and answer.error_code == "scan_digest_mismatch"

    # Decompression bombs under their true SHA-256: two 30,000 × 30,000 pages (refused from
    # the header, 413), and a header within every limit over a strip that inflates to 300 MB
    # (refused from the readers' bounded buffer, 422).
    for bomb, status, code in (
        (bombs.two_huge_deflate_pages(tmp_path), 413, "scan_too_large"),
        (bombs.deflate_strip_bomb(tmp_path), 422, "scan_unreadable"),
    ):
        raw = bomb.read_bytes()
        hostile = {
            **genuine,
            "scan": {**genuine["scan"], "file_sha256": hashlib.sha256(raw).hexdigest()},
            "file": base64.b64encode(raw).decode(),
            "sidecar": base64.b64encode(bomb.with_suffix(".json").read_bytes()).decode(),
        }
        answer = _post(ke, ug, "scan.shared", hostile)
        assert (answer.status, answer.error_code) == (status, code), answer.body

    # Not base64 at all: the field is named.
    answer = _post(ke, ug, "scan.shared", {**genuine, "file": "not base64!"})
    assert answer.status == 422 and answer.error_code == "validation_failed"

    # Nothing half-stored: no scan, no declaration, no inbox entry, no file.
    assert _counts(ug) == before
    assert [p for p in _stored_files(ug) if p.parent.name != "tmp"] == []


def test_a_message_delivered_again_is_a_duplicate(
    pair: tuple[Instance, Instance],  # noqa: F811
    tmp_path: Path,
) -> None:
    ke, ug = pair
    scan_id = _scan(ke, case(FLAGGED), tmp_path)
    analyst = _bearer(ke, "ke-analyst", Role.IMAGE_ANALYST)
    quoted = urllib.parse.quote(str(scan_id))
    assert httpx.post(
        f"{ke.url}/api/scans/{quoted}/share", json={"partner": UG}, headers=analyst
    ).is_success
    _delivered(ke)
    (message,) = _outbox(ke)
    # The deliverer sends it again (a crash before it marked it delivered): a duplicate.
    url = ug.url + INBOX_PATH
    raw = message.body.encode()
    again = post_signed(url, raw, sign_request(own_signer(ke.ctx), "POST", url, raw))
    assert again.status == 200 and again.body["duplicate"] is True
    # The same scan under a new message id: answered with the scan it already is.
    fresh = _post(ke, ug, "scan.shared", json.loads(message.body)["body"])
    assert fresh.status == 200 and fresh.body["answer"]["existing"] is True
    counts = _counts(ug)
    assert counts["scans"] == 1 and counts["federation_scans"] == 1
    assert len(ug.records("federation.scan_received_from_partner")) == 1
    with ke.ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxRow)) == 1
