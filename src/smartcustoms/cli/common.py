"""What every command shares: loading settings, opening the database, reporting errors."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import ConfigurationError, SmartCustomsError
from smartcustoms.core.schema import ensure_current
from smartcustoms.core.settings import Settings, load_settings
from smartcustoms.ledger.service import attach_ledger

__all__ = ["actor", "console", "err_console", "fail", "open_context", "run_guarded", "settings_of"]

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def actor() -> str:
    """Who is acting, as recorded in events: the operating-system account at the console."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry in some containers
        return "cli:unknown"


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def settings_of(ctx: typer.Context, **overrides: Any) -> Settings:
    obj = ctx.find_root().obj or {}
    config: Path | None = obj.get("config")
    return load_settings(config, **{k: v for k, v in overrides.items() if v is not None})


@contextmanager
def open_context(ctx: typer.Context, *, migrate_empty: bool = True) -> Iterator[AppContext]:
    """An AppContext on a database whose schema is current (an empty one is created).

    Its events are ledger records: the ledger starts with the first one (a command that
    publishes none starts no thread) and stops, signing a checkpoint, when the context closes.
    """
    app_ctx = AppContext.from_settings(settings_of(ctx))
    try:
        if migrate_empty:
            ensure_current(app_ctx.db)
        attach_ledger(app_ctx, start=False)
        yield app_ctx
    finally:
        app_ctx.close()


def run_guarded(app: typer.Typer) -> None:
    """Run the CLI; our own errors become a one-line message and an exit code, never a trace."""
    try:
        app(standalone_mode=True)
    except ConfigurationError as exc:
        err_console.print(f"[bold red]configuration error:[/] {exc.message}", highlight=False)
        sys.exit(2)
    except SmartCustomsError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        sys.exit(1)
