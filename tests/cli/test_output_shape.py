"""The shape of what the command prints to a pipe (issue 15), through the real entry point
(``smartcustoms.cli.main``) with standard output a pipe and no COLUMNS: every command's
``--help`` has each paragraph, option help and listed command whole on one line; a table is not
cut at 80 columns; errors from commands of every group start with the same prefix, the ledger's
damage report too; a model version in the hit rates is never shortened in a narrow terminal."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from rich.console import Console
from typer.main import get_command
from typer.testing import CliRunner

from smartcustoms.cli import app
from smartcustoms.cli.common import ERROR_PREFIX
from smartcustoms.cli.lazy import LazyGroup
from smartcustoms.cli.risk import hit_rates_table
from smartcustoms.core.db import Database
from tests.ledger.stored import sql

# Runs `main()` once per line of standard input (the arguments, tab-separated), as
# `smartcustoms ARGS` would, in one process (a process per command would take minutes); a
# marker line on both streams before each, and its exit code after. Each command's standard
# input is a password (for --password-stdin).
DRIVER = """
import io, sys
from smartcustoms.cli import main
for line in sys.stdin.read().splitlines():
    sys.stdin = io.StringIO("a long enough password\\n")  # for --password-stdin
    for stream in (sys.stdout, sys.stderr):
        print("@@@", line.strip(), file=stream, flush=True)
    sys.argv = ["smartcustoms", *line.split("\\t")]
    try:
        main()
    except SystemExit as done:
        sys.stdout.flush()
        print("@@@ exit", int(done.code or 0), file=sys.stderr, flush=True)
"""


def _piped(
    commands: list[list[str]], data_dir: Path, columns: int | None = None
) -> tuple[list[str], list[tuple[str, int]]]:
    """Each command's standard output and (standard error, exit code), in order; with
    ``columns``, COLUMNS set to it (Rich's help, as in a terminal that wide)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("COLUMNS", "TERMINAL_WIDTH") and not k.startswith("SMARTCUSTOMS_")
    }
    env["SMARTCUSTOMS_DATA_DIR"] = str(data_dir)
    if columns is not None:
        env["COLUMNS"] = str(columns)
    done = subprocess.run(
        [sys.executable, "-c", DRIVER],
        input="".join("\t".join(args) + "\n" for args in commands),
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    outs = done.stdout.split("@@@ ")[1:]
    errs = list(_by_marker(done.stderr))
    assert len(outs) == len(errs) == len(commands), done.stderr[-3000:]
    return [o.partition("\n")[2] for o in outs], errs


def _by_marker(stderr: str) -> Iterator[tuple[str, int]]:
    text, code = "", 0
    started = False
    for line in stderr.splitlines():
        if line.startswith("@@@ exit "):
            code = int(line.removeprefix("@@@ exit "))
        elif line.startswith("@@@ "):
            if started:
                yield text, code
            text, code, started = "", 0, True
        else:
            text += line + "\n"
    if started:
        yield text, code


def _squeezed(text: str) -> str:
    return " ".join(text.split())


# -- help ----------------------------------------------------------------------------------------


def _commands() -> Iterator[tuple[list[str], Any]]:
    """Every command and group, loaded as running it loads it (help texts reflowed)."""

    def walk(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
        yield path, command
        if isinstance(command, LazyGroup):
            subs = {name: command.load(name) for name in command.entries}
        else:
            subs = getattr(command, "commands", {})
        for name, sub in subs.items():
            yield from walk(sub, [*path, name])

    yield from walk(get_command(app), [])


def _pieces(command: Any) -> Iterator[str]:
    """What must be printed whole on one line: each paragraph of the help (each line of one
    holding an example), each option's help, each listed command's first paragraph. (Loaded
    here for Rich's help, their brackets are escaped; plain help prints them as written.)"""
    for piece in _raw_pieces(command):
        yield piece.replace("\\[", "[")


def _raw_pieces(command: Any) -> Iterator[str]:
    for paragraph in (command.help or "").split("\n\n"):
        paragraph = paragraph.removeprefix("\b").strip("\n")
        if "\n" in paragraph:
            yield from (line for line in paragraph.split("\n") if line.strip())
        elif paragraph.strip():
            yield paragraph
    for param in command.params:
        if getattr(param, "help", None):
            yield from (line for line in param.help.split("\n") if line.strip())
    for sub in getattr(command, "commands", {}).values():
        if sub.help and not sub.hidden:
            yield sub.help.split("\n\n")[0]


def test_piped_help_never_breaks_a_sentence(tmp_path: Path) -> None:
    commands = list(_commands())
    assert len(commands) > 60  # every group and command, not only the root's listing
    outs, errs = _piped([[*path, "--help"] for path, _ in commands], tmp_path)
    broken = []
    for (path, command), out, (err, code) in zip(commands, outs, errs, strict=True):
        assert code == 0 and not err.strip(), (path, err)
        lines = [_squeezed(line) for line in out.splitlines()]
        assert not any(line[:1] in "╭│╰" for line in lines if line), (path, out)  # plain text
        for piece in _pieces(command):
            if not any(_squeezed(piece) in line for line in lines):
                broken.append(f"smartcustoms {' '.join(path)}: {piece[:70]!r}")
    assert broken == [], "\n".join(broken)


def test_rich_help_shows_bracketed_text(tmp_path: Path) -> None:
    # Rich took "[default: …]" written in a help text for a markup tag and printed nothing.
    outs, _ = _piped([["serve", "--help"], ["ledger", "verify", "--help"]], tmp_path, columns=200)
    assert "│" in outs[0]  # Rich's boxes: COLUMNS asks for a terminal's help
    assert "Address to listen on [default: from settings, 127.0.0.1]" in outs[0], outs[0]
    assert "[default: all]" in outs[1], outs[1]


# -- tables --------------------------------------------------------------------------------------

ROLES = ["supervisor", "auditor", "risk_analyst", "command_centre_operator"]


def test_a_table_to_a_pipe_is_not_cut_at_80_columns(tmp_path: Path) -> None:
    name = "Amina Wanjiru Odhiambo-Kariuki"
    roles = [a for r in ROLES for a in ("--role", r)]
    add = ["users", "add", "amina", "--name", name, *roles, "--password-stdin"]
    outs, errs = _piped([add, ["users", "list"]], tmp_path)
    assert [code for _, code in errs] == [0, 0], errs
    (row,) = [line for line in outs[1].splitlines() if "amina" in line]
    assert len(row) > 100, outs[1]
    assert name in row and ", ".join(sorted(ROLES)) in row, outs[1]


def test_a_model_version_in_the_hit_rates_is_never_cut() -> None:
    version = "20261206T150333Z-d254af76"
    rates = [
        SimpleNamespace(
            group=f"model:{version}", inspected=12, irregular=3, rate=0.25, revenue="1250.50"
        ),
        SimpleNamespace(group="random_control", inspected=4, irregular=0, rate=0.0, revenue="0"),
    ]
    for width in (50, 80):
        out = io.StringIO()
        Console(file=out, width=width, color_system=None).print(hit_rates_table(rates))
        assert f"model:{version}" in out.getvalue(), out.getvalue()


# -- errors --------------------------------------------------------------------------------------


def test_errors_from_every_group_start_the_same_way(tmp_path: Path) -> None:
    long_name = tmp_path / ("a-file-name-longer-than-a-terminal-line-" * 3 + ".json")
    failing = [
        (["--bogus"], 2),  # the root's parser
        (["users", "add", "amina"], 2),  # a missing option
        (["users", "disable", "nobody"], 1),  # the domain: no such user
        (["tokens", "revoke", "nope"], 1),
        (["risk", "activate", "20990101T000000Z-00000000"], 1),
        (["declarations", "import", str(long_name)], 2),  # a file that is not there
        (["tracking", "decode", "-p", "nope", "--hex", "00"], 2),  # a bad choice
        (["scans", "analyze", str(tmp_path / "missing.tif")], 2),
        (["ledger", "prove", "99"], 1),
    ]
    _, errs = _piped([args for args, _ in failing], tmp_path)
    for (args, code), (err, got) in zip(failing, errs, strict=True):
        lines = [line for line in err.splitlines() if line.strip()]
        assert got == code and len(lines) == 1, (args, got, err)
        assert lines[0].startswith(ERROR_PREFIX), (args, lines[0])
    # A long error is one line in a pipe, not wrapped at 80 columns.
    assert str(long_name) in errs[5][0]


def test_a_damaged_ledger_is_reported_with_the_same_prefix(database_url: str) -> None:
    runner = CliRunner()
    env = {"SMARTCUSTOMS_DATABASE_URL": database_url}
    appended = runner.invoke(app, ["ledger", "append", "-"], env=env, input='{"type": "t", "v": 1}')
    assert appended.exit_code == 0, appended.output
    db = Database(database_url)
    data = bytearray(sql(db, "SELECT data FROM ledger_tail_entries WHERE idx = 0")[0][0])
    data[5] ^= 1
    sql(db, "UPDATE ledger_tail_entries SET data = :d WHERE idx = 0", d=bytes(data))
    db.dispose()
    checked = runner.invoke(app, ["ledger", "fsck"], env=env)
    assert checked.exit_code == 1
    assert checked.stderr.startswith(f"{ERROR_PREFIX}ledger damaged: "), checked.stderr
