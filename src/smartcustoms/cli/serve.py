"""``smartcustoms serve`` and ``smartcustoms demo``."""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from smartcustoms.cli.common import console, settings_of


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

    On SIGTERM (or Ctrl+C) it stops taking connections, lets requests in flight finish, has
    the ledger store what is queued, and exits 0 within SMARTCUSTOMS_SHUTDOWN_GRACE_S
    (default 10 s).
    """
    # Imported here, not with the module: the command line lists `serve` without loading them.
    import uvicorn

    from smartcustoms.core.context import AppContext
    from smartcustoms.core.logs import configure_logging
    from smartcustoms.core.schema import ensure_current
    from smartcustoms.tracking.listeners.process import start_listeners, stop_process
    from smartcustoms.web.app import close_budget_s

    settings = settings_of(ctx, host=host, port=port, workers=workers)
    configure_logging(settings.log_level, settings.log_format)
    app_ctx = AppContext.from_settings(settings)
    try:
        app_ctx.secret_key  # noqa: B018 - refuse now, with the variable to set, not per worker
        state = ensure_current(app_ctx.db)
        started = (
            f"database {app_ctx.db.display_url()} (schema {state.head}); "
            f"listening on http://{settings.host}:{settings.port}"
        )
        if settings.log_format == "json":  # a collector reads every line as JSON
            logging.getLogger("smartcustoms.serve").info(started)
        else:
            console.print(started)
    finally:
        app_ctx.close()
    # Worker processes rebuild their settings from the environment: hand them the overrides.
    config = (ctx.find_root().obj or {}).get("config")
    if config:
        os.environ["SMARTCUSTOMS_CONFIG"] = str(config)
    # The device listeners run beside the web workers, in a process of their own.
    listeners = start_listeners(config=config) if settings.tracking_listen else None
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again with the handler
    # it found: make that handler an orderly exit 0, as a service manager expects of a
    # requested stop (the default would end the process by the signal).
    signal.signal(signal.SIGTERM, _exit_quietly)
    grace = settings.shutdown_grace_s
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
            # Our handler and format (configure_logging); our access line (web.requestlog)
            # carries the request id, user and route template, so uvicorn's is off.
            log_config=None,
            access_log=False,
            # Requests in flight get the grace less what closing the application takes
            # (web.app.close_budget_s); live streams never finish by themselves and are cut.
            timeout_graceful_shutdown=grace - close_budget_s(grace),  # type: ignore[arg-type]
        )
    finally:
        if listeners is not None:
            stop_process(listeners)


def _exit_quietly(_sig: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Keep the demo's data here instead of a throwaway folder."),
    ] = None,
    partners: Annotated[
        bool,
        typer.Option(
            "--partners",
            help="Two administrations, Kenya on PORT and Uganda on PORT+2, partners from the "
            "start, with Kenya's trucks handed over to Uganda at Malaba.",
        ),
    ] = False,
) -> None:
    """Try smartcustoms: a throwaway database, one demo user per role, the web interface.

    Prints each demo user's generated password once, then serves on http://127.0.0.1:8000
    until you press Ctrl+C. Nothing touches your real settings or database.
    """
    from smartcustoms.demo import run_demo, run_partner_demo

    (run_partner_demo if partners else run_demo)(host=host, port=port, data_dir=data_dir)
