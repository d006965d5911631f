"""`scripts/offline-bundle.sh` as an administration without internet would use it: build the
archive where PyPI is reachable, then on the "server" install it with no index at all and run
the demo from the installed command."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import httpx2
import pytest

from tests.browser.conftest import free_port
from tests.deploy.conftest import answers, version
from tests.waiting import wait_for

# Building a Debian base, an image or a 190 MB bundle takes minutes on a loaded machine.
pytestmark = pytest.mark.timeout(1200)


def _offline_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMARTCUSTOMS_", "PIP_"))}
    # Anything that still tried the network would hit a closed port and fail the install.
    env.update(
        PIP_INDEX_URL="http://127.0.0.1:9/simple",
        PIP_FIND_LINKS="",
        TMPDIR=str(tmp_path),
        COLUMNS="120",
    )
    return env


def test_the_bundle_holds_every_wheel_and_checks_itself(bundle: Path, tmp_path: Path) -> None:
    with tarfile.open(bundle) as archive:
        names = archive.getnames()
        archive.extractall(tmp_path, filter="data")
    top = tmp_path / bundle.name.removesuffix(".tar.gz")
    wheels = {name.rsplit("/", 1)[-1] for name in names if name.endswith(".whl")}
    assert any(w.startswith("smartcustoms-") for w in wheels)
    for needed in ("fastapi", "lightgbm", "numpy", "scikit_learn", "psycopg_binary", "shapely"):
        assert any(w.lower().startswith(needed + "-") for w in wheels), needed
    assert not any(name.endswith((".tar.gz", ".zip")) for name in names[1:]), (
        "sdists need a compiler"
    )
    # A damaged bundle is refused before anything is installed.
    victim = next((top / "wheels").glob("orjson-*.whl"))
    victim.write_bytes(victim.read_bytes()[:-10])
    refused = subprocess.run(
        [str(top / "install.sh"), str(tmp_path / "venv")],
        capture_output=True,
        text=True,
        env=_offline_env(tmp_path),
        timeout=120,
    )
    assert refused.returncode != 0
    assert "damaged" in refused.stderr
    assert not (tmp_path / "venv").exists()


def test_installs_with_no_index_and_runs_the_demo(bundle: Path, tmp_path: Path) -> None:
    with tarfile.open(bundle) as archive:
        archive.extractall(tmp_path, filter="data")
    top = tmp_path / bundle.name.removesuffix(".tar.gz")
    target = tmp_path / "opt-smartcustoms"
    env = _offline_env(tmp_path)
    installed = subprocess.run(
        [str(top / "install.sh"), str(target)],
        capture_output=True,
        text=True,
        env={**env, "PYTHON": sys.executable},
        timeout=600,
    )
    assert installed.returncode == 0, installed.stderr
    assert f"installed: smartcustoms {version()}" in installed.stdout
    # The installed package is the bundle's wheel, not this checkout.
    where = subprocess.run(
        [str(target / "bin/python"), "-c", "import smartcustoms; print(smartcustoms.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.strip()
    assert where.startswith(str(target)), where

    port = free_port()
    demo = subprocess.Popen(
        [str(target / "bin/smartcustoms"), "demo", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert demo.stdout is not None
        deadline = time.monotonic() + 120
        seen: list[str] = []
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            seen.append(line)
            if "Open http://" in line:
                break
        assert any(f"Open http://127.0.0.1:{port}" in line for line in seen), "".join(seen)
        wait_for(
            lambda: answers(f"http://127.0.0.1:{port}/health"),
            timeout=30,
            message="the installed demo never answered /health",
        )
        page = httpx2.get(f"http://127.0.0.1:{port}/login", timeout=5)
        assert page.status_code == 200
        # The vendored front-end came inside the wheel.
        assert (
            httpx2.get(
                f"http://127.0.0.1:{port}/static/vendor/htmx/htmx.min.js", timeout=5
            ).status_code
            == 200
        )
    finally:
        demo.terminate()
        demo.wait(timeout=60)
        if demo.stdout is not None:
            demo.stdout.close()
