"""Fixtures for the stored ledger: a context with a running ledger on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.settings import Settings
from smartcustoms.ledger.service import Ledger, attach_ledger
from tests.ledger.stored import FAST_MS


@pytest.fixture
def ledger_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"ledger_checkpoint_interval_ms": FAST_MS})


@pytest.fixture
def lctx(ledger_settings: Settings) -> Iterator[AppContext]:
    ctx = AppContext.from_settings(ledger_settings)
    yield ctx
    ctx.close()


@pytest.fixture
def ledger(lctx: AppContext) -> Ledger:
    return attach_ledger(lctx)
