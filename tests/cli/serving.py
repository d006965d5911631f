"""A real `smartcustoms serve` process on a throwaway SQLite database, for the serve tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.schema import upgrade
from smartcustoms.core.settings import load_settings
from smartcustoms.core.tokens import create_token
from smartcustoms.core.traders import grant_traders
from smartcustoms.core.users import create_user, get_user
from tests.conftest import PASSWORD
from tests.waiting import wait_for

DECLARANT_ID = "BRK001"  # the declarant of tests.declarations.helpers


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    tokens: dict[str, str]  # username → API token

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(data_dir: Path) -> dict[str, str]:
    """The database, a declarant (bound to BRK001) and an administrator, each with a token."""
    ctx = AppContext.from_settings(load_settings(None, data_dir=data_dir))
    try:
        upgrade(ctx.db)
        tokens = {}
        with ctx.unit() as unit:
            for name, role in (("cms", Role.DECLARANT), ("admin", Role.ADMINISTRATOR)):
                create_user(unit, username=name, password=PASSWORD, roles=[role], actor="test")
                if role is Role.DECLARANT:
                    grant_traders(unit, name, [DECLARANT_ID], actor="test")
                user = get_user(unit.session, name)
                tokens[name] = create_token(
                    unit, user, name="test", days=1, max_days=2, actor="test"
                ).secret
        return tokens
    finally:
        ctx.close()


@contextmanager
def serving(data_dir: Path, **settings: str) -> Iterator[Served]:
    """``smartcustoms serve`` on ``data_dir`` with ``settings`` (names without the prefix),
    its output in ``data_dir/serve.log``; stopped (SIGKILL) at the end if still running."""
    tokens = prepare(data_dir)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCUSTOMS_")}
    env["SMARTCUSTOMS_DATA_DIR"] = str(data_dir)
    env.update({"SMARTCUSTOMS_" + k.upper(): v for k, v in settings.items()})
    log = data_dir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "smartcustoms", "serve", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    served = Served(url, process, log, tokens)

    def up() -> bool:
        assert process.poll() is None, f"serve exited early:\n{served.log_text()}"
        try:
            return httpx2.get(url + "/health", timeout=1).status_code == 200
        except httpx2.TransportError:
            return False

    try:
        wait_for(up, timeout=60, interval=0.1, message="serve did not start")
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
