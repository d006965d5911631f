"""The package's public surface: small, declared, documented and self-contained."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import smartcustoms.ledger as ledger
import smartcustoms.ledger.tlog as tlog

PACKAGES = {"smartcustoms.ledger": ledger, "smartcustoms.ledger.tlog": tlog}
MODULES = [
    f"{package}.{m.name}"
    for package, module in PACKAGES.items()
    for m in pkgutil.iter_modules(module.__path__)
    if not m.name.startswith("_") and not m.ispkg
]


def test_all_names_exist_once() -> None:
    for name in tlog.__all__:
        assert hasattr(tlog, name), name
    assert len(set(tlog.__all__)) == len(tlog.__all__)


@pytest.mark.parametrize("name", MODULES)
def test_every_module_declares_all(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    for exported in module.__all__:
        assert hasattr(module, exported), f"{name}.{exported}"


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_the_package_doc_names_every_module(package: str) -> None:
    module = PACKAGES[package]
    for m in pkgutil.iter_modules(module.__path__):
        if not m.name.startswith("_") and not m.ispkg:
            assert f"``{m.name}``" in (module.__doc__ or ""), m.name


def test_nothing_reads_the_shared_research_folder() -> None:
    # Tests and code must carry their own copies of the vectors.
    forbidden = "/".join(["..", "shared"]), "/".join(["", "work", "shared"])
    roots = [Path(ledger.__file__).parent, Path(__file__).parent]
    for root in roots:
        for path in root.rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for f in forbidden:
                assert f not in text, f"{path} mentions {f}"
