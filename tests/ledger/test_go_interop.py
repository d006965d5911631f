"""Interoperability: Go's golang.org/x/mod/sumdb/note verifies our signed checkpoints.

Needs Debian's ``golang-go`` and ``golang-golang-x-mod-dev`` (builds offline, GOPATH mode,
from /usr/share/gocode). Skips with the reason when they are missing; fails instead under
SMARTCUSTOMS_REQUIRE_SERVICES=1 (CI installs them, see .ci/run).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from smartcustoms.ledger.service import Ledger
from smartcustoms.ledger.tlog.cosignature import CosignatureSigner, cosign
from smartcustoms.ledger.tlog.note import parse_note
from tests.ledger.stored import fill
from tests.services import unavailable

GOCODE = Path("/usr/share/gocode")
NOTE_PACKAGE = GOCODE / "src/golang.org/x/mod/sumdb/note"
SOURCE = Path(__file__).parent / "go" / "verifynote" / "main.go"


@pytest.fixture(scope="module")
def verifynote(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = shutil.which("go")
    if go is None or not NOTE_PACKAGE.is_dir():
        unavailable(
            "Go with golang.org/x/mod/sumdb/note",
            "apt-get install golang-go golang-golang-x-mod-dev",
        )
    assert go is not None
    root = tmp_path_factory.mktemp("gopath")
    package = root / "src" / "verifynote"
    package.mkdir(parents=True)
    shutil.copy(SOURCE, package / "main.go")
    binary = root / "verifynote"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(root),
        "GO111MODULE": "off",  # GOPATH mode: Debian's packaged sources, no network
        "GOPATH": f"{root}:{GOCODE}",
        "GOCACHE": str(root / "cache"),
        "GOFLAGS": "",
    }
    built = subprocess.run(
        [go, "build", "-o", str(binary), "verifynote"],
        env=env, cwd=root, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    return binary


def run(binary: Path, note: str, *vkeys: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), *vkeys], input=note, capture_output=True, text=True, timeout=30, check=False
    )


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


def test_go_rejects_what_we_would_reject(verifynote: Path, ledger: Ledger) -> None:
    fill(ledger, 3)
    cp = ledger.checkpoint()
    assert cp is not None
    lines = cp.text.split("\n")
    lines[1] = str(int(lines[1]) + 1)  # the size changed after signing
    assert run(verifynote, "\n".join(lines), ledger.vkey()).returncode == 1
    other = ledger.vkey().replace(ledger.origin, "someone.else/ledger")
    assert run(verifynote, cp.text, other).returncode == 2  # key ID no longer matches
