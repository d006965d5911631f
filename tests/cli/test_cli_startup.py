"""The command line starts without the product behind it: `--version` and every `--help` load
neither the risk engine, the scan analyses nor the database layer (issue 15). Measured without
timing, by what is imported; bench/cli_startup.py measures the time itself."""

from __future__ import annotations

import inspect
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from smartcustoms.cli import COMMANDS, app
from smartcustoms.cli.lazy import LazyGroup, first_paragraph, reflow

#: Libraries none of which `--version` or a `--help` may load: each costs from a tenth of a
#: second (SQLAlchemy) to seconds (scikit-learn with LightGBM).
HEAVY = (
    "numpy", "pandas", "scipy", "sklearn", "lightgbm", "matplotlib", "sqlalchemy", "alembic",
    "pydantic_settings",  # the settings (a fifth of a second): read by commands that run
)  # fmt: skip
#: The product behind the commands: nothing of it is needed to describe them.
DOMAIN = (
    "smartcustoms.backup",
    "smartcustoms.core.context",
    "smartcustoms.core.db",
    "smartcustoms.core.settings",
    "smartcustoms.declarations",
    "smartcustoms.interop",
    "smartcustoms.ledger",
    "smartcustoms.risk",
    "smartcustoms.sandbox",
    "smartcustoms.scans",
    "smartcustoms.tracking",
    "smartcustoms.web",
)

_PROBE = """
import json, sys
out = sys.argv[2]
sys.argv = ["smartcustoms", *json.loads(sys.argv[1])]
from smartcustoms.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
with open(out, "w") as fh:
    json.dump({"code": code, "modules": sorted(sys.modules)}, fh)
"""


def loaded_by(args: list[str], tmp_path: Path) -> tuple[int, list[str], str]:
    """Run the console script's entry point on ``args`` in a fresh interpreter: its exit code,
    the modules it had loaded when it ended, and what it printed."""
    out = tmp_path / "modules.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCUSTOMS_")}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args), str(out)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert out.exists(), done.stderr[-3000:]
    result = json.loads(out.read_text())
    return result["code"], result["modules"], done.stdout + done.stderr


def heavy_and_domain(modules: list[str]) -> list[str]:
    return [
        m
        for m in modules
        if m.split(".")[0] in HEAVY or any(m == d or m.startswith(d + ".") for d in DOMAIN)
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["--help"],
        *([entry.name, "--help"] for entry in COMMANDS),
        ["scans", "analyze", "--help"],
        ["scans", "simulate", "--help"],
        ["risk", "rules", "propose", "--help"],
        ["tracking", "decode", "--help"],
        ["ledger", "verify", "--help"],
        ["users", "add", "--help"],
    ],
    ids=" ".join,
)
def test_version_and_help_load_nothing_heavy(args: list[str], tmp_path: Path) -> None:
    code, modules, printed = loaded_by(args, tmp_path)
    assert code in (0, None), printed
    assert heavy_and_domain(modules) == []


def test_a_command_loads_its_own_group_only(tmp_path: Path) -> None:
    # `db status` opens the database (SQLAlchemy, the schema), and nothing of the analyses.
    db = tmp_path / "db.sqlite"
    out = tmp_path / "modules.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCUSTOMS_")}
    env |= {"SMARTCUSTOMS_DATABASE_URL": f"sqlite:///{db}", "SMARTCUSTOMS_DATA_DIR": str(tmp_path)}
    subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(["db", "status"]), str(out)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    modules = json.loads(out.read_text())["modules"]
    assert "sqlalchemy" in modules and "smartcustoms.cli.db" in modules
    assert not {"sklearn", "lightgbm", "numpy", "smartcustoms.cli.risk"} & set(modules)


def test_the_listing_is_each_modules_own_help() -> None:
    # The root lists each command from the registry without importing it: the line it shows
    # must be the one the command itself carries.
    root = get_command(app)
    assert isinstance(root, LazyGroup)
    for entry in COMMANDS:
        command = root.load(entry.name)
        assert command is not None, entry.name
        assert first_paragraph(command.help) == reflow(entry.help), entry.name


def test_root_help_lists_every_group(tmp_path: Path) -> None:
    code, _, printed = loaded_by(["--help"], tmp_path)
    assert code in (0, None)
    text = " ".join(printed.split())
    for entry in COMMANDS:
        assert entry.name in printed
        assert " ".join(entry.help.split()[:5]) in text, entry.name


def test_a_mistyped_command_is_suggested_among_all(tmp_path: Path) -> None:
    code, _, printed = loaded_by(["ledgr"], tmp_path)
    lines = [line for line in printed.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, printed
    assert lines[0].startswith("smartcustoms: error: No such command 'ledgr'")
    assert "Did you mean 'ledger'?" in lines[0]


def test_choices_named_in_the_cli_are_the_domains() -> None:
    # Option choices spelled out in the CLI so that its help loads nothing; kept equal here.
    from smartcustoms.cli.notify import TRIGGERS
    from smartcustoms.cli.risk import LaneChoice
    from smartcustoms.cli.scans import ContainerChoice
    from smartcustoms.interop.notify.triggers import TRIGGERS as DOMAIN_TRIGGERS
    from smartcustoms.risk.lanes import Lane
    from smartcustoms.scans.container_types import ContainerType

    assert [c.value for c in ContainerChoice] == [c.value for c in ContainerType]
    assert [c.value for c in LaneChoice] == [c.value for c in Lane]
    assert TRIGGERS == DOMAIN_TRIGGERS


def test_reflow_joins_a_paragraphs_lines_and_keeps_examples() -> None:
    text = inspect.cleandoc(
        """First line.

        A sentence wrapped in the source
        goes on here.

          smartcustoms scans analyze scan.tif \\
              --json
        Then this."""
    )
    assert reflow(text).split("\n\n") == [
        "First line.",
        "A sentence wrapped in the source goes on here.",
        "  smartcustoms scans analyze scan.tif \\\n      --json\nThen this.",
    ]


def test_no_help_text_breaks_mid_sentence() -> None:
    # Every help text, as printed: a line break inside a paragraph only before an example.
    def walk(command: Any, path: str) -> list[str]:
        broken = []
        for paragraph in (command.help or "").split("\n\n"):
            lines = paragraph.split("\n")
            for before, after in itertools.pairwise(lines):
                if not before[:1].isspace() and not after[:1].isspace():
                    broken.append(f"{path}: {before!r} / {after!r}")
        subs = getattr(command, "commands", {})
        if isinstance(command, LazyGroup):
            subs = {name: command.load(name) for name in command.entries}
        for name, sub in subs.items():
            broken += walk(sub, f"{path} {name}")
        return broken

    assert walk(get_command(app), "smartcustoms") == []


def test_piped_help_is_not_cut_at_80_columns(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "TERMINAL_WIDTH")}
    done = subprocess.run(
        [sys.executable, "-m", "smartcustoms", "scans", "analyze", "--help"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) > 100
    example = "smartcustoms scans analyze scans/ --json-lines --output reports.jsonl"
    assert any(example in line for line in lines), done.stdout
