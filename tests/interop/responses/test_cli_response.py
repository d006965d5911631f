"""`smartcustoms declarations import --format cusdec|wcoxml` and `declarations response`."""

from __future__ import annotations

import io
from pathlib import Path

from typer.testing import CliRunner

from smartcustoms.cli import app
from smartcustoms.declarations.formats.edifact import read_messages

runner = CliRunner()


def invoke(args: list[str], database_url: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, args, env={"SMARTCUSTOMS_DATABASE_URL": database_url})


def test_import_both_formats_then_write_the_answer(
    database_url: str, tmp_path: Path, cusdec_example: Path, wco_example: Path
) -> None:
    result = invoke(["declarations", "import", str(cusdec_example), "-f", "cusdec"], database_url)
    assert result.exit_code == 0, result.output
    assert "1 read, 1 imported, 0 already present, 0 rejected" in result.output
    again = invoke(["declarations", "import", str(wco_example), "-f", "wcoxml"], database_url)
    assert "1 read, 0 imported, 1 already present" in again.output
    out = tmp_path / "answer.edi"
    answer = invoke(["declarations", "response", "1", "-f", "cusres", "-o", str(out)], database_url)
    assert answer.exit_code == 0, answer.output
    [message] = list(read_messages(io.BytesIO(out.read_bytes()), "answer"))
    assert [s.get(1, 1) for s in message.segments if s.tag == "RFF"] == ["MSA-2026-000417"]
    xml = invoke(["declarations", "response", "1", "-f", "wcoxml"], database_url)
    assert xml.exit_code == 0
    assert "<NameCode>" in xml.stdout
    missing = invoke(["declarations", "response", "2"], database_url)
    assert missing.exit_code == 1
    assert "no declaration 2" in str(missing.exception) + missing.output


def test_a_bad_message_is_rejected_with_its_segment(
    database_url: str, tmp_path: Path, cusdec_example: Path
) -> None:
    path = tmp_path / "bad.edi"
    path.write_bytes(cusdec_example.read_bytes().replace(b"LOC+27+BD", b"LOC+27+ZZ"))
    rejects = tmp_path / "rejects.csv"
    result = invoke(
        ["declarations", "import", str(path), "-f", "cusdec", "--skip-invalid",
         "--rejects", str(rejects)],
        database_url,
    )  # fmt: skip
    assert "1 read, 0 imported, 0 already present, 1 rejected" in result.output
    text = rejects.read_text()
    assert "message 1 (line 3),items[1].origin_country" in text
    assert "segment LOC at position 42, element C517/3225, line 44" in text
