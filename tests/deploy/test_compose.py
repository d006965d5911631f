"""deploy/container/compose.yaml holds together: every smartcustoms service runs a command the
CLI accepts, every setting in the example environment is a real one with a valid value, the
listener publishes the ports its listeners use, and nginx forwards to the web service.

The third-party images (PostgreSQL, Mosquitto, nginx) cannot be pulled here (no registry), so
the compose file is checked by what it says, not started; tests/deploy/test_container.py builds
and starts the smartcustoms image itself."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from smartcustoms.core.settings import Settings

HERE = Path(__file__).resolve().parents[2] / "deploy/container"


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((HERE / "compose.yaml").read_text())
    return loaded


def _example_env() -> dict[str, str]:
    pairs = {}
    for line in (HERE / "smartcustoms.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key] = value
    return pairs


def _ours() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return {
        n: s
        for n, s in services.items()
        if str(s.get("image", "")).startswith("localhost/smartcustoms")
    }


def test_the_smartcustoms_services_are_migrate_web_and_listener() -> None:
    assert set(_ours()) == {"migrate", "web", "listener"}
    for name in ("web", "listener"):
        assert (
            _ours()[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )


@pytest.mark.parametrize("service", ["migrate", "web", "listener"])
def test_each_service_runs_a_command_the_cli_accepts(service: str) -> None:
    args: list[str] = list(_ours()[service]["command"])

    def cli(*extra: str) -> subprocess.CompletedProcess[str]:
        # --help after the service's own arguments: they are parsed first, so an unknown
        # command or option fails, and nothing runs.
        return subprocess.run(
            [sys.executable, "-m", "smartcustoms", *args, *extra, "--help"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    accepted = cli()
    assert accepted.returncode == 0, accepted.stderr
    refused = cli("--no-such-option")
    assert refused.returncode == 2 and "no-such-option" in refused.stderr


def test_the_example_environment_is_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    env = _example_env()
    known = {f"SMARTCUSTOMS_{name.upper()}" for name in Settings.model_fields}
    ours = {k for k in env if k.startswith("SMARTCUSTOMS_")}
    assert ours <= known, ours - known
    for key, value in env.items():
        if key.startswith("SMARTCUSTOMS_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("SMARTCUSTOMS_SECRET_KEY", "x" * 64)  # the example's is a placeholder
    settings = Settings()
    assert settings.production
    assert env["POSTGRES_PASSWORD"] in str(settings.database_url)
    # The listener publishes exactly the TCP ports its listeners take.
    ports = {int(spec.split(":")[2]) for spec in settings.tracking_listeners}
    published = {int(p.split(":")[0]) for p in _ours()["listener"]["ports"]}
    assert published == ports


def test_nginx_forwards_to_the_web_service_port() -> None:
    conf = (HERE / "nginx.conf").read_text()
    target = re.search(r"proxy_pass http://(\w+):(\d+);", conf)
    assert target is not None
    web = _ours()["web"]["command"]
    assert (target[1], target[2]) == ("web", web[web.index("--port") + 1])
