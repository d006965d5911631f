"""The restore drill, end to end, on SQLite and PostgreSQL, with a partner administration's
instance as witness: run, back up, go on, restore the older backup. The restored log keeps
storing but signs nothing (it is behind what it published and what the witness cosigned) until
it catches up from a later export — after which the witness cosigns it again, so it never
forked — or an operator accepts a fork, which is recorded and rotates the key."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from smartcustoms.backup import read_manifest
from smartcustoms.cli import app
from smartcustoms.core.context import AppContext
from smartcustoms.core.db import Database
from smartcustoms.core.settings import Settings
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.intake import import_records
from smartcustoms.ledger.fork_guard import read_state
from smartcustoms.ledger.fsck import fsck
from smartcustoms.ledger.service import Ledger, attach_ledger
from smartcustoms.ledger.store import read_tree_head, root_from_store
from smartcustoms.ledger.tlog.keys import parse_verifier_key
from smartcustoms.ledger.tlog.note import open_note, parse_note
from smartcustoms.ledger.witness import add_log
from smartcustoms.scans.storage import store_for
from smartcustoms.web.app import create_app
from tests.declarations.helpers import declaration
from tests.ledger.stored import records
from tests.ledger.test_two_instances import Partner, partner, wait_for  # noqa: F401
from tests.services import unavailable

runner = CliRunner()


@pytest.fixture
def drill(settings: Settings, partner: Partner, request: pytest.FixtureRequest) -> Settings:  # noqa: F811
    """Instance A's settings: its own origin for B, witnessed by B (quorum 1)."""
    postgres = (settings.database_url or "").startswith("postgresql")
    if postgres and (shutil.which("pg_dump") is None or shutil.which("pg_restore") is None):
        unavailable("pg_dump", "the PostgreSQL client tools are not installed")
    origin = f"customs.drill-{abs(hash(request.node.nodeid)) % 10**8}.example/ledger"
    return settings.model_copy(
        update={
            "ledger_origin": origin,
            "ledger_checkpoint_interval_ms": 50,
            "ledger_witnesses": [f"{partner.url} {partner.vkey}"],
            "ledger_witness_quorum": 1,
        }
    )


def cli(args: list[str], settings: Settings, stdin: str | None = None) -> tuple[int, str, str]:
    env = {
        "SMARTCUSTOMS_DATABASE_URL": settings.database_url,
        "SMARTCUSTOMS_DATA_DIR": str(settings.data_dir),
        "SMARTCUSTOMS_LEDGER_ORIGIN": settings.ledger_origin,
        "SMARTCUSTOMS_LEDGER_CHECKPOINT_INTERVAL_MS": "50",
        "SMARTCUSTOMS_LEDGER_WITNESSES": json.dumps(settings.ledger_witnesses),
        "SMARTCUSTOMS_LEDGER_WITNESS_QUORUM": str(settings.ledger_witness_quorum or 0),
    }
    result = runner.invoke(app, args, env=env, input=stdin)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@contextmanager
def instance(settings: Settings, partner: Partner) -> Iterator[tuple[AppContext, Ledger]]:  # noqa: F811
    """A running A (as `serve` would run it), B told to trust its current key."""
    ctx = AppContext.from_settings(settings)
    try:
        ledger = attach_ledger(ctx, start=False)
        with partner.db.writer.begin() as conn:
            add_log(conn, ledger.vkey())
        ledger.start()
        yield ctx, ledger
    finally:
        ctx.close()


def witnessed(ledger: Ledger) -> bool:
    """Everything stored is covered by a checkpoint the witness cosigned."""
    cp = ledger.checkpoint()
    return cp is not None and cp.size == ledger.size() and cp.quorum_met


def lodge(ctx: AppContext, lrn: str) -> None:
    with ctx.unit() as unit:
        record = SourceRecord("d0", data=declaration(lrn=lrn))
        import_records(unit.session, [record], source="api", submitted_by="drill")


def lrns(ctx: AppContext) -> list[str]:
    with ctx.db.engine.connect() as conn:
        return sorted(conn.execute(text("SELECT lrn FROM declarations")).scalars())


def witness_size(partner: Partner, origin: str) -> int:  # noqa: F811
    with partner.db.engine.connect() as conn:
        size = conn.execute(
            text("SELECT size FROM ledger_witnessed_logs WHERE origin = :o"), {"o": origin}
        ).scalar()
    return int(size or 0)


def find(ledger: Ledger, action: str) -> dict[str, Any]:
    for index in range(ledger.size() - 1, -1, -1):
        record = ledger.record(index)
        if record.get("action") == action:
            return record
    raise AssertionError(f"no {action} record in the ledger")


def test_restoring_an_older_backup_never_forks_the_signed_log(
    drill: Settings,
    partner: Partner,  # noqa: F811
    tmp_path: Path,
) -> None:
    a = drill
    scan = tmp_path / "scan.tif"
    scan.write_bytes(b"II*\x00 a scan, as the store keeps it" * 100)
    digest = hashlib.sha256(scan.read_bytes()).hexdigest()

    # 1. A runs: a declaration, a scan file, records; the witness cosigns.
    with instance(a, partner) as (ctx, ledger):
        lodge(ctx, "LRN-DRILL-1")
        store_for(a).put(scan, digest, "tiff", None)
        ledger.append_many(records(10))
        wait_for(lambda: witnessed(ledger))
    b1 = tmp_path / "b1"
    code, out, err = cli(["backup", str(b1)], a)
    assert code == 0, err
    first = read_manifest(b1)
    assert first.ledger.size > 10 and first.ledger.checkpoint_size == first.ledger.size
    assert {f.path for f in first.files} >= {
        first.database_file,
        "ledger/log.key",
        "ledger/published.json",
        f"scans/{digest[:2]}/{digest}.tif",
    }
    assert (b1 / "ledger/log.key").stat().st_mode & 0o077 == 0

    # 2. A goes on: another declaration and records, witnessed; then a later backup and an
    # export, the last things it did.
    with instance(a, partner) as (ctx, ledger):
        lodge(ctx, "LRN-DRILL-2")
        ledger.append_many(records(20, 10))
        wait_for(lambda: witnessed(ledger))
        witnessed_cp = ledger.checkpoint()
    assert witnessed_cp is not None and witnessed_cp.size > first.ledger.size
    b2 = tmp_path / "b2"
    assert cli(["backup", str(b2)], a)[0] == 0
    later = tmp_path / "later.jsonl"
    assert cli(["ledger", "export", str(later)], a)[0] == 0
    published = read_manifest(b2).ledger  # the backup is recorded (and signed) before its copy
    assert published.checkpoint_size == published.size > witnessed_cp.size
    seen = witness_size(partner, a.ledger_origin)
    assert seen >= witnessed_cp.size

    # 3. The disk is lost; the older backup is restored over what is left.
    shutil.rmtree(store_for(a).root)
    code, out, err = cli(["restore", str(b1)], a)
    assert code == 1 and "not empty" in err and "--force" in err
    code, out, err = cli(["restore", str(b1), "--force"], a)
    assert code == 0, err
    assert "ledger signing held" in err
    assert f"signed a checkpoint of size {published.size}" in err

    # The data is back as it was at the backup.
    with instance(a, partner) as (ctx, ledger):
        assert lrns(ctx) == ["LRN-DRILL-1"]
        assert store_for(a).verify(digest, "tiff")
        # Appends are stored and acknowledged, but no checkpoint is signed; everyone says why.
        index = ledger.append(records(1, 999)[0])
        assert index >= first.ledger.size
        assert not ledger.wait_covered(index, 1.0)
        cp = ledger.checkpoint()
        assert cp is not None and cp.size == first.ledger.checkpoint_size
        hold = ledger.guard.current(ctx.db)
        assert hold is not None and hold.code == "behind_mark"
        # The witness is offered the restored log's latest checkpoint when A starts, and says
        # it cosigned more: that is kept beside the mark, outside the database.
        wait_for(lambda: any(w.size == seen for w in ledger.guard.state().witnesses))
        with TestClient(create_app(ctx)) as web:
            health = web.get("/health")
        assert health.status_code == 200
        assert health.json() == {
            "status": "degraded",
            "ledger": "signing_held",
            "reason": "behind_mark",
        }
    code, out, err = cli(["ledger", "append", "-"], a, '{"type": "drill.after_restore", "v": 1}')
    assert code == 0 and int(out) > index
    code, out, err = cli(["ledger", "status"], a)
    assert code == 1 and "signing held (behind_mark)" in err
    witness = "+".join(partner.vkey.split("+")[:2])
    assert f"witness {witness}: ahead at size {seen}" in out
    assert cli(["ledger", "fsck", "--no-records"], a)[0] == 1
    assert witness_size(partner, a.ledger_origin) == seen  # nothing new reached it

    # 4. Catch up from the later backup (SQLite) or export: the published entries go back where
    # they were, the ones stored since after them; the log signs again with the same key, and
    # the witness cosigns that, which it does only for a tree extending the one it cosigned.
    if a.database_url and a.database_url.startswith("postgresql"):
        code, out, err = cli(["ledger", "reconcile", "--from", str(b2)], a)
        assert code == 1 and "restore it into a scratch database" in err
        source = later
    else:
        source = b2
    code, out, err = cli(["ledger", "reconcile", "--from", str(source)], a)
    assert code == 0, err
    assert "caught up" in out
    code, out, err = cli(["ledger", "status"], a)
    assert code == 0 and "signing: ok" in out, err
    assert cli(["ledger", "fsck", "--no-records"], a)[0] == 0
    history = entries_of(later)
    with instance(a, partner) as (ctx, ledger):
        for i in range(published.size):  # the published history, unchanged
            assert ledger.entry(i) == history[i]
        moved = [ledger.record(i) for i in range(published.size, ledger.size())]
        assert {"type": "test.entry", "v": 1, "n": 999, "note": "record 999"} in moved
        assert any(r.get("type") == "drill.after_restore" for r in moved)
        assert find(ledger, "ledger_caught_up")["actor"].startswith("cli:")
        ledger.append_many(records(3, 2000))
        wait_for(lambda: witnessed(ledger))
        cp = ledger.checkpoint()
        assert cp is not None and cp.key == published.checkpoint_key
    assert witness_size(partner, a.ledger_origin) == cp.size

    # 5. No later copy this time: restore the old backup again and accept the fork.
    assert cli(["restore", str(b1), "--force"], a)[0] == 0
    code, out, err = cli(["ledger", "reconcile", "--accept-fork"], a)
    assert code == 1 and "--reason" in err
    code, out, err = cli(
        ["ledger", "reconcile", "--accept-fork", "--reason", "drill: only b1 survived"], a
    )
    assert code == 0, err
    new_vkey = out.strip().splitlines()[-1]
    assert "fork accepted" in out and not new_vkey.startswith(f"{published.checkpoint_key}+")
    code, out, err = cli(["ledger", "status"], a)
    assert code == 0 and "reason: drill: only b1 survived" in out, err
    state = read_state(a.data_dir, a.ledger_origin)
    assert [f.old_key for f in state.forks] == [published.checkpoint_key]
    with instance(a, partner) as (ctx, ledger):
        record = find(ledger, "ledger_fork_accepted")
        assert "drill: only b1 survived" in record["target"]
        assert f"{published.checkpoint_key} -> " in record["target"]
        ledger.append_many(records(2, 3000))
        assert ledger.wait_covered(ledger.size() - 1, 10)
        cp = ledger.checkpoint()
        assert cp is not None and cp.size == ledger.size()
        # Signed by the new key alone: the old one never signs the new history.
        signers = [f"{s.name}+{s.key_id:08x}" for s in parse_note(cp.note).signatures]
        assert signers == [cp.key] and cp.key != published.checkpoint_key
        open_note(cp.note, [parse_verifier_key(new_vkey)])
        assert ledger.guard.current(ctx.db) is None  # the witness's old view is settled
    assert cli(["ledger", "fsck", "--no-records"], a)[0] == 0


def entries_of(export: Path) -> list[bytes]:
    out: list[bytes] = []
    for line in export.read_text().splitlines():
        item = json.loads(line)
        if "entries" in item:
            out.extend(base64.b64decode(e) for e in item["entries"])
    return out


def test_a_restore_onto_a_new_machine_waits_for_the_witness(
    drill: Settings,
    partner: Partner,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A machine without the log's signing record learns from the witness whether the backup
    is behind what it cosigned, and signs only once the witness confirms it is not."""
    a = drill
    with instance(a, partner) as (_, ledger):
        ledger.append_many(records(5))
        wait_for(lambda: witnessed(ledger))
    old = tmp_path / "old"
    assert cli(["backup", str(old)], a)[0] == 0
    with instance(a, partner) as (_, ledger):
        ledger.append_many(records(5, 5))
        wait_for(lambda: witnessed(ledger))
    latest = tmp_path / "latest"
    assert cli(["backup", str(latest)], a)[0] == 0

    # The old backup on a new machine: the witness says it cosigned more; nothing is signed.
    elsewhere = a.model_copy(update={"data_dir": tmp_path / "new-machine"})
    code, _, err = cli(["restore", str(old), "--force"], elsewhere)
    assert code == 0 and "a witness must cosign" in err, err
    with instance(elsewhere, partner) as (ctx, ledger):
        wait_for(
            lambda: (h := ledger.guard.current(ctx.db)) is not None and h.code == "behind_witness"
        )
        index = ledger.append(records(1, 100)[0])
        assert not ledger.wait_covered(index, 1.0)

    # The latest backup on another new machine: the witness confirms it, and it signs again.
    again = a.model_copy(update={"data_dir": tmp_path / "another-machine"})
    assert cli(["restore", str(latest), "--force"], again)[0] == 0
    with instance(again, partner) as (ctx, ledger):
        wait_for(lambda: ledger.guard.current(ctx.db) is None)
        ledger.append_many(records(2, 200))
        wait_for(lambda: witnessed(ledger))


def test_a_damaged_backup_is_refused_before_anything_is_touched(
    drill: Settings,
    partner: Partner,  # noqa: F811
    tmp_path: Path,
) -> None:
    with instance(drill, partner) as (_, ledger):
        ledger.append_many(records(3))
    backup = tmp_path / "b"
    assert cli(["backup", str(backup)], drill)[0] == 0
    manifest = read_manifest(backup)
    with (backup / manifest.database_file).open("r+b") as fh:
        fh.seek(200)
        byte = fh.read(1)
        fh.seek(200)
        fh.write(bytes([byte[0] ^ 1]))
    code, _, err = cli(["restore", str(backup), "--force"], drill)
    assert code == 1 and f"{manifest.database_file} was changed or damaged" in err
    assert cli(["backup", str(backup)], drill)[0] == 1  # never into a folder that holds files


def test_a_backup_while_the_log_is_appended_to_is_one_consistent_state(
    drill: Settings,
    partner: Partner,  # noqa: F811
    tmp_path: Path,
) -> None:
    a = drill.model_copy(update={"ledger_witnesses": [], "ledger_witness_quorum": None})
    backup = tmp_path / "online"
    stop = threading.Event()
    with instance(a, partner) as (_, ledger):

        def keep_appending() -> None:
            n = 0
            while not stop.is_set():
                ledger.append_many(records(7, n))
                n += 7

        writer = threading.Thread(target=keep_appending)
        writer.start()
        try:
            wait_for(lambda: ledger.size() > 50)
            code, _, err = cli(["backup", str(backup)], a)
        finally:
            stop.set()
            writer.join()
        assert code == 0, err
        total = ledger.size()
    saved = read_manifest(backup).ledger
    assert 50 < saved.size < total
    # Restored elsewhere (a new key directory: nothing there says what was published), the
    # copy is exactly the tree the manifest names, whole.
    elsewhere = a.model_copy(update={"data_dir": tmp_path / "elsewhere"})
    assert cli(["restore", str(backup), "--force"], elsewhere)[0] == 0
    db = Database(a.sqlalchemy_url)
    try:
        with db.engine.connect() as conn:
            head = read_tree_head(conn)
        assert head.size >= saved.size  # the restore is recorded (held: no key directory record)
        with db.engine.connect() as conn:
            assert root_from_store(conn, saved.size).hex() == saved.root
        report = fsck(db, None, a.ledger_origin)
        assert report.ok, report.problems
    finally:
        db.dispose()


def test_catching_up_across_a_key_rotation_made_after_the_backup(
    drill: Settings,
    partner: Partner,  # noqa: F811
    tmp_path: Path,
) -> None:
    a = drill.model_copy(update={"ledger_witnesses": [], "ledger_witness_quorum": None})
    with instance(a, partner) as (_, ledger):
        ledger.append_many(records(5))
        old_key = ledger.vkey()
    b1 = tmp_path / "b1"
    assert cli(["backup", str(b1)], a)[0] == 0
    code, out, err = cli(["ledger", "rotate-key"], a)
    assert code == 0, err
    with instance(a, partner) as (_, ledger):
        ledger.append_many(records(5, 5))
        new_key = ledger.vkey()
    assert new_key != old_key
    later = tmp_path / "later.jsonl"
    assert cli(["ledger", "export", str(later)], a)[0] == 0

    # The old backup brings the old key back as log.key (the newer one is kept aside) and a
    # database that names the old key: held. The export names the rotation; the newer key is
    # found in the key directory and put back.
    code, _, err = cli(["restore", str(b1), "--force"], a)
    assert code == 0 and "ledger signing held" in err, err
    assert any(p.name.startswith("log.key.replaced-") for p in (a.data_dir / "ledger").iterdir())
    code, out, err = cli(["ledger", "reconcile", "--from", str(later)], a)
    assert code == 0, err
    code, out, err = cli(["ledger", "status"], a)
    assert code == 0 and "signing: ok" in out, err
    with instance(a, partner) as (_, ledger):
        assert ledger.vkey() == new_key
        ledger.append_many(records(2, 100))
        assert ledger.wait_covered(ledger.size() - 1, 10)
        cp = ledger.checkpoint()
        assert cp is not None and cp.key == "+".join(new_key.split("+")[:2])
    assert cli(["ledger", "fsck", "--no-records"], a)[0] == 0
