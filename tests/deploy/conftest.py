"""What the deployment tests share: one offline bundle per session, built as an administration
would build it (scripts/offline-bundle.sh, where PyPI is reachable)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from tests.services import unavailable

ROOT = Path(__file__).resolve().parents[2]
HERE_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def version() -> str:
    from smartcustoms import __version__

    return __version__


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The archive for this interpreter's Python version (the tests install it here)."""
    out = tmp_path_factory.mktemp("bundle")
    built = subprocess.run(
        [
            "bash",
            str(ROOT / "scripts/offline-bundle.sh"),
            "--python",
            HERE_PYTHON,
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if built.returncode != 0 and any(
        hint in built.stderr.lower() for hint in ("could not find", "connection", "network")
    ):
        unavailable("the Python package index", built.stderr.strip().splitlines()[-1])
    assert built.returncode == 0, built.stderr
    archive = Path(built.stdout.strip().splitlines()[-1])
    assert archive.name == f"smartcustoms-offline-{version()}-linux_x86_64.tar.gz"
    return archive


def answers(url: str) -> bool:
    try:
        return httpx2.get(url, timeout=2).status_code == 200
    except httpx2.TransportError:
        return False
