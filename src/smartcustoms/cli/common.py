"""What every command shares: loading settings, opening the database, reporting errors."""

from __future__ import annotations

import getpass
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import ConfigurationError
from smartcustoms.core.schema import ensure_current
from smartcustoms.core.settings import Settings, load_settings
from smartcustoms.interop.webhooks.service import attach_webhooks
from smartcustoms.ledger.errors import PRODUCT_ERRORS
from smartcustoms.ledger.service import attach_ledger

__all__ = ["actor", "console", "err_console", "fail", "open_context", "run_guarded", "settings_of"]

console = Console()
err_console = Console(stderr=True, soft_wrap=True)
log = logging.getLogger("smartcustoms.cli")


def actor() -> str:
    """Who is acting, as recorded in events: the operating-system account at the console."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry in some containers
        return "cli:unknown"


def fail(message: str, code: int = 1) -> NoReturn:
    # Messages quote what users typed (file names, values): text, never Rich markup.
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
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
        attach_webhooks(app_ctx, start=False)  # lodging here queues deliveries; serve sends
        yield app_ctx
    finally:
        app_ctx.close()


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _report(kind: str, message: str) -> None:
    err_console.print(f"[bold red]{kind}:[/] {escape(message)}", highlight=False)


def run_guarded(app: typer.Typer) -> None:
    """Run the CLI. Every failure is one line on standard error and an exit code — 2 for
    settings and usage, 1 for the rest — never a trace: our own errors say what is wrong and
    where; anything unexpected is named by its type, its trace logged at debug level
    (``SMARTCUSTOMS_LOG_LEVEL=DEBUG`` shows it)."""
    try:
        app(standalone_mode=True)
    except ConfigurationError as exc:
        _report("configuration error", exc.message)
        sys.exit(2)
    except PRODUCT_ERRORS as exc:
        _report("error", exc.message)
        sys.exit(1)
    except RecursionError:
        _debug_trace()
        _report("error", "the input is nested too deeply to read")
        sys.exit(1)
    except BrokenPipeError:
        # The reader went away (`| head`): nothing more to say, and nowhere to say it.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    except Exception as exc:
        _debug_trace()
        detail = _one_line(str(exc))
        _report("error", f"unexpected {type(exc).__name__}" + (f": {detail}" if detail else ""))
        sys.exit(1)


def _debug_trace() -> None:
    if (
        os.environ.get("SMARTCUSTOMS_LOG_LEVEL", "").upper() == "DEBUG"
        and not logging.root.handlers
    ):
        logging.basicConfig(level=logging.DEBUG, format="%(asctime)s %(name)s %(message)s")
    log.debug("unexpected error", exc_info=True)
