"""``smartcustoms notify``: who is told of what (rules, contacts), what was sent, a test."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from smartcustoms.cli.common import actor, console, fail, open_context
from smartcustoms.cli.lazy import lazy_module

if TYPE_CHECKING:
    from smartcustoms.interop.notify import contacts, delivery, journal, tables
    from smartcustoms.interop.notify import rules as rulebook
else:  # the notifier and its tables load when a command runs, not for `--help`
    contacts = lazy_module("smartcustoms.interop.notify.contacts")
    delivery = lazy_module("smartcustoms.interop.notify.delivery")
    journal = lazy_module("smartcustoms.interop.notify.journal")
    rulebook = lazy_module("smartcustoms.interop.notify.rules")
    tables = lazy_module("smartcustoms.interop.notify.tables")

#: ``interop.notify.triggers.TRIGGERS``, named here for the help text without loading the
#: notifier (tests/cli/test_cli_startup.py keeps them equal).
TRIGGERS = ("alert_critical", "alert_escalated", "rule_approval", "scan_recheck")

app = typer.Typer(
    help="E-mail and SMS notifications to the people on duty: rules, contacts, what was sent.",
    no_args_is_help=True,
)
rules_app = typer.Typer(
    help="Notification rules: which role or person is told of what, on which channels, and "
    "after how many minutes (0: at once; N: an escalation step).",
)
app.add_typer(rules_app, name="rules")


def _t(value: object) -> Text:
    """A cell as plain text: names and addresses are data, never Rich markup."""
    return Text("-" if value is None else str(value))


@rules_app.callback(invoke_without_command=True)
def rules(ctx: typer.Context) -> None:
    """List the rules (or add and remove them: see the sub-commands)."""
    if ctx.invoked_subcommand is not None:
        return
    with open_context(ctx) as app_ctx, app_ctx.db.session() as session:
        table = Table("id", "trigger", "who", "office", "channels", "after (min)")
        for rule in rulebook.list_rules(session):
            who = f"role {rule.role}" if rule.role else f"user {rule.username}"
            table.add_row(
                str(rule.id),
                rule.trigger,
                _t(who),
                _t(rule.office or "any"),
                rule.channels,
                str(rule.after_minutes),
            )
        console.print(table)


@rules_app.command("add")
def rules_add(
    ctx: typer.Context,
    trigger: Annotated[str, typer.Argument(help=f"One of: {', '.join(TRIGGERS)}.")],
    role: Annotated[str | None, typer.Option(help="Tell every holder of this role.")] = None,
    user: Annotated[str | None, typer.Option(help="Tell this one person.")] = None,
    channel: Annotated[
        list[str], typer.Option("--channel", "-C", help="email and/or sms (repeat).")
    ] = ["email"],  # noqa: B006 - Typer reads the default, never mutates it
    office: Annotated[
        str | None, typer.Option(help="Only matters at this office (default: every office).")
    ] = None,
    after: Annotated[
        int, typer.Option(help="Minutes the matter must still wait (an escalation step).")
    ] = 0,
) -> None:
    """Add a rule."""
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        row = rulebook.add_rule(
            unit,
            trigger=trigger,
            role=role,
            username=user,
            channels=channel,
            office=office,
            after_minutes=after,
            actor=actor(),
        )
        console.print(Text(f"rule {row.id} added: {trigger} → {role or user} ({row.channels})"))


@rules_app.command("remove")
def rules_remove(
    ctx: typer.Context, rule_id: Annotated[int, typer.Argument(help="The rule's id.")]
) -> None:
    """Remove a rule."""
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        rulebook.remove_rule(unit, rule_id, actor=actor())
    console.print(f"rule {rule_id} removed")


@app.command("contact")
def contact(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The person.")],
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone, international (+254…).")] = None,
    office: Annotated[str | None, typer.Option(help="The office they work at.")] = None,
    quiet: Annotated[
        str | None, typer.Option(help="Quiet hours, local time, e.g. 22:00-06:00.")
    ] = None,
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Africa/Nairobi.")] = "UTC",
) -> None:
    """Set a person's contact details and quiet hours (what is not given is cleared)."""
    start = end = None
    if quiet:
        start, sep, end = quiet.partition("-")
        if not sep:
            fail("--quiet: a period such as 22:00-06:00", 2)
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        contacts.set_contact(
            unit,
            username,
            email=email,
            phone=phone,
            office=office,
            quiet_start=start,
            quiet_end=end,
            timezone=timezone,
            actor=actor(),
        )
    console.print(Text(f"contact of {username} saved"))


@app.command("list")
def list_(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this person's.")] = None,
    state: Annotated[
        str | None, typer.Option(help="Only in this state (queued, sent, failed, dead …).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 50,
) -> None:
    """The latest notifications with their delivery state, newest first."""
    with open_context(ctx) as app_ctx, app_ctx.db.session() as session:
        table = Table("id", "when", "user", "channel", "trigger", "state", "tries", "title / error")
        for row in journal.list_notifications(session, username=user, state=state, limit=limit):
            table.add_row(
                str(row.id),
                f"{row.created_at:%Y-%m-%d %H:%M}",
                _t(row.username),
                row.channel,
                row.trigger + (f" +{row.step}m" if row.step else ""),
                row.state,
                str(row.tries),
                _t(row.title + (f"\n{row.last_error}" if row.last_error else "")),
            )
        console.print(table)


@app.command("test")
def send_test(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Who receives it.")],
    channel: Annotated[str, typer.Option("--channel", "-C", help="email or sms.")] = "email",
) -> None:
    """Send a test message now through the configured SMTP server or Kannel, and say
    whether it went out (it is recorded like any notification)."""
    with open_context(ctx) as app_ctx:
        with app_ctx.unit() as unit:
            row = journal.queue_test(unit, app_ctx.settings, username, channel, actor=actor())
        settings = app_ctx.settings
        state = delivery.deliver_one(app_ctx.db, settings, row.id, delivery.senders_from(settings))
        with app_ctx.db.session() as session:
            latest = session.get(tables.NotificationRow, row.id)
            assert latest is not None
    if state != "sent":
        fail(f"notification {row.id} {state}: {latest.last_error}")
    console.print(Text(f"notification {row.id} sent to {latest.address} by {channel}"))
