"""The architecture as tests: the import-linter contracts in pyproject.toml, the rules they cannot
state (the transparency-log core imports nothing of ours; listeners never name a protocol), and
what a running service actually loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from smartcustoms.tracking.protocols import PROTOCOLS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("smartcustoms", include_external_packages=False)


def test_the_import_linter_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_the_transparency_log_core_imports_nothing_of_the_product(
    graph: grimp.ImportGraph,
) -> None:
    core = "smartcustoms.ledger.tlog"
    outside = {
        (module, imported)
        for module in graph.find_descendants(core) | {core}
        for imported in graph.find_modules_directly_imported_by(module)
        if not (imported == core or imported.startswith(core + "."))
    }
    assert not outside, sorted(outside)


def test_listeners_never_import_a_protocol_by_name(graph: grimp.ImportGraph) -> None:
    # A listener reaches a protocol through the registry only; the modules that define the
    # registered protocols are off limits (a new protocol is one module, no listener change).
    concrete = {f.__module__ for p in PROTOCOLS.values() for f in (p.frame, p.decode)}
    assert len(concrete) >= 5, concrete  # the test would pass vacuously on an empty registry
    listeners = "smartcustoms.tracking.listeners"
    named = {
        (module, imported)
        for module in graph.find_descendants(listeners) | {listeners}
        for imported in graph.find_modules_directly_imported_by(module)
        if imported in concrete
    }
    assert not named, sorted(named)


def test_the_running_service_never_loads_the_sandbox(tmp_path: Path) -> None:
    # What `smartcustoms serve` loads: the whole CLI, then the application each worker builds,
    # answering a request. Nothing of the simulators or the demo may come in with it.
    script = """
import json, sys
from fastapi.testclient import TestClient
from smartcustoms.cli import app
app(["db", "upgrade"], standalone_mode=False)
from smartcustoms.web.app import create_app_from_env
with TestClient(create_app_from_env()) as client:
    assert client.get("/health").status_code == 200
print(json.dumps(sorted(m for m in sys.modules
                        if m.startswith(("smartcustoms.sandbox", "smartcustoms.demo")))))
"""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SMARTCUSTOMS_")},
        "SMARTCUSTOMS_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "SMARTCUSTOMS_DATA_DIR": str(tmp_path / "data"),
    }
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-4000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == []
