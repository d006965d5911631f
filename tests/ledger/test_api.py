"""The package's public surface: small, declared, documented and self-contained."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import smartcustoms.ledger as ledger

MODULES = [m.name for m in pkgutil.iter_modules(ledger.__path__) if not m.name.startswith("_")]


def test_all_names_exist_once() -> None:
    for name in ledger.__all__:
        assert hasattr(ledger, name), name
    assert len(set(ledger.__all__)) == len(ledger.__all__)


@pytest.mark.parametrize("name", MODULES)
def test_every_module_declares_all(name: str) -> None:
    module = importlib.import_module(f"smartcustoms.ledger.{name}")
    assert module.__doc__
    for exported in module.__all__:
        assert hasattr(module, exported), f"{name}.{exported}"


def test_the_package_doc_names_every_module() -> None:
    for name in MODULES:
        assert f"``{name}``" in (ledger.__doc__ or ""), name


def test_nothing_reads_the_shared_research_folder() -> None:
    # Tests and code must carry their own copies of the vectors.
    forbidden = "/".join(["..", "shared"]), "/".join(["", "work", "shared"])
    roots = [Path(ledger.__file__).parent, Path(__file__).parent]
    for root in roots:
        for path in root.rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for f in forbidden:
                assert f not in text, f"{path} mentions {f}"
