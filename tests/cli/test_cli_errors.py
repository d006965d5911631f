"""Whatever it is given, the `smartcustoms` command answers one typed line and an exit code (1,
or 2 for usage), never a traceback: deep JSON, integers too long to convert, NUL bytes, binary
garbage, a missing file, a directory, markup in what is quoted back, an unexpected failure."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from smartcustoms.cli import main

DEEP = b"[" * 100_000 + b"]" * 100_000
HUGE_INT = b'{"type": "cms.release", "v": 1, "n": ' + b"7" * 5000 + b"}"
NUL = b'{"type": "cms.release", "v": 1, "n": "a\x00b"}\x00'
GARBAGE = bytes(range(256)) * 16
HEADER = (
    "lrn,office_of_declaration,declarant_id,importer_id,border_transport_mode,item_hs_code,"
    "item_origin_country,item_customs_value,item_currency,item_net_mass_kg\n"
)
HUGE_FIELD = (HEADER + "L" * 200_000 + ",KEMBA,B,I,1,850440,CN,1,USD,1\n").encode()

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """The console script's entry point, in this process: exit code, stdout, stderr."""

    def invoke(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["smartcustoms", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        out, err = capsys.readouterr()
        code = exited.value.code
        return (code if isinstance(code, int) else 1), out, err

    return invoke


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for name, data in {
        "deep.json": DEEP,
        "deep.jsonl": b"\n" + DEEP + b"\n",
        "huge-int.json": HUGE_INT,
        "nul.json": NUL,
        "garbage.json": GARBAGE,
        "garbage.csv": GARBAGE,
        "huge-field.csv": HUGE_FIELD,
    }.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "a-directory").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["declarations", "import", "deep.json"], "deep.json: JSON nested more than 500 levels"),
        (["declarations", "import", "deep.jsonl"], "line 2: JSON nested more than 500 levels"),
        (["declarations", "import", "huge-int.json"], "more than 4300 digits at line 1"),
        (["declarations", "import", "nul.json"], "Invalid control character"),
        (["declarations", "import", "garbage.json"], "garbage.json: not "),
        (["declarations", "import", "-f", "csv", "garbage.csv"], "not UTF-8 at byte 128"),
        (["declarations", "import", "-f", "kcs", "garbage.csv"], "not UTF-8 at byte 128"),
        (["declarations", "import", "-f", "csv", "huge-field.csv"], "field larger than"),
        (["ledger", "append", "deep.json"], "nested more than 500 levels deep at line 1"),
        (["ledger", "append", "huge-int.json"], "more than 4300 digits at line 1, column 38"),
        (["ledger", "append", "nul.json"], "Invalid control character"),
        (["ledger", "append", "garbage.json"], "not JSON"),
        (["ledger", "append", "missing.json"], "missing.json: no such file"),
        (["ledger", "append", "a-directory"], "a-directory: a directory, not a file"),
        (["ledger", "verify", "a-directory", "--vkey", "k"], "a directory, not a file"),
        (["ledger", "verify", "garbage.json", "--vkey", "k"], "not verified"),
        (["tracking", "corridors", "import", "deep.json"], "nested too deeply"),
    ],
)
def test_bad_input_is_one_typed_line(
    run: Run, files: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(files)
    code, _, err = run(*args)
    line = one_line(err)
    assert code == 1 and line.startswith("smartcustoms: error: ") and message in line, line


@pytest.mark.parametrize(
    "args",
    [
        ["declarations", "import", "missing.json"],
        ["declarations", "import", "a-directory"],
        ["ledger", "no-such-command"],
    ],
)
def test_usage_errors_exit_2(
    run: Run, files: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.chdir(files)
    code, _, err = run(*args)
    assert code == 2 and "Traceback" not in err


def test_values_from_the_command_line_are_parsed_the_same_way(run: Run) -> None:
    for value, message in [
        ("[" * 5000, "--value: JSON nested more than 500 levels deep"),
        ("7" * 5000, "--value: a number of more than 4300 digits"),
    ]:
        code, _, err = run(
            "ledger", "check-commitment", "sha256:00", "--value", value, "--salt", ""
        )
        assert code == 1 and message in one_line(err)


def test_what_is_quoted_back_is_text_not_markup(run: Run) -> None:
    code, _, err = run("ledger", "open", "[/x][bold]")
    assert code == 1
    assert one_line(err) == "smartcustoms: error: no opening is kept for commitment '[/x][bold]'"


def test_an_unexpected_failure_is_one_line_and_its_trace_is_logged(
    run: Run, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("disk on fire\n[/red] second line")

    monkeypatch.setattr("smartcustoms.core.schema.schema_state", broken)
    with caplog.at_level(logging.DEBUG, logger="smartcustoms.cli"):
        code, _, err = run("db", "status")
    assert code == 1
    assert one_line(err) == (
        "smartcustoms: error: unexpected RuntimeError: disk on fire [/red] second line"
    )
    (record,) = [r for r in caplog.records if r.name == "smartcustoms.cli"]
    assert record.levelno == logging.DEBUG and record.exc_info is not None


def test_the_installed_command_prints_no_traceback(files: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCUSTOMS_")}
    env["SMARTCUSTOMS_DATA_DIR"] = str(files / "data")
    for args in (["declarations", "import", "deep.json"], ["ledger", "append", "huge-int.json"]):
        done = subprocess.run(
            [sys.executable, "-m", "smartcustoms", *args],
            cwd=files, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        assert one_line(done.stderr).startswith("smartcustoms: error: ")
