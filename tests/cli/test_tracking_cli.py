"""``smartcustoms tracking corridors|transits|alerts|simulate`` as an operator uses them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from smartcustoms.cli import app
from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import SmartCustomsError
from smartcustoms.core.settings import Settings
from smartcustoms.tracking.tables import AlertRow, PositionRow, TransitRow
from tests.tracking.helpers import store_declaration
from tests.tracking.listening import Harness

runner = CliRunner()


def run(settings: Settings, *args: str) -> tuple[int, str]:
    env = {
        "SMARTCUSTOMS_DATABASE_URL": settings.sqlalchemy_url,
        "SMARTCUSTOMS_DATA_DIR": str(settings.data_dir),
        "COLUMNS": "200",  # tables unwrapped
    }
    result = runner.invoke(app, list(args), env=env)
    if isinstance(result.exception, SmartCustomsError):  # what `main` turns into exit 1
        return 1, result.exception.message
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_corridors_transits_and_alerts(ctx: AppContext, settings: Settings) -> None:
    code, out = run(settings, "tracking", "corridors", "import", "--packaged")
    assert code == 0 and "imported 2 corridors (northern, central) and 15 zones" in out
    code, out = run(settings, "tracking", "corridors", "list")
    assert "northern" in out and "UGMAL" in out
    declaration = store_declaration(ctx, "CLI-1")
    code, out = run(
        settings, "tracking", "transits", "create", "--declaration", str(declaration),
        "--device", "CLI-SEAL", "--vehicle", "KBZ 777Z", "--corridor", "northern",
        "--origin", "KEMBA", "--destination", "UGKLA", "--hours", "48",
    )  # fmt: skip
    assert code == 0, out
    with ctx.db.session() as session:
        transit = session.scalars(select(TransitRow)).one()
    assert (transit.vehicle, transit.created_by.startswith("cli:")) == ("KBZ 777Z", True)
    assert run(settings, "tracking", "transits", "arm", str(transit.id))[0] == 0
    code, out = run(settings, "tracking", "transits", "arm", str(transit.id))
    assert code == 1 and "armed" in out  # a conflict, said in one line
    code, out = run(
        settings, "tracking", "transits", "hand-over", str(transit.id), "--border", "UGMAL",
        "--to", "URA",
    )  # fmt: skip
    assert code == 0 and "URA" in out
    assert "handed_over" in run(settings, "tracking", "transits", "list")[1]
    assert run(settings, "tracking", "transits", "discharge", str(transit.id))[0] == 0
    code, out = run(settings, "tracking", "alerts", "list")
    assert code == 0


def test_import_a_geojson_file(settings: Settings, tmp_path: Path) -> None:
    data: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [38.5, -3.4]},
                "properties": {"code": "YARD-9", "kind": "parking", "radius_m": 400},
            }
        ],
    }
    path = tmp_path / "zones.geojson"
    path.write_text(json.dumps(data))
    code, out = run(settings, "tracking", "corridors", "import", str(path))
    assert code == 0 and "1 zones" in out
    path.write_text(json.dumps({**data, "features": [{"type": "Feature"}]}))
    code, out = run(settings, "tracking", "corridors", "import", str(path))
    assert code == 1 and "features[0]" in out
    assert run(settings, "tracking", "corridors", "import")[0] == 2


@pytest.mark.parametrize("protocol", ["jt808", "eseal"])
def test_simulate_against_a_listener(ctx: AppContext, settings: Settings, protocol: str) -> None:
    with Harness(ctx, [f"{protocol}:tcp:0"]) as harness:
        port = harness.port(f"{protocol}:tcp:0")
        code, out = run(
            settings, "tracking", "simulate", "--devices", "3", "--protocol", protocol,
            "--target", f"127.0.0.1:{port}", "--interval", "0.2", "--duration", "1.5",
            "--incidents", "3600", "--incident-minutes", "0.01",
        )  # fmt: skip
    assert code == 0, out
    stats = json.loads(out)
    assert stats["acked_frames"] > 3
    with ctx.db.session() as session:
        stored = session.scalar(select(func.count()).select_from(PositionRow)) or 0
        # Every answered report is stored; reports in flight when it stopped may be too.
        assert stats["acked_records"] <= stored <= stats["records"]
        assert session.scalar(select(func.count()).select_from(AlertRow)) == 0  # no transits
    code, out = run(settings, "tracking", "simulate", "-n", "1", "-p", "pigeon", "--target", "x:1")
    assert code == 2
