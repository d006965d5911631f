"""``smartcustoms serve`` and ``smartcustoms demo``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from smartcustoms.cli.common import console, settings_of
from smartcustoms.core.context import AppContext
from smartcustoms.core.schema import ensure_current
from smartcustoms.tracking.listeners.process import start_listeners, stop_process


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on [default: from settings, 127.0.0.1]")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on [default: from settings, 8000]")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes [default: from settings, 1]")
    ] = None,
) -> None:
    """Run the web interface and API.

    An empty database is created on first start. A database with an older schema is refused
    until you run `smartcustoms db upgrade`. In production (SMARTCUSTOMS_PRODUCTION=true) a
    secret key must be set. Put it behind a TLS reverse proxy; see the README. With
    SMARTCUSTOMS_TRACKING_LISTEN=true it also runs the device listeners (`smartcustoms tracking
    listen`) as a child process, stopped with it.
    """
    import uvicorn

    settings = settings_of(ctx, host=host, port=port, workers=workers)
    app_ctx = AppContext.from_settings(settings)
    try:
        app_ctx.secret_key  # noqa: B018 - refuse now, with the variable to set, not per worker
        state = ensure_current(app_ctx.db)
        console.print(
            f"database {app_ctx.db.display_url()} (schema {state.head}); "
            f"listening on http://{settings.host}:{settings.port}"
        )
    finally:
        app_ctx.close()
    # Worker processes rebuild their settings from the environment: hand them the overrides.
    config = (ctx.find_root().obj or {}).get("config")
    if config:
        os.environ["SMARTCUSTOMS_CONFIG"] = str(config)
    # The device listeners run beside the web workers, in a process of their own.
    listeners = start_listeners(config=config) if settings.tracking_listen else None
    try:
        uvicorn.run(
            "smartcustoms.web.app:create_app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            proxy_headers=True,
            forwarded_allow_ips=settings.trusted_proxies,
            server_header=False,
            log_level=settings.log_level.lower(),
            # Live streams (server-sent events) never finish by themselves: do not wait on them.
            timeout_graceful_shutdown=10,
        )
    finally:
        if listeners is not None:
            stop_process(listeners)


def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Keep the demo's data here instead of a throwaway folder."),
    ] = None,
) -> None:
    """Try smartcustoms: a throwaway database, one demo user per role, the web interface.

    Prints each demo user's generated password once, then serves on http://127.0.0.1:8000
    until you press Ctrl+C. Nothing touches your real settings or database.
    """
    from smartcustoms.demo import run_demo

    run_demo(host=host, port=port, data_dir=data_dir)
