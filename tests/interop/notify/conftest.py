"""A context with the notifier's channels pointed at a real SMTP server (plain: the demo's
mail catcher setup) and, where a test asks, at Kannel; a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.settings import Settings
from smartcustoms.ledger.service import attach_ledger
from tests.interop.notify.servers import SmtpServer, smtp_server

__all__ = ["Clock", "notify_settings"]


class Clock:
    """The product's clock, moved by the test."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def moving_clock() -> Iterator[Clock]:
    moving = Clock(datetime(2026, 12, 6, 10, 0, tzinfo=UTC))
    clock.set_clock(lambda: moving.now)
    try:
        yield moving
    finally:
        clock.set_clock(None)


@pytest.fixture
def mail(tmp_path: Path) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path / "smtp", starttls=False) as server:
        yield server


def notify_settings(settings: Settings, **values: object) -> Settings:
    return settings.model_copy(update=values)


@pytest.fixture
def notify_ctx(settings: Settings, mail: SmtpServer) -> Iterator[AppContext]:
    configured = notify_settings(
        settings,
        notify_smtp_host="127.0.0.1",
        notify_smtp_port=mail.port,
        notify_smtp_starttls=False,
        notify_smtp_from="alerts@customs.example",
        notify_retry_base_s=60.0,
        notify_max_tries=3,
    )
    ctx = AppContext.from_settings(configured)
    attach_ledger(ctx)
    try:
        yield ctx
    finally:
        ctx.close()
