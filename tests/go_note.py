"""Go's golang.org/x/mod/sumdb/note as an independent verifier of our signed notes: the
``verifynote`` helper (``tests/ledger/go/verifynote/main.go``) built offline from Debian's
packaged sources, and a way to run it.

Needs Debian's ``golang-go`` and ``golang-golang-x-mod-dev`` (GOPATH mode, from
/usr/share/gocode). Skips with the reason when they are missing; fails instead under
SMARTCUSTOMS_REQUIRE_SERVICES=1 (CI installs them, see .ci/run).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.services import unavailable

GOCODE = Path("/usr/share/gocode")
NOTE_PACKAGE = GOCODE / "src/golang.org/x/mod/sumdb/note"
SOURCE = Path(__file__).parent / "ledger" / "go" / "verifynote" / "main.go"


def build_verifynote(root: Path) -> Path:
    """Build the helper under ``root`` (a fresh directory); return the binary."""
    go = shutil.which("go")
    if go is None or not NOTE_PACKAGE.is_dir():
        unavailable(
            "Go with golang.org/x/mod/sumdb/note",
            "apt-get install golang-go golang-golang-x-mod-dev",
        )
    assert go is not None
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
    """Open ``note`` trusting ``vkeys`` (log keys for sumdb/note, witness keys checked with
    crypto/ed25519): exit 0 verified, 1 refused, 2 a bad key."""
    return subprocess.run(
        [str(binary), *vkeys], input=note, capture_output=True, text=True, timeout=30, check=False
    )
