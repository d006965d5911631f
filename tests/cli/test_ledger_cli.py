"""`smartcustoms ledger` as an operator, an auditor and a partner administration use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from smartcustoms.cli import app
from smartcustoms.core.context import AppContext
from smartcustoms.core.db import Database
from smartcustoms.core.events import LoginFailed
from smartcustoms.core.settings import load_settings
from smartcustoms.ledger.service import attach_ledger
from tests.ledger.helpers import vectors
from tests.ledger.stored import sql

runner = CliRunner()


def run(args: list[str], database_url: str, stdin: str | None = None) -> tuple[int, str, str]:
    env = {
        "SMARTCUSTOMS_DATABASE_URL": database_url,
        "SMARTCUSTOMS_LEDGER_CHECKPOINT_INTERVAL_MS": "50",
    }
    result = runner.invoke(app, args, env=env, input=stdin)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_append_prove_verify_fsck(database_url: str, tmp_path: Path) -> None:
    records = tmp_path / "records.jsonl"
    records.write_text(
        '{"type": "cms.release", "v": 1, "declaration": "22KE0001", "duty": "1250.00"}\n'
        '{"type": "cms.release", "v": 1, "declaration": "22KE0002", "duty": "80.50"}\n'
    )
    assert run(["ledger", "append", str(records)], database_url)[:2] == (0, "0\n1\n")
    code, out, _ = run(["ledger", "append", "-"], database_url, '{"type": "cms.hold", "v": 1}')
    assert (code, out) == (0, "2\n")

    code, checkpoint, _ = run(["ledger", "checkpoint"], database_url)
    assert code == 0 and checkpoint.split("\n")[1] == "3"  # signed when the command ended
    code, vkey, _ = run(["ledger", "vkey"], database_url)
    vkey = vkey.strip()
    assert code == 0 and vkey.startswith("localhost/ledger+")

    bundle = tmp_path / "entry-1.proof"
    assert run(["ledger", "prove", "1", "-o", str(bundle)], database_url)[0] == 0
    # verify uses nothing but the bundle and the key: no database is even configured here.
    code, out, _ = run(
        ["ledger", "verify", str(bundle), "--vkey", vkey], "sqlite:////nonexistent/x.db"
    )
    assert code == 0, out
    assert "verified: entry 1 is in localhost/ledger (size 3)" in out
    assert json.loads(out[out.index("{") :])["declaration"] == "22KE0002"

    code, out, err = run(["ledger", "fsck"], database_url)
    assert code == 0 and "ledger ok: 3 entries" in out
    db = Database(database_url)
    data = bytearray(sql(db, "SELECT data FROM ledger_tail_entries WHERE idx = 1")[0][0])
    data[5] ^= 1
    sql(db, "UPDATE ledger_tail_entries SET data = :d WHERE idx = 1", d=bytes(data))
    db.dispose()
    code, out, err = run(["ledger", "fsck"], database_url)
    assert code == 1 and "ledger damaged: entry 1 was changed" in err


def test_verify_names_what_is_wrong(database_url: str, tmp_path: Path) -> None:
    run(["ledger", "append", "-"], database_url, '{"type": "cms.hold", "v": 1}')
    bundle = tmp_path / "b.proof"
    run(["ledger", "prove", "0", "-o", str(bundle)], database_url)
    vkey = run(["ledger", "vkey"], database_url)[1].strip()
    witness = vectors("c2sp_derived_checkpoint_cosignature_witness_vectors")["witnesses"][0]
    cases = [
        ([str(bundle), "--vkey", vkey[:-3] + "AAA"], "not verified"),
        ([str(bundle), "--vkey", "nonsense"], "verifier key"),
        (
            [str(bundle), "--vkey", vkey, "--witness-vkey", witness["vkey_cosignature_v1"]],
            "cosigned",
        ),
        ([str(tmp_path / "missing.proof"), "--vkey", vkey], "no such file"),
    ]
    for args, message in cases:
        code, _, err = run(["ledger", "verify", *args], database_url)
        assert code == 1 and message in err, (args, err)
    bundle.write_text(bundle.read_text().replace("index 0", "index 1"))
    code, _, err = run(["ledger", "verify", str(bundle), "--vkey", vkey], database_url)
    assert code == 1 and "not verified:" in err


def test_bad_records_are_refused_with_the_reason(database_url: str) -> None:
    for stdin, message in [
        ("not json", "not JSON"),
        ('{"type": "x.y", "v": 1, "weight": 1.5}', "floats are not allowed"),
        ('{"v": 1}', "record type"),
        ("[]", "no records"),
    ]:
        code, _, err = run(["ledger", "append", "-"], database_url, stdin)
        assert code == 1 and message in err, (stdin, err)
    code, _, err = run(["ledger", "prove", "7"], database_url)
    assert (code == 1 and "has no entry 7" in err) or "not covered" in err


def test_rotation_commitments_and_witnessing(database_url: str, tmp_path: Path) -> None:
    run(["ledger", "append", "-"], database_url, '{"type": "cms.hold", "v": 1}')
    old = run(["ledger", "vkey"], database_url)[1].strip()
    code, out, _ = run(["ledger", "rotate-key"], database_url)
    assert code == 0 and "ledger key rotated" in out
    new = run(["ledger", "vkey"], database_url)[1].strip()
    assert new != old and new in out
    listed = run(["ledger", "vkey", "--all"], database_url)[1]
    assert f"{new}  current" in listed and f"{old}  retired" in listed

    settings = load_settings(None, database_url=database_url, ledger_checkpoint_interval_ms=50)
    ctx = AppContext.from_settings(settings)
    try:
        ledger = attach_ledger(ctx)
        ctx.record(LoginFailed(actor="mallory", address="203.0.113.9", reason="bad_credentials"))
        ledger.flush()
        rotation, failure = ledger.record(ledger.size() - 2), ledger.record(ledger.size() - 1)
    finally:
        ctx.close()
    assert rotation["action"] == "ledger_key_rotated"
    commitment = str(failure["address"])
    code, out, _ = run(["ledger", "open", commitment], database_url)
    opening = json.loads(out)
    assert code == 0 and opening["value"] == "203.0.113.9"
    check = ["ledger", "check-commitment", commitment, "--salt", opening["salt"]]
    assert run([*check, "--value", '"203.0.113.9"'], database_url)[0] == 0
    assert run([*check, "--value", '"203.0.113.8"'], database_url)[0] == 1
    assert run(["ledger", "open", "sha256:" + "0" * 64], database_url)[0] == 1

    partner = vectors("c2sp_derived_checkpoint_cosignature_witness_vectors")["log"]["vkey"]
    code, out, _ = run(["ledger", "witness", "add-log", partner], database_url)
    assert code == 0 and "witnessing customs.example/ledger-test-v1" in out
    assert (
        "customs.example/ledger-test-v1  size 0"
        in run(["ledger", "witness", "list"], database_url)[1]
    )
    code, out, _ = run(["ledger", "witness", "vkey"], database_url)
    assert code == 0 and out.startswith("localhost/ledger/witness+")
    assert run(["ledger", "witness", "add-log", "not-a-key"], database_url)[0] == 1


def test_errors_are_one_line_without_a_trace(tmp_path: Path) -> None:
    bundle = tmp_path / "garbage.proof"
    bundle.write_text("c2sp.org/tlog-proof@v1\nindex x\n\n")
    done = subprocess.run(
        [sys.executable, "-m", "smartcustoms", "ledger", "verify", str(bundle), "--vkey", "k+1+A"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "SMARTCUSTOMS_DATA_DIR": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 1
    assert "not verified" in done.stderr and "Traceback" not in done.stderr + done.stdout
