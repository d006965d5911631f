"""Federation fixtures: the suite's ``settings`` with this instance's federation identity."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from smartcustoms.core.settings import Settings, load_settings
from tests.web.conftest import role_tokens  # noqa: F401 - a token per role, for the API tests


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        None,
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=secrets.token_urlsafe(48),
        administration_name="Kenya Revenue Authority",
        ledger_origin="ke.example/ledger",
        federation_country="KE",
        federation_url="https://customs.example.ke",
    )
