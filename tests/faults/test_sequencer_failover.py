"""Killing the instance that holds the ledger's sequencer hands it to the other within seconds,
with no gap or fork, while both lodge: a short run of ``bench/ledger_failover.py`` on SQLite and
PostgreSQL (the full one kills 6 times per database). Two kills: the sequencer moves to the second
instance, then back to the first, restarted meanwhile as the standby."""

from __future__ import annotations

import pytest

from tests.faults.bench_runs import run_json

TAKEOVER_LIMIT_S = 10.0


@pytest.mark.slow
@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_the_sequencer_moves_to_the_survivor_under_load(
    database: str, request: pytest.FixtureRequest
) -> None:
    args = ["--kills", "2", "--database", database, "--window", "1.5", "--json"]
    if database == "postgresql":
        args += ["--postgres-url", request.getfixturevalue("postgres_url")]
    result, stderr = run_json("ledger_failover.py", args)
    failovers = result["failovers"]
    assert len(failovers) == 2, result
    for failover in failovers:
        # The survivor took the sequencer over (-1: never) and went on lodging through the kill.
        assert 0 <= failover["takeover_s"] <= TAKEOVER_LIMIT_S, failover
        assert failover["after_per_s"] > 0, failover
        assert failover["survivor_errors"] == 0, failover
    assert result["acknowledged_lodgings"] > 30, result
    assert result["not_stored"] == [], result
    assert result["missing_from_ledger"] == [], result
    assert result["fsck_problems"] == [], result
    assert result["returncode"] == 0, stderr
