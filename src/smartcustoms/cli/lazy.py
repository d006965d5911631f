"""Command groups loaded when they run, not when the command starts.

The command groups import the whole product between them (the risk engine's scikit-learn and
LightGBM, the scan analyses, SQLAlchemy's models …): seconds of start-up that ``--version``,
``--help`` or ``db status`` should not pay. The root group knows each sub-command by its name,
the module that defines it and its one-line help (enough to list it), and imports the module
only when that command is the one being run. ``tests/cli/test_cli_startup.py`` holds it.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any, ClassVar, Literal

import typer
from typer import _click
from typer.core import TyperCommand, TyperGroup

__all__ = [
    "LazyEntry",
    "LazyGroup",
    "first_paragraph",
    "lazy_module",
    "plain_help",
    "reflow",
    "reflow_help",
]

#: The help's width when it is plain text: wider than any paragraph, so none is ever wrapped.
UNWRAPPED = 1_000_000
_plain = False  # set by plain_help(): every command loaded from then on is plain too


@dataclass(frozen=True)
class LazyEntry:
    """A sub-command: ``target`` is ``module:attribute``, a Typer app (``kind="group"``) or a
    function (``kind="command"``); ``help`` is its first paragraph, shown in the listing."""

    name: str
    target: str
    help: str
    kind: Literal["group", "command"] = "group"

    def load(self) -> _click.Command:
        module_name, _, attribute = self.target.partition(":")
        obj: Any = getattr(importlib.import_module(module_name), attribute)
        if self.kind == "group":
            # get_group, not get_command: a sub-group carries no --install-completion.
            command: _click.Command = typer.main.get_group(obj)
        else:
            single = typer.Typer(add_completion=False, rich_markup_mode="rich")
            single.command(self.name)(obj)
            command = typer.main.get_command(single)
        command.name = self.name
        reflow_help(command, rich=not _plain)
        if _plain:
            _plain_help(command)
        return command

    def placeholder(self) -> _click.Command:
        """What a listing needs (name and help) without importing anything."""
        return TyperCommand(name=self.name, help=self.help, short_help=self.help)


class LazyGroup(TyperGroup):
    """A Typer group whose sub-commands come from :data:`entries`, imported on use."""

    #: Set by a subclass: the sub-commands, in the order listed.
    entries: ClassVar[dict[str, LazyEntry]] = {}

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return [*self.commands, *(n for n in self.entries if n not in self.commands)]

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        # Listings (help, shell completion of names) get the placeholder; running a command
        # goes through resolve_command, which loads it first.
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        entry = self.entries.get(cmd_name)
        return entry.placeholder() if entry is not None else None

    def load(self, cmd_name: str) -> _click.Command | None:
        """The real command (imports its module once)."""
        if cmd_name not in self.commands and cmd_name in self.entries:
            self.commands[cmd_name] = self.entries[cmd_name].load()
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        if args:
            self.load(args[0])
        try:
            return self._click_resolve_command(ctx, args)
        except _click.exceptions.UsageError as exc:
            # TyperGroup suggests among the loaded commands only: suggest among them all.
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if self.suggest_commands and matches:
                suggestions = ", ".join(f"{m!r}" for m in matches)
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {suggestions}?"
            raise


def reflow(text: str) -> str:
    """A help text as Rich should wrap it: the lines of a paragraph joined into one.

    Typer's Rich help keeps every line break of a docstring, so text wrapped at 100 columns
    in the source came out broken mid-sentence, at whatever width the terminal has. Lines
    that start with a space (examples, commands to type) stay as they are, on their own.
    """
    paragraphs = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        if paragraph.startswith("\b"):
            paragraphs.append(paragraph)
            continue
        lines: list[str] = []
        for line in paragraph.split("\n"):
            literal = line[:1].isspace()
            if lines and not literal and not lines[-1][:1].isspace():
                lines[-1] = f"{lines[-1]} {line.strip()}"
            else:
                lines.append(line.rstrip() if literal else line.strip())
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def reflow_help(command: _click.Command, *, rich: bool = True) -> None:
    """:func:`reflow` every help text of a command and its sub-commands. For Rich's help
    (``rich``), brackets are escaped too: Rich read "[default: all]" as a markup tag and
    printed nothing of it; no help text here is written in Rich's markup."""
    from rich.markup import escape

    def fix(text: str) -> str:
        return escape(reflow(text)) if rich else reflow(text)

    if command.help:
        command.help = fix(command.help)
    if command.short_help:
        command.short_help = fix(command.short_help)
    for param in command.params:
        help_text = getattr(param, "help", None)
        if help_text:
            param.help = fix(help_text)  # type: ignore[attr-defined]
    for sub in getattr(command, "commands", {}).values():
        reflow_help(sub, rich=rich)


def plain_help(app: typer.Typer) -> None:
    """Help as plain text, each paragraph and each option on one line, for a file or a pipe.

    Rich's help is boxes as wide as the terminal; without a terminal it wrapped sentences at
    whatever width it was given, so `grep` missed the half on the next line. Plain, a
    paragraph is one line, and one with an example keeps its lines (click's ``\\b``)."""
    global _plain
    _plain = True
    app.rich_markup_mode = None
    app.info.context_settings = {**(app.info.context_settings or {}), "terminal_width": UNWRAPPED}


def _plain_help(command: _click.Command) -> None:
    if hasattr(command, "rich_markup_mode"):
        command.rich_markup_mode = None
    if command.help:
        # A listing shows the first paragraph, as Rich's does (click's own cuts at the first
        # full stop).
        command.short_help = command.short_help or first_paragraph(command.help)
        command.help = "\n\n".join(_keep_lines(p) for p in command.help.split("\n\n"))
    for sub in getattr(command, "commands", {}).values():
        _plain_help(sub)


def _keep_lines(paragraph: str) -> str:
    """A paragraph :func:`reflow` left on several lines (an example) printed as it is: click
    joins a paragraph's lines unless it starts with ``\\b``."""
    if "\n" in paragraph and not paragraph.startswith("\b"):
        return f"\b\n{paragraph}"
    return paragraph


def first_paragraph(text: str | None) -> str:
    """The part of a help text a listing shows (as Typer's Rich help does)."""
    return inspect.cleandoc(text or "").split("\n\n")[0].strip()


class _LazyModule:
    """A module imported the first time one of its attributes is read."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)


def lazy_module(name: str) -> Any:
    """``name``, imported when a command first uses it, not when the CLI loads. For type
    checking, import the module itself under ``TYPE_CHECKING`` with the same name."""
    return _LazyModule(name)
