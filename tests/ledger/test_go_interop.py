"""Interoperability: Go's golang.org/x/mod/sumdb/note verifies our signed checkpoints.

Needs Debian's ``golang-go`` and ``golang-golang-x-mod-dev`` (builds offline, GOPATH mode,
from /usr/share/gocode). Skips with the reason when they are missing; fails instead under
SMARTCUSTOMS_REQUIRE_SERVICES=1 (CI installs them, see .ci/run).
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from smartcustoms.ledger.service import Ledger
from smartcustoms.ledger.tlog.cosignature import CosignatureSigner, cosign
from smartcustoms.ledger.tlog.note import parse_note
from tests.go_note import build_verifynote, run
from tests.ledger.stored import fill


@pytest.fixture(scope="module")
def verifynote(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_verifynote(tmp_path_factory.mktemp("gopath"))


def test_go_verifies_our_signed_checkpoint(verifynote: Path, ledger: Ledger) -> None:
    fill(ledger, 25)
    cp = ledger.checkpoint()
    assert cp is not None
    # A witness cosignature (type 0x04) is on it too: Go must ignore it as an unknown key.
    witness = CosignatureSigner.generate("witness.example/w1")
    cosigned = cp.text + cosign(parse_note(cp.note).text, witness)
    done = run(verifynote, cosigned, ledger.vkey())
    assert done.returncode == 0, done.stderr
    name, key_id = cp.key.split("+")
    assert done.stdout == (f"{parse_note(cp.note).text}verified {name} {key_id}\nunverified 1\n")


def test_go_verifies_a_witness_cosignature_with_crypto_ed25519(
    verifynote: Path, ledger: Ledger
) -> None:
    """Go's sumdb/note does not know cosignature/v1 keys: the helper checks them with Go's own
    crypto/ed25519 over the C2SP message, independently of our Python code."""
    fill(ledger, 5)
    cp = ledger.checkpoint()
    assert cp is not None
    witness = CosignatureSigner.generate("witness.example/w1")
    body = parse_note(cp.note).text
    line = cosign(body, witness, timestamp=1_800_000_000)
    vkey = witness.verifier().key_string()
    done = run(verifynote, cp.text + line, ledger.vkey(), vkey)
    assert done.returncode == 0, done.stderr
    key_id = vkey.split("+")[1]
    assert f"cosigned witness.example/w1 {key_id} 1800000000\nunverified 0\n" in done.stdout
    # Another witness's key under the same name, or the time inside the blob changed: refused.
    other = CosignatureSigner.generate("witness.example/w1").verifier().key_string()
    assert run(verifynote, cp.text + line, ledger.vkey(), other).returncode == 1
    raw = bytearray(base64.b64decode(line.split()[-1]))
    raw[11] ^= 1  # the time inside the signature blob changed
    tampered = line.replace(line.split()[-1], base64.b64encode(bytes(raw)).decode())
    assert run(verifynote, cp.text + tampered, ledger.vkey(), vkey).returncode == 1


def test_go_rejects_what_we_would_reject(verifynote: Path, ledger: Ledger) -> None:
    fill(ledger, 3)
    cp = ledger.checkpoint()
    assert cp is not None
    lines = cp.text.split("\n")
    lines[1] = str(int(lines[1]) + 1)  # the size changed after signing
    assert run(verifynote, "\n".join(lines), ledger.vkey()).returncode == 1
    other = ledger.vkey().replace(ledger.origin, "someone.else/ledger")
    assert run(verifynote, cp.text, other).returncode == 2  # key ID no longer matches
