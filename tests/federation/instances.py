"""Real instances for federation tests: each an application served by uvicorn on an ephemeral
port in a thread, with its own database, data directory (keys) and ledger."""

from __future__ import annotations

import secrets
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from smartcustoms.core.context import AppContext
from smartcustoms.core.db import Database
from smartcustoms.core.schema import upgrade
from smartcustoms.core.settings import load_settings
from smartcustoms.federation.card import Card
from smartcustoms.federation.service import own_card
from smartcustoms.ledger.service import ledger_of
from smartcustoms.web.app import create_app
from tests.waiting import wait_for


@dataclass
class Instance:
    name: str
    ctx: AppContext
    url: str
    server: uvicorn.Server
    app: Any = None
    thread: threading.Thread | None = None
    port: int = 0

    def stop_serving(self) -> None:
        """The instance goes down (its HTTP server stops; its database stays)."""
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(10)

    def start_serving(self) -> None:
        """Back up, on the same port."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, name="uvicorn-again", daemon=True
        )
        self.thread.start()
        wait_for(lambda: self.server.started, message=f"{self.name} did not start again")

    def card(self) -> Card:
        return own_card(self.ctx)

    def records(self, type_: str | None = None) -> list[dict[str, Any]]:
        ledger = ledger_of(self.ctx)
        ledger.flush()
        found = [ledger.record(i) for i in range(ledger.size())]
        return [r for r in found if type_ is None or r.get("type") == type_]


def context_for(
    tmp: Path,
    name: str,
    country: str,
    *,
    database_url: str | None = None,
    template: Path | None = None,
    port: int = 0,
    **extra: Any,
) -> AppContext:
    """A migrated context for administration ``name``: its own SQLite file (a copy of the
    suite's migrated ``template`` when given) unless ``database_url`` is given; ``extra``
    settings on top."""
    tmp.mkdir(parents=True, exist_ok=True)
    url = database_url or f"sqlite:///{tmp / 'smartcustoms.db'}"
    if database_url is None:
        if template is not None:
            shutil.copy(template, tmp / "smartcustoms.db")
        else:
            db = Database(url)
            upgrade(db)
            db.dispose()
    settings = load_settings(
        None,
        data_dir=tmp / "data",
        database_url=url,
        secret_key=secrets.token_urlsafe(48),
        administration_name=name,
        ledger_origin=f"{country.lower()}.example/ledger",
        federation_country=country,
        federation_url=f"http://127.0.0.1:{port}" if port else "http://127.0.0.1:9",
        federation_max_skew_s=60,
        # Retries in tenths of a second, not seconds: a test waits for the partner's return.
        federation_retry_base_ms=100,
        federation_retry_max_ms=400,
        **extra,
    )
    return AppContext.from_settings(settings)


@contextmanager
def serve(
    tmp: Path,
    name: str,
    country: str,
    *,
    database_url: str | None = None,
    template: Path | None = None,
    **extra: Any,
) -> Iterator[Instance]:
    tmp.mkdir(parents=True, exist_ok=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    ctx = context_for(
        tmp, name, country, database_url=database_url, template=template, port=port, **extra
    )
    try:
        app = create_app(ctx)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{country}", daemon=True
        )
        thread.start()
        wait_for(lambda: server.started, message=f"{name} did not start")
        try:
            instance = Instance(
                name, ctx, f"http://127.0.0.1:{port}", server, app=app, thread=thread, port=port
            )
            yield instance
        finally:
            instance.server.should_exit = True
            if instance.thread is not None:
                instance.thread.join(10)
    finally:
        sock.close()
        ctx.close()
