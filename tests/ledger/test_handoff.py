"""One sequencer per database: others hand their appends to it, and take over when it stops."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import SmartCustomsError
from smartcustoms.core.settings import Settings
from smartcustoms.ledger.keystore import load_log_signer, register_log_key
from smartcustoms.ledger.leader import AdvisoryLease, FileLease
from smartcustoms.ledger.service import Ledger, attach_ledger
from smartcustoms.ledger.tlog.records import parse_record
from tests.ledger.stored import records, second_context
from tests.waiting import wait_for


@pytest.fixture
def replica(ledger: Ledger, ledger_settings: Settings, tmp_path: Path) -> Iterator[AppContext]:
    """A second instance on the same database with a copy of the log key (as the README says).

    The first instance has appended once, so it is the sequencer and its key exists.
    """
    ledger.append({"type": "test.first", "v": 1})
    wait_for(lambda: ledger.sequencer.is_leader)
    shutil.copytree(ledger_settings.data_dir / "ledger", tmp_path / "replica" / "ledger")
    ctx = second_context(ledger_settings, tmp_path / "replica")
    yield ctx
    ctx.close()


def test_a_second_instance_hands_appends_to_the_sequencer(
    ledger: Ledger, replica: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused: list[object] = []  # leases refused since the replica started: it asked, and lost
    for lease in (FileLease, AdvisoryLease):

        def counting(self: object, acquire: object = lease.try_acquire) -> bool:
            won = bool(acquire(self))  # type: ignore[operator]
            if not won:
                refused.append(self)
            return won

        monkeypatch.setattr(lease, "try_acquire", counting)
    other = attach_ledger(replica)
    wait_for(lambda: refused, message="the replica never asked for the sequencer's lease")
    assert not other.sequencer.is_leader
    indexes = other.append_many(records(5))
    assert indexes == [1, 2, 3, 4, 5]
    assert ledger.append({"type": "test.mine", "v": 1}) == 6
    assert [parse_record(other.entry(i))["type"] for i in range(7)] == [
        "test.first",
        *["test.entry"] * 5,
        "test.mine",
    ]
    assert other.wait_covered(5, 10)  # signed by the sequencer, seen by the replica


def test_the_replica_takes_over_when_the_sequencer_stops(
    ledger: Ledger, replica: AppContext
) -> None:
    other = attach_ledger(replica)
    ledger.stop()
    wait_for(lambda: other.sequencer.is_leader)
    assert other.append({"type": "test.second", "v": 1}) == 1
    assert other.wait_covered(1, 10)
    assert other.checkpoint().key == ledger.checkpoint().key  # type: ignore[union-attr]


def test_a_replica_with_a_foreign_key_never_signs(
    ledger: Ledger, ledger_settings: Settings, tmp_path: Path
) -> None:
    ledger.append({"type": "test.first", "v": 1})
    ctx = second_context(ledger_settings, tmp_path / "stranger")
    try:
        signer = load_log_signer(tmp_path / "stranger", ledger_settings.ledger_origin)
        with ctx.db.writer.begin() as conn, pytest.raises(SmartCustomsError) as err:
            register_log_key(conn, signer)
        assert err.value.code == "not_current_key"
        assert "copy log.key" in err.value.message
    finally:
        ctx.close()
