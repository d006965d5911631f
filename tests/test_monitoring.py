"""The monitoring shipped in deploy/: rules Prometheus accepts, over metrics the app exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smartcustoms.core.roles import Role
from smartcustoms.ledger.service import ledger_of
from tests.declarations.helpers import declaration
from tests.services import REQUIRE
from tests.web.conftest import bearer, role_tokens  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "smartcustoms.json"
#: Series Prometheus makes itself, not the application.
PROMETHEUS_OWN = {"up"}
METRIC = re.compile(r"\b(smartcustoms_[a-z0-9_]+|up)\b(?!\s*\()")


def test_promtool_accepts_the_rules() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        message = "promtool not installed (Debian: apt-get install prometheus)"
        if REQUIRE:
            pytest.fail(f"{message} and SMARTCUSTOMS_REQUIRE_SERVICES is set", pytrace=False)
        pytest.skip(message)
    result = subprocess.run(
        [promtool, "check", "rules", str(RULES)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def rule_expressions() -> list[str]:
    """Each rule's ``expr``: on its line, or folded (``expr: >``) over the more indented lines
    below it. (promtool has parsed the file; this only needs the expressions' text.)"""
    found: list[str] = []
    lines = RULES.read_text().splitlines()
    for n, line in enumerate(lines):
        key, _, value = line.strip().partition(":")
        if key != "expr":
            continue
        if value.strip() not in (">", "|", ">-", "|-"):
            found.append(value.strip())
            continue
        indent = len(line) - len(line.lstrip())
        body = []
        for more in lines[n + 1 :]:
            if more.strip() and len(more) - len(more.lstrip()) <= indent:
                break
            body.append(more.strip())
        found.append(" ".join(body))
    return found


def dashboard_expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def used_metrics(expressions: list[str]) -> set[str]:
    # Label values ("/api/declarations", "critical") are inside quotes: drop them first.
    return {m for e in expressions for m in METRIC.findall(re.sub(r'"[^"]*"', '""', e))}


def exported_names(exposition: str) -> set[str]:
    """Every series name the exposition can carry, sampled now or not (a labelled family with
    no sample yet still has its TYPE line)."""
    names: set[str] = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            names.add(name)
            suffixes = {
                "counter": ("_total", "_created"),
                "histogram": ("_bucket", "_sum", "_count", "_created"),
                "summary": ("_sum", "_count", "_created"),
                "info": ("_info",),
            }.get(kind, ())
            base = name.removesuffix("_total")
            names.update(base + s for s in suffixes)
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def test_every_metric_in_the_rules_and_dashboard_is_exported(
    client: TestClient,
    role_tokens: dict[Role, str],  # noqa: F811 - the fixture imported above
) -> None:
    declarant = bearer(role_tokens[Role.DECLARANT])
    assert (
        client.post("/api/declarations", headers=declarant, json=declaration()).status_code == 201
    )
    ledger_of(client.app.state.ctx).flush()  # type: ignore[attr-defined]
    response = client.get("/metrics", headers=bearer(role_tokens[Role.AUDITOR]))
    assert response.status_code == 200
    exported = exported_names(response.text)
    rules, panels = used_metrics(rule_expressions()), used_metrics(dashboard_expressions())
    assert len(rules) >= 15 and len(panels) >= 15  # the regular expression found them
    assert not (rules - exported - PROMETHEUS_OWN), "rules name metrics the app does not export"
    assert not (panels - exported), "the dashboard names metrics the app does not export"


def sample(exposition: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", exposition, re.MULTILINE)
    assert match, f"{name}{labels} not in the exposition"
    return float(match.group(1))


def test_database_figures_follow_the_database(
    client: TestClient,
    role_tokens: dict[Role, str],  # noqa: F811 - the fixture imported above
) -> None:
    auditor = bearer(role_tokens[Role.AUDITOR])
    before = client.get("/metrics", headers=auditor).text
    assert sample(before, "smartcustoms_risk_decisions_in_window", '{window="recent"}') == 0
    assert sample(before, "smartcustoms_scans_waiting", '{state="awaiting_review"}') == 0
    declarant = bearer(role_tokens[Role.DECLARANT])
    lodged = client.post(
        "/api/declarations",
        headers=declarant,
        json={"declarations": [declaration(lrn="M1"), declaration(lrn="M2")]},
    )
    assert lodged.status_code == 201
    ledger_of(client.app.state.ctx).flush()  # type: ignore[attr-defined]
    after = client.get("/metrics", headers=auditor).text
    assert sample(after, "smartcustoms_risk_decisions_in_window", '{window="recent"}') == 2
    assert sample(after, "smartcustoms_ledger_queued_records") == 0
    size = sample(after, "smartcustoms_ledger_tree_size")
    assert size > sample(before, "smartcustoms_ledger_tree_size")
    assert sample(after, "smartcustoms_gauges_errors_total") == 0
