"""Two smartcustoms instances on loopback: A's ledger is witnessed by B, a partner
administration running `smartcustoms ledger witness serve` as its own process."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.db import Database
from smartcustoms.core.schema import upgrade
from smartcustoms.core.settings import Settings
from smartcustoms.ledger.keystore import load_log_signer, load_witness_signer
from smartcustoms.ledger.service import Ledger, attach_ledger
from smartcustoms.ledger.tlog.checkpoint import Checkpoint, sign_checkpoint
from smartcustoms.ledger.tlog.cosignature import parse_witness_verifier_key, verify_cosignature_line
from smartcustoms.ledger.tlog.keys import Ed25519Signer
from smartcustoms.ledger.tlog.note import parse_note
from smartcustoms.ledger.tlog.offline import check_bundle
from smartcustoms.ledger.tlog.proof import consistency_proof_ids
from smartcustoms.ledger.witness import add_log
from tests.ledger.stored import records, sql
from tests.waiting import wait_for

B_ORIGIN = "customs.partner-b.example/ledger"


@dataclass(frozen=True)
class Partner:
    url: str  # B's witness submission prefix
    vkey: str  # B's witness key
    db: Database  # B's database (the test tells B which logs to witness, as `add-log` does)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(url: str, body: bytes) -> tuple[int, str, str]:
    req = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            return resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode()


@pytest.fixture(scope="module")
def partner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Partner]:
    """B, started once for this module: a database, a witness key and the witness server."""
    folder = tmp_path_factory.mktemp("partner-b")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCUSTOMS_")}
    env |= {
        "SMARTCUSTOMS_DATA_DIR": str(folder),
        "SMARTCUSTOMS_LEDGER_ORIGIN": B_ORIGIN,
        "SMARTCUSTOMS_LOG_LEVEL": "WARNING",
    }
    db = Database(f"sqlite:///{folder / 'smartcustoms.db'}")
    upgrade(db)
    vkey = load_witness_signer(folder, B_ORIGIN + "/witness").verifier().key_string()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "smartcustoms", "ledger", "witness", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            try:
                with urllib.request.urlopen(url + "/health", timeout=1):  # noqa: S310
                    return True
            except OSError:
                assert server.poll() is None, server.stderr.read()  # type: ignore[union-attr]
                return False

        # A cold start on a loaded machine takes a while.
        wait_for(up, 60.0, interval=0.05, message="the witness server did not start")
        yield Partner(url + "/ledger/witness", vkey, db)
    finally:
        server.terminate()
        server.wait(20)
        server.stderr.close()  # type: ignore[union-attr]
        db.dispose()


@pytest.fixture
def log_a(
    ledger_settings: Settings, partner: Partner, request: pytest.FixtureRequest
) -> Iterator[Ledger]:
    """A, witnessed by B. Each test's A is a new log (its own origin and key) for B."""
    origin = f"customs.a-{abs(hash(request.node.nodeid)) % 10**8}.example/ledger"
    settings = ledger_settings.model_copy(
        update={
            "ledger_origin": origin,
            "ledger_witnesses": [f"{partner.url} {partner.vkey}"],
            "ledger_witness_quorum": 1,
        }
    )
    ctx = AppContext.from_settings(settings)
    try:
        ledger = attach_ledger(ctx, start=False)
        with partner.db.writer.begin() as conn:
            add_log(conn, ledger.vkey())  # B is told to trust A's key
        ledger.start()
        yield ledger
    finally:
        ctx.close()


def cosigned(ledger: Ledger, size: int) -> bool:
    cp = ledger.checkpoint()
    return cp is not None and cp.size >= size and cp.quorum_met


def test_a_is_cosigned_by_b_and_its_proofs_carry_the_cosignature(
    log_a: Ledger, partner: Partner
) -> None:
    b_vkey = partner.vkey
    log_a.append_many(records(10))
    wait_for(lambda: cosigned(log_a, 10), 20.0, interval=0.05)
    first = log_a.checkpoint()
    assert first is not None and len(first.cosignatures) == 1
    (cosig,) = first.cosignatures
    body = parse_note(first.note).text
    assert verify_cosignature_line(body, cosig.line, parse_witness_verifier_key(b_vkey)) > 0
    # Growing the log: B checks consistency from the size it cosigned.
    log_a.append_many(records(300, 10))
    wait_for(lambda: cosigned(log_a, 310), 20.0, interval=0.05)
    bundle = log_a.proof_bundle(123)
    checked = check_bundle(bundle, log_a.vkey(), [b_vkey], quorum=1)
    assert checked.record == {"type": "test.entry", "v": 1, "n": 123, "note": "record 123"}
    assert [c.name for c in checked.verification.cosigners] == [B_ORIGIN + "/witness"]


def test_b_refuses_a_split_view_and_keys_it_does_not_trust(
    log_a: Ledger, partner: Partner, ledger_settings: Settings
) -> None:
    url = partner.url
    log_a.append_many(records(20))
    wait_for(lambda: cosigned(log_a, 20), 20.0, interval=0.05)
    cp = log_a.checkpoint()
    assert cp is not None
    signer = load_log_signer(ledger_settings.data_dir, log_a.origin)
    # The same size with another root, properly signed by A's key: a split view.
    fork = sign_checkpoint(Checkpoint(log_a.origin, cp.size, cp.root_hash[::-1]), signer)
    status, kind, text = post(url + "/add-checkpoint", f"old {cp.size}\n\n{fork}".encode())
    assert status == 409 and "split view" in text, text
    # A stale old size: B names its own size in the spec's text/x.tlog.size answer.
    status, kind, text = post(url + "/add-checkpoint", f"old 0\n\n{cp.text}".encode())
    assert (status, kind, text) == (409, "text/x.tlog.size", f"{cp.size}\n")
    # Signed by a key B was never told about, under A's name; and an origin B does not witness.
    impostor = Ed25519Signer.generate(log_a.origin)
    forged = sign_checkpoint(Checkpoint(log_a.origin, cp.size, cp.root_hash), impostor)
    assert post(url + "/add-checkpoint", f"old {cp.size}\n\n{forged}".encode())[0] == 403
    other = Ed25519Signer.generate("elsewhere.example/log")
    stray = sign_checkpoint(Checkpoint("elsewhere.example/log", 1, cp.root_hash), other)
    assert post(url + "/add-checkpoint", f"old 0\n\n{stray}".encode())[0] == 404


def test_b_refuses_a_proof_built_from_tampered_storage(log_a: Ledger, partner: Partner) -> None:
    url = partner.url
    log_a.append_many(records(40))
    wait_for(lambda: cosigned(log_a, 40), 20.0, interval=0.05)
    old = log_a.checkpoint()
    assert old is not None
    log_a.witnesses.stop()  # from here on this test talks to B itself
    log_a.append_many(records(30, 40))
    assert log_a.wait_covered(69, 10)
    new = log_a.checkpoint()
    assert new is not None and new.size == 70
    # Change one byte of a stored hash that the consistency proof from 40 to 70 reads.
    level, index = consistency_proof_ids(old.size, new.size)[0]
    where = "level = :l AND block = :b"
    row = sql(log_a.db, f"SELECT data FROM ledger_hashes WHERE {where}", l=level, b=index // 256)
    changed = bytearray(row[0][0])
    changed[(index % 256) * 32] ^= 1
    sql(
        log_a.db,
        f"UPDATE ledger_hashes SET data = :d WHERE {where}",
        d=bytes(changed),
        l=level,
        b=index // 256,
    )
    proof = log_a.consistency_proof(old.size, new.size)
    lines = "".join(base64.b64encode(h).decode() + "\n" for h in proof)
    status, _, text = post(url + "/add-checkpoint", f"old {old.size}\n{lines}\n{new.note}".encode())
    assert status == 422 and "not consistent" in text, text


def test_a_witness_on_a_thin_link_is_asked_once_per_interval(
    ledger_settings: Settings, partner: Partner, request: pytest.FixtureRequest
) -> None:
    interval = 1.5
    tag = abs(hash(request.node.nodeid)) % 10**8
    settings = ledger_settings.model_copy(
        update={
            "ledger_origin": f"customs.thin-{tag}.example/ledger",
            "ledger_witnesses": [f"{partner.url} {partner.vkey} interval={interval}"],
            "ledger_witness_quorum": 1,
        }
    )
    ctx = AppContext.from_settings(settings)
    try:
        ledger = attach_ledger(ctx, start=False)
        with partner.db.writer.begin() as conn:
            add_log(conn, ledger.vkey())
        ledger.start()
        start, n = time.monotonic(), 0
        while time.monotonic() - start < 3 * interval:
            ledger.append_many(records(5, n))
            n += 5
            assert ledger.wait_covered(n - 1, 10)
        elapsed = time.monotonic() - start
        signed = sql(ledger.db, "SELECT count(*) FROM ledger_checkpoints")[0][0]
        asked = sql(ledger.db, "SELECT checkpoint_size FROM ledger_cosignatures")
        assert signed >= 10, signed
        # The start-up probe, then at most one request per interval: not one per checkpoint.
        assert 2 <= len(asked) <= elapsed / interval + 2, (len(asked), signed)
        # The latest checkpoint is cosigned when the witness's interval comes round.
        wait_for(lambda: cosigned(ledger, n), 10.0, interval=0.05)
    finally:
        ctx.close()
