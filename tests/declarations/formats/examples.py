"""The packaged example files, and declarations for the format tests to start from."""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

import pytest

EXAMPLES = files("smartcustoms.declarations") / "data" / "examples"


@pytest.fixture
def cusdec_example() -> Path:
    with as_file(EXAMPLES / "import.cusdec.edi") as path:
        return Path(path)


@pytest.fixture
def wco_example() -> Path:
    with as_file(EXAMPLES / "import.wco.xml") as path:
        return Path(path)
