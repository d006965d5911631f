"""Two web workers and two listener processes on one PostgreSQL and one MQTT broker at once
(``bench/scale.py --check``): every position stored once, one alert per opened seal counting
each report, every acknowledged lodging stored, each alert and lane decision once in the ledger,
and one ledger sequence (``ledger fsck``)."""

from __future__ import annotations

import pytest

from tests.faults.bench_runs import run_json
from tests.services import reachable, unavailable

BROKER = ("127.0.0.1", 1883)


@pytest.mark.slow
@pytest.mark.postgres
def test_two_web_workers_and_two_listeners_at_once(postgres_url: str) -> None:
    if not reachable(*BROKER):
        unavailable("MQTT broker", f"{BROKER[0]}:{BROKER[1]}")
    args = ["--check", "--json", "--postgres-url", postgres_url, "--positions", "8000",
            "--seconds", "6", "--history", "1000", "--opened", "5"]  # fmt: skip
    result, stderr = run_json("scale.py", args, timeout=900)
    assert result["findings"] == [], result
    assert result["positions_stored"] == 8000, result
    assert result["alerts"] >= 5, result  # the five opened seals, each once
    assert result["lodgings_acknowledged"] > 10, result
    assert result["ledger_ok"], result
    assert result["returncode"] == 0, stderr
