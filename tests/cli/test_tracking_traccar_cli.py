"""``smartcustoms tracking traccar-config``: entries an operator pastes into traccar.xml."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from typer.testing import CliRunner

from smartcustoms.cli import app
from smartcustoms.core.errors import ValidationFailed

runner = CliRunner()
TOKEN = "sct_abcdefghijkl_" + "A" * 43


def entries(output: str) -> dict[str, str]:
    # Wrapped as traccar.xml wraps them: the output must be XML that Traccar can read.
    root = ET.fromstring(f"<properties>{output}</properties>")  # noqa: S314 (our own output)
    return {e.attrib["key"]: e.text or "" for e in root.iter("entry")}


def test_the_entries_point_both_forwards_at_us_with_the_token() -> None:
    created = f"token abcdefghijkl for traccar, expires 2027-01-01:\n{TOKEN}\n"
    result = runner.invoke(
        app,
        ["tracking", "traccar-config", "--url", "https://customs.example/", "--token-stdin"],
        input=created,
    )
    assert result.exit_code == 0, result.output
    found = entries(result.output)
    # Keys as org.traccar.config.Keys names them (and Traccar 4's enable/json switches).
    assert found == {
        "forward.type": "json",
        "forward.url": "https://customs.example/api/tracking/traccar/positions",
        "forward.header": f"Authorization: Bearer {TOKEN}",
        "event.forward.type": "json",
        "event.forward.url": "https://customs.example/api/tracking/traccar/events",
        "event.forward.header": f"Authorization: Bearer {TOKEN}",
        "forward.retry.enable": "true",
        "forward.enable": "true",
        "forward.json": "true",
        "event.forward.enable": "true",
    }


def test_without_a_token_the_entries_hold_a_placeholder_escaped() -> None:
    result = runner.invoke(
        app, ["tracking", "traccar-config", "--url", "http://10.0.0.5:8000", "--no-retry"]
    )
    assert result.exit_code == 0, result.output
    assert "Bearer &lt;API token&gt;" in result.output
    found = entries(result.output)
    assert found["forward.header"] == "Authorization: Bearer <API token>"
    assert "forward.retry.enable" not in found


def test_bad_input_is_refused() -> None:
    bad_url = runner.invoke(app, ["tracking", "traccar-config", "--url", "customs.example"])
    # `smartcustoms` (run_guarded) prints it as one line and exits 1.
    assert isinstance(bad_url.exception, ValidationFailed) and bad_url.exit_code == 1
    assert bad_url.exception.details[0]["field"] == "url"
    no_token = runner.invoke(
        app,
        ["tracking", "traccar-config", "--url", "https://customs.example", "--token-stdin"],
        input="not a token\n",
    )
    assert no_token.exit_code == 2 and "no API token" in no_token.output
