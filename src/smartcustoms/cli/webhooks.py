"""``smartcustoms webhooks``: signed webhooks to a CMS or a partner — subscriptions and
deliveries. The server (``smartcustoms serve``) sends them; these commands manage them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from smartcustoms.cli.common import actor, console, open_context
from smartcustoms.cli.lazy import lazy_module

if TYPE_CHECKING:
    from smartcustoms.interop.webhooks import catalogue
    from smartcustoms.interop.webhooks import service as delivery
    from smartcustoms.interop.webhooks import subscriptions as service
else:  # the tables (SQLAlchemy) load when a command runs, not for `--help`
    catalogue = lazy_module("smartcustoms.interop.webhooks.catalogue")
    delivery = lazy_module("smartcustoms.interop.webhooks.service")
    service = lazy_module("smartcustoms.interop.webhooks.subscriptions")

app = typer.Typer(
    help="Webhook subscriptions (Standard Webhooks, signed) and their deliveries.",
    no_args_is_help=True,
)


@app.command("event-types")
def event_types() -> None:
    """List the event types a subscription may name."""
    for name in catalogue.EVENT_TYPES:
        typer.echo(name)


@app.command("create")
def create(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The receiver's URL (http or https).")],
    event: Annotated[
        list[str],
        typer.Option("--event", "-e", help="An event type to send (repeat); see event-types."),
    ],
    description: Annotated[str, typer.Option(help="What the receiver is.")] = "",
) -> None:
    """Subscribe a receiver and print its signing secret once. Store it now: it cannot be
    shown again."""
    with open_context(ctx) as app_ctx:
        sealer = delivery.webhooks_of(app_ctx).sealer
        with app_ctx.unit() as unit:
            new = service.create_subscription(
                unit, sealer, url=url, event_types=event, description=description, actor=actor()
            )
            sid = new.row.id
    console.print(f"subscription {sid}; its signing secret:")
    typer.echo(new.secret)


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List subscriptions with their deliveries by state (never their secrets)."""
    with open_context(ctx) as app_ctx, app_ctx.db.read_session() as session:
        counts = service.status_counts(session)
        table = Table("id", "url", "events", "pending", "delivered", "dead")
        for row in service.list_subscriptions(session):
            table.add_row(
                str(row.id),
                escape(row.url),
                ", ".join(service.event_types_of(row)),
                *(str(counts.get((row.id, s), 0)) for s in ("pending", "delivered", "dead")),
            )
        console.print(table)


@app.command("delete")
def delete(
    ctx: typer.Context, subscription_id: Annotated[int, typer.Argument(min=1, max=2**31 - 1)]
) -> None:
    """Delete a subscription; its pending deliveries are dropped."""
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        service.delete_subscription(unit, subscription_id, actor=actor())
    console.print(f"subscription {subscription_id} deleted")


@app.command("deliveries")
def deliveries(
    ctx: typer.Context,
    subscription: Annotated[int | None, typer.Option(min=1, max=2**31 - 1)] = None,
    status: Annotated[str | None, typer.Option(help="pending, delivered or dead.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """The latest deliveries, newest first."""
    with open_context(ctx) as app_ctx, app_ctx.db.read_session() as session:
        rows = service.list_deliveries(
            session, subscription_id=subscription, status=status, limit=limit
        )
        table = Table(
            "id", "sub", "event", "subject", "status", "tries", "last answer", "webhook-id"
        )
        for row in rows:
            table.add_row(
                str(row.id),
                str(row.subscription_id),
                row.event_type,
                escape(row.subject),
                row.status,
                str(row.attempts),
                escape(f"{row.last_status or ''} {row.last_error or ''}".strip()),
                row.message_id,
            )
        console.print(table)


@app.command("replay")
def replay(
    ctx: typer.Context,
    delivery_id: Annotated[int | None, typer.Argument(min=1, max=2**63 - 1)] = None,
    dead_of: Annotated[
        int | None,
        typer.Option(
            "--dead-of", min=1, max=2**31 - 1, help="Every dead delivery of this subscription."
        ),
    ] = None,
) -> None:
    """Send a delivery again with the same webhook-id (or every dead one of a subscription)."""
    if (delivery_id is None) == (dead_of is None):
        raise typer.BadParameter("give a delivery id or --dead-of SUBSCRIPTION, not both")
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        if dead_of is not None:
            count = service.replay_dead(unit, dead_of, actor=actor())
            message = f"{count} dead deliveries of subscription {dead_of} queued again"
        else:
            assert delivery_id is not None
            row = service.replay_delivery(unit, delivery_id, actor=actor())
            message = f"delivery {row.id} ({row.message_id}) queued again"
    console.print(message)
