"""Every acknowledged decision survives ``kill -9`` with its ledger entry: a short run of
``bench/faults.py`` (the full one kills 20 times per database), on SQLite and PostgreSQL.

The server (web workers and device listeners) is killed at random moments under lodging, scan
and e-seal load and started again; then every 201 the clients got must be stored, and every
stored lane decision, scan, review and alert must have its ledger record.
"""

from __future__ import annotations

import pytest

from tests.faults.bench_runs import run_json


@pytest.mark.slow
@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_kill_9_under_load_loses_nothing_acknowledged(
    database: str, request: pytest.FixtureRequest
) -> None:
    args = ["--kills", "5", "--database", database, "--min-gap", "0.5", "--max-gap", "2", "--json"]
    if database == "postgresql":
        args += ["--postgres-url", request.getfixturevalue("postgres_url")]
    result, stderr = run_json("faults.py", args)
    assert result["kills"] == 5
    # The load ran through the kills: things were acknowledged, and the kills cut requests.
    assert result["acknowledged_lodgings"] > 20, result
    assert result["acknowledged_scans"] > 0 and result["alerts"] > 0, result
    assert result["not_stored"] == [], result
    assert result["missing_from_ledger"] == [], result
    assert result["fsck_problems"] == [], result
    assert result["returncode"] == 0, stderr
