"""What every command shares: loading settings, opening the database, reporting errors."""

from __future__ import annotations

import getpass
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer import _click

if TYPE_CHECKING:
    from rich.table import Table

    from smartcustoms.core.context import AppContext
    from smartcustoms.core.settings import Settings

# The settings, the database and the ledger are imported when a command opens them, not when
# the command line starts (``--version`` and ``--help`` need none of them).

__all__ = [
    "ERROR_PREFIX",
    "actor",
    "console",
    "err_console",
    "error_line",
    "fail",
    "keep_whole",
    "open_context",
    "run_guarded",
    "settings_of",
]

#: How every error line starts, whatever the command and whatever went wrong.
ERROR_PREFIX = "smartcustoms: error: "


def _console(*, stderr: bool = False) -> Console:
    # Piped or redirected, lines are as long as they are (a file or `grep` has no width), not
    # wrapped at 80 columns; in a terminal, its width.
    tty = (sys.stderr if stderr else sys.stdout).isatty()
    return Console(stderr=stderr, soft_wrap=stderr, width=None if tty else 10_000)


console = _console()
err_console = _console(stderr=True)
log = logging.getLogger("smartcustoms.cli")


def actor() -> str:
    """Who is acting, as recorded in events: the operating-system account at the console."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry in some containers
        return "cli:unknown"


def error_line(message: str, *, markup: bool = False) -> None:
    """One error line on standard error, ``smartcustoms: error: message``.

    Messages quote what users typed (file names, values): text, never Rich markup, unless the
    caller built the markup itself (``markup=True``) and escaped what it quotes."""
    text = message if markup else escape(message)
    err_console.print(f"[bold red]{ERROR_PREFIX}[/]{text}", highlight=False, soft_wrap=True)


def keep_whole(table: Table, column: int, values: Iterable[str]) -> None:
    """Never shorten this column's values: identifiers people copy (a model version, a token
    id) are shown whole, however narrow the terminal, where Rich would cut them with "…"."""
    col = table.columns[column]
    col.no_wrap = True
    col.overflow = "fold"
    col.min_width = max((len(v) for v in values), default=None)


def fail(message: str, code: int = 1) -> NoReturn:
    error_line(message)
    raise typer.Exit(code)


def settings_of(ctx: typer.Context, **overrides: Any) -> Settings:
    from smartcustoms.core.settings import load_settings

    obj = ctx.find_root().obj or {}
    config: Path | None = obj.get("config")
    return load_settings(config, **{k: v for k, v in overrides.items() if v is not None})


@contextmanager
def open_context(ctx: typer.Context, *, migrate_empty: bool = True) -> Iterator[AppContext]:
    """An AppContext on a database whose schema is current (an empty one is created).

    Its events are ledger records: the ledger starts with the first one (a command that
    publishes none starts no thread) and stops, signing a checkpoint, when the context closes.
    """
    from smartcustoms.core.context import AppContext
    from smartcustoms.core.schema import ensure_current
    from smartcustoms.federation.rule_answers import attach_rule_answers
    from smartcustoms.federation.scan_answers import attach_scan_answers
    from smartcustoms.federation.service import attach_federation
    from smartcustoms.interop.webhooks.service import attach_webhooks
    from smartcustoms.ledger.service import attach_ledger

    app_ctx = AppContext.from_settings(settings_of(ctx))
    try:
        if migrate_empty:
            ensure_current(app_ctx.db)
        attach_ledger(app_ctx, start=False)
        attach_webhooks(app_ctx, start=False)  # lodging here queues deliveries; serve sends
        attach_federation(app_ctx, start=False)  # a hand-over here queues it; serve sends
        attach_rule_answers(app_ctx)  # a partner's rule reviewed here answers back
        attach_scan_answers(app_ctx)  # and a partner's scan examined here
        yield app_ctx
    finally:
        app_ctx.close()


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _report(kind: str, message: str) -> None:
    error_line(f"{kind}: {message}" if kind else message)


def run_guarded(app: typer.Typer) -> None:
    """Run the CLI. Every failure is one line on standard error, starting
    ``smartcustoms: error:``, and an exit code — 2 for settings and usage, 1 for the rest —
    never a trace: our own errors say what is wrong and where; anything unexpected is named by
    its type, its trace logged at debug level (``SMARTCUSTOMS_LOG_LEVEL=DEBUG`` shows it)."""
    try:
        # Not standalone: usage errors come here, to be said in the same one line as the rest.
        result = app(standalone_mode=False)
    except _click.exceptions.NoArgsIsHelpError as exc:
        sys.exit(exc.exit_code)  # the help is already printed
    except _click.exceptions.ClickException as exc:
        _report("", _usage_message(exc))
        sys.exit(exc.exit_code)
    except typer.Abort:
        _report("", "aborted")
        sys.exit(1)
    except BrokenPipeError:
        # The reader went away (`| head`): nothing more to say, and nowhere to say it.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    except RecursionError:
        _debug_trace()
        _report("", "the input is nested too deeply to read")
        sys.exit(1)
    except Exception as exc:
        # Imported here, once something failed: start-up does not pay for the error classes.
        from smartcustoms.core.errors import ConfigurationError
        from smartcustoms.ledger.errors import PRODUCT_ERRORS

        if isinstance(exc, ConfigurationError):
            _report("configuration", exc.message)
            sys.exit(2)
        if isinstance(exc, PRODUCT_ERRORS):
            _report("", exc.message)
            sys.exit(1)
        _debug_trace()
        detail = _one_line(str(exc))
        _report("", f"unexpected {type(exc).__name__}" + (f": {detail}" if detail else ""))
        sys.exit(1)
    # Not standalone, a command's `typer.Exit(n)` comes back as its code.
    sys.exit(result if isinstance(result, int) else 0)


def _usage_message(exc: _click.exceptions.ClickException) -> str:
    message = _one_line(exc.format_message())
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, _click.exceptions.UsageError) and ctx is not None:
        return f"{message} (see `{ctx.command_path} --help`)"
    return message


def _debug_trace() -> None:
    if (
        os.environ.get("SMARTCUSTOMS_LOG_LEVEL", "").upper() == "DEBUG"
        and not logging.root.handlers
    ):
        logging.basicConfig(level=logging.DEBUG, format="%(asctime)s %(name)s %(message)s")
    log.debug("unexpected error", exc_info=True)
