"""Labelled KCS files: read whole, every problem named by file and row or column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk.offline.kcs_files import (
    join_tables,
    packaged_kcs,
    read_labelled_kcs,
    split_by_date,
)
from tests.risk.history import kcs_slice


def edited(path: Path, line: int, old: str, new: str) -> Path:
    """The file with ``old`` replaced by ``new`` on one line (1 = header)."""
    lines = path.read_text().splitlines()
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    out = path.with_name(f"edited-{line}.csv")
    out.write_text("\n".join(lines) + "\n")
    return out


def test_reads_items_labels_and_keeps_codes_as_text(tmp_path: Path) -> None:
    table = read_labelled_kcs(kcs_slice(tmp_path, 0, 50))
    assert len(table) == 50 and table.revenue is None
    assert set(np.unique(table.labels)) <= {0, 1}
    assert table.items["hs6"].str.len().eq(6).all()  # leading zeros kept
    assert list(table.items.index) == list(range(50))


def test_revenue_column_is_read_when_present(tmp_path: Path) -> None:
    lines = kcs_slice(tmp_path, 0, 3).read_text().splitlines()
    path = tmp_path / "rev.csv"
    path.write_text(
        "\n".join([lines[0] + ",Revenue", *(f"{x},{i}.5" for i, x in enumerate(lines[1:]))])
    )
    assert read_labelled_kcs(path).revenue is not None
    bad = tmp_path / "badrev.csv"
    bad.write_text("\n".join([lines[0] + ",Revenue", lines[1] + ",1", lines[2] + ",-4"]))
    with pytest.raises(ValidationFailed, match=r"badrev.csv: column 'Revenue' .* at row 3"):
        read_labelled_kcs(bad)


@pytest.mark.parametrize(
    ("line", "old", "new", "message"),
    [
        (1, "Fraud,Critical Fraud", "Outcome,Critical Fraud", r"no 'Fraud' column"),
        (1, "HS6 Code", "HS Code", r"not a KCS file: missing column\(s\) 'HS6 Code'"),
        (4, ",0,0", ",2,0", r"column 'Fraud' must be 0 or 1, got '2' at row 4"),
        (6, "2020-01-01", "2020-13-45", r"date: missing or not an ISO 8601 date .* row 6"),
        (3, "2020-01-01", "2020-01-01,extra", r"malformed CSV: Expected 22 fields in line 3"),
    ],
)
def test_bad_files_name_file_and_row_or_column(
    tmp_path: Path, line: int, old: str, new: str, message: str
) -> None:
    path = edited(kcs_slice(tmp_path, 0, 10), line, old, new)
    with pytest.raises(ValidationFailed, match=message) as caught:
        read_labelled_kcs(path)
    assert caught.value.message.startswith(str(path))


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="no such file"):
        read_labelled_kcs(tmp_path / "absent.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValidationFailed, match="empty file"):
        read_labelled_kcs(empty)
    header = tmp_path / "header.csv"
    header.write_text(kcs_slice(tmp_path, 0, 1).read_text().splitlines()[0] + "\n")
    with pytest.raises(ValidationFailed, match="no rows after the header"):
        read_labelled_kcs(header)
    latin = tmp_path / "latin.csv"
    latin.write_bytes(kcs_slice(tmp_path, 0, 2).read_bytes().replace(b"BE,BE", b"\xe9,BE"))
    with pytest.raises(ValidationFailed, match="not UTF-8"):
        read_labelled_kcs(latin)


def test_join_and_split_by_date(tmp_path: Path) -> None:
    first = read_labelled_kcs(kcs_slice(tmp_path, 0, 300))
    second = read_labelled_kcs(kcs_slice(tmp_path, 300, 200))
    both = join_tables([first, second])
    assert len(both) == 500 and both.labels.tolist() == [*first.labels, *second.labels]
    before, after = split_by_date(both, dt.date(2020, 1, 3))
    assert len(before) + len(after) == 500
    assert (before.items["date"] < "2020-01-03").all() and (
        after.items["date"] >= "2020-01-03"
    ).all()
    with pytest.raises(ValidationFailed, match="no files"):
        join_tables([])


def test_packaged_tables() -> None:
    valid = packaged_kcs("valid")
    assert len(valid) == 8134 and 0.15 < valid.labels.mean() < 0.3
