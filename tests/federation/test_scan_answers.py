"""A partner's scan examined here answers back by whatever path records the examination: not
the web route but the CLI's context calling the scans' own use case, as a command does. Two real
instances: Kenya shares a scan, Uganda examines it outside its web routes, exactly one
``scan.examined`` is queued to Kenya in the examination's transaction (with its ledger record)
and reaches Kenya's scan; Uganda's examination of its own scan queues nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import click
import pytest
from sqlalchemy import select

from smartcustoms.cli.common import open_context
from smartcustoms.core.context import AppContext
from smartcustoms.federation.directory import get_partner
from smartcustoms.federation.scans_shared import share_scan
from smartcustoms.federation.scans_tables import SENT, SharedScanRow
from smartcustoms.federation.scans_wire import EXAMINED
from smartcustoms.federation.tables import OutboxRow
from smartcustoms.scans.reviews import record_examination
from smartcustoms.scans.storage import store_for
from tests.federation.instances import Instance
from tests.federation.test_handover import (  # noqa: F401 - the two instances, reused
    KE,
    UG,
    pair,
)
from tests.federation.test_scans_shared import _delivered, _received, _scan
from tests.scans.stored import CLEAN, FLAGGED, case
from tests.waiting import wait_for

#: The settings a command run against Uganda's instance reads from its environment.
_CLI_SETTINGS = (
    "database_url",
    "data_dir",
    "secret_key",
    "administration_name",
    "ledger_origin",
    "federation_country",
    "federation_url",
)


@contextmanager
def _command_context(instance: Instance, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppContext]:
    """The context a ``smartcustoms`` command opens on ``instance``'s database (its own bus,
    wired by the CLI, not by the web application)."""
    settings = instance.ctx.settings
    for name in _CLI_SETTINGS:
        value = getattr(settings, name)
        monkeypatch.setenv(f"SMARTCUSTOMS_{name.upper()}", str(value))
    with open_context(click.Context(click.Command("examine"), obj={}), migrate_empty=False) as ctx:
        assert ctx.bus is not instance.ctx.bus
        yield ctx


def _examined_messages(instance: Instance) -> list[OutboxRow]:
    with instance.ctx.db.session() as session:
        rows = list(
            session.scalars(
                select(OutboxRow).where(OutboxRow.kind == EXAMINED).order_by(OutboxRow.id)
            )
        )
        session.expunge_all()
        return rows


def test_an_examination_recorded_by_a_command_flows_back_once(
    pair: tuple[Instance, Instance],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ke, ug = pair
    scan_id = _scan(ke, case(FLAGGED), tmp_path / "ke")
    with ke.ctx.unit() as unit:
        share_scan(
            unit, store_for(ke.ctx.settings), scan_id, UG, actor="ke-analyst", own_name=KE,
            max_bytes=ke.ctx.settings.max_upload_bytes,
        )  # fmt: skip
    _delivered(ke)
    (received,) = _received(ug)
    own_scan = _scan(ug, case(CLEAN), tmp_path / "ug")

    with _command_context(ug, monkeypatch) as ctx:
        # Uganda's own scan: nothing goes to any partner.
        with ctx.unit() as unit:
            record_examination(unit, own_scan, irregular=False, actor="ug-officer")
        assert _examined_messages(ug) == []
        # Kenya's scan: the result goes back to Kenya, once.
        with ctx.unit() as unit:
            record_examination(
                unit, received.scan_id, irregular=True, codes=["concealment"],
                found_kg=Decimal("42.5"), actor="ug-officer",
            )  # fmt: skip

    (message,) = _examined_messages(ug)
    with ug.ctx.db.session() as session:
        assert message.partner_id == get_partner(session, KE).id
    (answered,) = _received(ug)
    assert answered.answer_message_id == message.message_id
    sent = ug.records("federation.scan_examination_sent")
    assert [(r["partner"], r["origin_scan_id"], r["message_id"]) for r in sent] == [
        (KE, scan_id, message.message_id)
    ]

    # Uganda's server delivers what the command queued; Kenya's scan shows the result.
    def came_back() -> bool:
        with ke.ctx.db.session() as session:
            row = session.scalars(
                select(SharedScanRow).where(SharedScanRow.direction == SENT)
            ).one()
            return row.examined_at is not None

    wait_for(came_back, message="the examination did not flow back", timeout=60)
    with ke.ctx.db.session() as session:
        row = session.scalars(select(SharedScanRow).where(SharedScanRow.direction == SENT)).one()
        assert row.examined_irregular is True and row.examined_codes == ["concealment"]
        assert str(row.examined_found_kg) == "42.500" and row.examined_by == "ug-officer"
    assert len(_examined_messages(ug)) == 1  # and nothing more was queued since


def test_the_recorder_matches_the_scans_examination_event_by_its_name() -> None:
    """Matched by name so that commands need not load the scans package: the name must be the
    event's (a rename there would silently stop every answer)."""
    from smartcustoms.federation.scan_answers import EXAMINED_EVENT
    from smartcustoms.scans.events import ScanExamined

    assert ScanExamined.type == EXAMINED_EVENT
