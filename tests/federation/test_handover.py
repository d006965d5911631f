"""Transit hand-over between two real instances (uvicorn, each its own SQLite database, keys
and ledger), through the federation outbox: handed over while the partner is down (queued,
retried, delivered once it is back, nothing lost or doubled), the track and new positions
visible on the partner's side and judged by its rules, accepted by its officer over the API,
discharged there and closed at the origin with its guarantee released; a crash between the
partner's answer and marking the message delivered costs a duplicate answer, not a second
transit; forged and replayed hand-overs refused; both ledgers pass ``ledger fsck``."""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from smartcustoms.core.db import Database
from smartcustoms.core.roles import Role
from smartcustoms.core.schema import upgrade
from smartcustoms.core.tokens import create_token
from smartcustoms.core.users import create_user, get_user
from smartcustoms.federation.client import post_signed
from smartcustoms.federation.directory import add_partner
from smartcustoms.federation.inbox import INBOX_PATH
from smartcustoms.federation.service import outbox_of, own_signer
from smartcustoms.federation.signing import sign_request
from smartcustoms.federation.tables import DELIVERED, PENDING, InboxRow, OutboxRow
from smartcustoms.ledger.fsck import fsck
from smartcustoms.ledger.tlog.keys import Ed25519Signer
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.tables import PositionRow, TransitLiveRow, TransitRow
from smartcustoms.tracking.transits import hand_over_transit
from tests.conftest import PASSWORD
from tests.federation.instances import Instance, serve
from tests.services import POSTGRES_ADMIN_URL, unavailable
from tests.tracking.helpers import MALABA_KE, VOI, import_packaged, incoming, make_transit, position
from tests.waiting import wait_for

KE, UG = "Kenya Revenue Authority", "Uganda Revenue Authority"
DEVICE = "SEAL-FED-1"


@contextmanager
def _postgres_databases(count: int) -> Iterator[list[str]]:
    """``count`` fresh, migrated PostgreSQL databases, dropped afterwards (one per instance)."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        admin.dispose()
        unavailable("PostgreSQL", f"{make_url(POSTGRES_ADMIN_URL).host}: {type(exc).__name__}")
    names = [f"smartcustoms_fed_{secrets.token_hex(4)}" for _ in range(count)]
    urls = []
    try:
        for name in names:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(POSTGRES_ADMIN_URL).set(database=name)
            urls.append(url.render_as_string(hide_password=False))
            db = Database(urls[-1])
            upgrade(db)
            db.dispose()
        yield urls
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                    ),
                    {"n": name},
                )
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def pair(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[tuple[Instance, Instance]]:
    """Kenya and Uganda, partners, each with the packaged corridors; on SQLite files or on a
    PostgreSQL database each."""
    with ExitStack() as stack:
        urls: list[str | None] = [None, None]
        if request.param == "postgresql":
            databases = stack.enter_context(_postgres_databases(2))
            urls = [databases[0], databases[1]]
        ke = stack.enter_context(
            serve(tmp_path / "ke", KE, "KE", template=sqlite_template, database_url=urls[0])
        )
        ug = stack.enter_context(
            serve(tmp_path / "ug", UG, "UG", template=sqlite_template, database_url=urls[1])
        )
        for here, there in ((ke, ug), (ug, ke)):
            with here.ctx.unit() as unit:
                add_partner(unit, there.card().to_json(), own=here.card(), actor="admin")
        import_packaged(ke.ctx)
        import_packaged(ug.ctx)
        yield ke, ug


@dataclass
class _Answer:
    status_code: int
    text: str

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    def json(self) -> Any:
        return json.loads(self.text)


def _http(method: str, url: str, headers: dict[str, str], body: Any = None) -> _Answer:
    """One real HTTP request (standard library), its status and text."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - http to the local test instance
        url, data=data, method=method, headers=dict(headers)
    )
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - local test
            return _Answer(answer.status, answer.read().decode())
    except urllib.error.HTTPError as error:
        return _Answer(error.code, error.read().decode())


class httpx:  # reads like the client it stands for
    @staticmethod
    def get(url: str, headers: dict[str, str]) -> _Answer:
        return _http("GET", url, headers)

    @staticmethod
    def post(url: str, headers: dict[str, str], json: Any = None) -> _Answer:
        return _http("POST", url, headers, {} if json is None else json)

    @staticmethod
    def put(url: str, headers: dict[str, str]) -> _Answer:
        return _http("PUT", url, headers, {})


def _bearer(instance: Instance, name: str, *roles: Role) -> dict[str, str]:
    with instance.ctx.unit() as unit:
        create_user(unit, username=name, password=PASSWORD, roles=roles, actor="test")
        user = get_user(unit.session, name)
        secret = create_token(unit, user, name="t", days=1, max_days=10, actor="t").secret
    return {"authorization": f"Bearer {secret}"}


def _ingest(instance: Instance, points: list[tuple[float, float]], start: datetime) -> None:
    """Positions of the seal reach the origin's own ingest writer (as from a listener)."""
    writer = Ingestor(instance.ctx)
    writer.start()
    try:
        writer.submit(
            [
                incoming(position(DEVICE, where, at=start + timedelta(seconds=n)))
                for n, where in enumerate(points)
            ],
            DEVICE,
        )
    finally:
        writer.stop()


def _outbox(instance: Instance) -> list[OutboxRow]:
    with instance.ctx.db.session() as session:
        rows = list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
        session.expunge_all()
        return rows


def _incoming_transit(instance: Instance) -> TransitRow | None:
    with instance.ctx.db.session() as session:
        row = session.scalars(select(TransitRow).where(TransitRow.handed_in_from == KE)).first()
        if row is not None:
            session.expunge(row)
        return row


def _positions(instance: Instance) -> int:
    with instance.ctx.db.session() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(PositionRow).where(PositionRow.device_id == DEVICE)
            )
            or 0
        )


def _fsck_clean(instance: Instance) -> None:
    """``ledger fsck`` passes once the ledger is at rest: a checkpoint signed while fsck reads
    (after the last messages' records) reads as a moment's mismatch between the signing record
    and the checkpoints, so it is asked again for a few seconds; a real fault stays and fails."""
    from smartcustoms.ledger.service import ledger_of

    ledger_of(instance.ctx).flush()
    settings = instance.ctx.settings
    deadline = time.monotonic() + 10
    report = fsck(instance.ctx.db, settings.data_dir, settings.ledger_origin)
    while not report.ok and time.monotonic() < deadline:
        time.sleep(0.2)
        report = fsck(instance.ctx.db, settings.data_dir, settings.ledger_origin)
    assert report.ok, report.problems


def test_hand_over_to_a_partner_that_is_down_then_positions_accept_and_discharge(
    pair: tuple[Instance, Instance],
) -> None:
    ke, ug = pair
    transit_id = make_transit(ke.ctx, DEVICE)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    _ingest(ke, [VOI, VOI, MALABA_KE], start)
    assert _positions(ke) == 3

    ug.stop_serving()  # the partner is down at the moment of the hand-over
    with ke.ctx.unit() as unit:
        hand_over_transit(
            unit, transit_id, actor="officer", border="KE-MALABA", to_administration=UG
        )
    # Queued in the hand-over's transaction, tried, failed, retried with back-off.
    wait_for(lambda: any(r.attempts >= 2 for r in _outbox(ke)), message="no retry", timeout=20)
    queued = _outbox(ke)
    assert [r.kind for r in queued] == ["transit.handover"]
    assert queued[0].state == PENDING and queued[0].last_error
    assert _incoming_transit(ug) is None

    # A position stored meanwhile at the origin is forwarded after the hand-over, in order.
    _ingest(ke, [MALABA_KE], start + timedelta(seconds=3))
    wait_for(lambda: len(_outbox(ke)) == 2, message="positions not queued", timeout=10)
    assert [r.kind for r in _outbox(ke)] == ["transit.handover", "transit.positions"]

    ug.start_serving()
    wait_for(
        lambda: all(r.state == DELIVERED for r in _outbox(ke)), message="not delivered", timeout=30
    )
    handed = _incoming_transit(ug)
    assert handed is not None
    assert handed.origin_transit_id == transit_id and handed.status == "armed"
    assert handed.accepted_at is None and handed.responsible == KE
    assert _positions(ug) == 4  # the track so far (3) and the one forwarded after: none twice

    # New positions reach the partner's pipeline: its live row and its own rules.
    _ingest(ke, [MALABA_KE, MALABA_KE], start + timedelta(seconds=4))
    wait_for(lambda: _positions(ug) == 6, message="positions not forwarded", timeout=20)
    with ug.ctx.db.session() as session:
        live = session.get(TransitLiveRow, handed.id)
        assert live is not None and live.latitude == pytest.approx(MALABA_KE[1])
        assert live.zone == "KE-MALABA"

    # The partner's officer accepts over the API; a command-centre operator may not.
    officer = _bearer(ug, "ug-officer", Role.EXAMINING_OFFICER)
    operator = _bearer(ug, "ug-operator", Role.COMMAND_CENTRE_OPERATOR)
    accept_url = f"{ug.url}/api/tracking/transits/{handed.id}/accept"
    assert httpx.post(accept_url, headers=operator).status_code == 403
    accepted = httpx.post(accept_url, headers=officer)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["responsible"] == UG
    assert httpx.post(accept_url, headers=officer).status_code == 409
    page = httpx.get(f"{ug.url}/tracking/transits/{handed.id}", headers=officer)
    assert page.status_code == 200 and KE in page.text

    # Discharge at destination over there closes the transit here and releases the guarantee.
    discharged = httpx.post(
        f"{ug.url}/api/tracking/transits/{handed.id}/discharge",
        json={"seal_intact": True},
        headers=officer,
    )
    assert discharged.status_code == 200, discharged.text

    def closed() -> bool:
        with ke.ctx.db.session() as session:
            row = session.get(TransitRow, transit_id)
            return row is not None and row.guarantee_released_at is not None

    wait_for(closed, message="the origin was not closed", timeout=30)
    with ke.ctx.db.session() as session:
        row = session.get(TransitRow, transit_id)
        assert row is not None and row.status == "discharged"

    # Every step in both ledgers.
    wait_for(lambda: bool(ke.records("federation.guarantee_released")), timeout=10)
    sent = {r["kind"] for r in ke.records("federation.message_sent")}
    assert {"transit.handover", "transit.positions"} <= sent
    assert ke.records("tracking.transit_handed_over")
    assert ug.records("federation.transit_handed_in")[0]["origin_transit_id"] == transit_id
    assert ug.records("federation.transit_accepted")
    assert any(r["kind"] == "transit.discharged" for r in ug.records("federation.message_sent"))
    received = [r["message_id"] for r in ug.records("federation.message_received")]
    assert len(received) == len(set(received))  # nothing processed twice
    _fsck_clean(ke)
    _fsck_clean(ug)


def test_a_crash_between_the_answer_and_marking_it_delivered_sends_once(
    pair: tuple[Instance, Instance],
) -> None:
    ke, ug = pair
    outbox = outbox_of(ke.ctx)
    assert outbox is not None
    outbox.stop()  # the deliverer "dies": we play its part by hand
    transit_id = make_transit(ke.ctx, DEVICE)
    with ke.ctx.unit() as unit:
        hand_over_transit(
            unit, transit_id, actor="officer", border="KE-MALABA", to_administration=UG
        )
    (message,) = _outbox(ke)
    # It sent, the partner stored it, and the process died before marking it delivered.
    status, error = outbox.deliverer.send(ug.url, message.body.encode())
    assert (status, error) == (200, None)
    assert _incoming_transit(ug) is not None
    assert _outbox(ke)[0].state == PENDING
    # The next deliverer sends it again: answered as a duplicate, one transit over there.
    outbox.start()
    wait_for(lambda: _outbox(ke)[0].state == DELIVERED, message="not delivered", timeout=20)
    with ug.ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(TransitRow)) == 1
        assert session.scalar(select(func.count()).select_from(InboxRow)) == 1
    sent = [r for r in ke.records("federation.message_sent") if r["kind"] == "transit.handover"]
    assert [r["message_id"] for r in sent] == [message.message_id]
    assert len(ug.records("federation.transit_handed_in")) == 1
    _fsck_clean(ke)
    _fsck_clean(ug)


def test_a_forged_or_replayed_hand_over_is_refused(pair: tuple[Instance, Instance]) -> None:
    ke, ug = pair
    transit_id = make_transit(ke.ctx, DEVICE)
    with ke.ctx.unit() as unit:
        hand_over_transit(
            unit, transit_id, actor="officer", border="KE-MALABA", to_administration=UG
        )
    wait_for(lambda: _outbox(ke)[0].state == DELIVERED, message="not delivered", timeout=20)
    body = _outbox(ke)[0].body.encode()
    url = ug.url + INBOX_PATH
    # The same hand-over signed with a key Uganda does not know, under Kenya's key id.
    impostor = Ed25519Signer.generate(own_signer(ke.ctx).name)
    forged = post_signed(url, body, sign_request(impostor, "POST", url, body))
    assert forged.status == 401
    # Kenya's signature over another body (a different transit): refused.
    altered = body.replace(f'"id":{transit_id},'.encode(), f'"id":{transit_id + 1},'.encode())
    assert altered != body
    headers = sign_request(own_signer(ke.ctx), "POST", url, body)
    assert post_signed(url, altered, headers).status == 401
    # Kenya's genuine request: answered as the duplicate it is; replayed: the nonce is spent.
    assert post_signed(url, body, headers).body["duplicate"] is True
    replayed = post_signed(url, body, headers)
    assert replayed.status == 401 and replayed.error_code == "nonce_replayed"
    with ug.ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(TransitRow)) == 1
    refusals = ug.records("federation.request_refused")
    assert {r["code"] for r in refusals} >= {"nonce_replayed"}


def test_a_partner_account_reads_only_what_was_handed_to_it(
    pair: tuple[Instance, Instance],
) -> None:
    ke, _ug = pair
    handed = make_transit(ke.ctx, DEVICE)
    other = make_transit(ke.ctx, "SEAL-FED-2")
    with ke.ctx.unit() as unit:
        hand_over_transit(unit, handed, actor="officer", border="KE-MALABA", to_administration=UG)
    admin = _bearer(ke, "admin", Role.ADMINISTRATOR)
    partner = _bearer(ke, "ug-liaison", Role.PARTNER_ADMINISTRATION)
    path = f"/api/partners/{urllib.parse.quote(UG)}/accounts/ug-liaison"
    linked = httpx.put(ke.url + path, headers=admin)
    assert linked.status_code == 200, linked.text
    assert httpx.get(f"{ke.url}/api/tracking/transits/{handed}", headers=partner).is_success
    refused = httpx.get(f"{ke.url}/api/tracking/transits/{other}", headers=partner)
    assert refused.status_code == 403
