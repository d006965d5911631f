"""``smartcustoms webhooks``: create (the secret printed once), list, deliveries, replay,
delete — and a decision lodged by another process is sent by the server's deliverer."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

import pytest

from smartcustoms.cli import main
from smartcustoms.core.context import AppContext
from smartcustoms.interop.webhooks.service import attach_webhooks
from tests.interop.webhooks.conftest import decide
from tests.interop.webhooks.receiver import Receiver
from tests.waiting import wait_for

Cli = Callable[..., tuple[int, str]]


@pytest.fixture
def cli(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    """The console script's entry point, in this process: exit code, stdout + stderr."""
    monkeypatch.setenv("SMARTCUSTOMS_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("SMARTCUSTOMS_SECRET_KEY", ctx.secret_key)
    monkeypatch.setenv("SMARTCUSTOMS_DATA_DIR", str(ctx.settings.data_dir))
    monkeypatch.setenv("COLUMNS", "250")  # tables not cut to a terminal's width

    def invoke(*args: str) -> tuple[int, str]:
        monkeypatch.setattr(sys, "argv", ["smartcustoms", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        out, err = capsys.readouterr()
        code = exited.value.code
        return (code if isinstance(code, int) else 1), out + err

    return invoke


def test_manage_webhooks_from_the_command_line(
    ctx: AppContext, receiver: Receiver, cli: Cli
) -> None:
    code, out = cli("webhooks", "create", receiver.url, "-e", "declaration.lane_decided")
    assert code == 0, out
    secret = re.search(r"^(whsec_\S+)$", out, re.MULTILINE)
    assert secret, out
    code, out = cli("webhooks", "create", "https://u:p@x.example/", "-e", "alert.raised")
    assert code != 0 and "user name or password" in out
    code, out = cli("webhooks", "create", receiver.url, "-e", "nope")
    assert code != 0 and "unknown event type" in out

    # The server's deliverer (this context) sends what lodging queued elsewhere.
    attach_webhooks(ctx)
    decide(ctx, 21)
    wait_for(lambda: receiver.received, message="delivered")
    code, out = cli("webhooks", "list")
    assert code == 0 and "127.0.0.1" in out and "declaration.lane_decided" in out
    assert secret.group(1) not in out
    wait_for(lambda: "delivered" in cli("webhooks", "deliveries")[1])
    code, out = cli("webhooks", "replay", "1")
    assert code == 0 and "queued again" in out, out
    wait_for(lambda: len(receiver.received) == 2, message="replayed")
    code, out = cli("webhooks", "replay", "--dead-of", "1")
    assert code == 0 and "0 dead deliveries" in out
    code, out = cli("webhooks", "delete", "1")
    assert code == 0, out
    code, out = cli("webhooks", "delete", "1")
    assert code != 0 and "no webhook subscription 1" in out
