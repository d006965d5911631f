"""The demo's interoperability step: notifications by e-mail and webhooks, to the demo's catchers.

Every person of the demo gets an e-mail address (``<username>@demo.smartcustoms.example``); the
notification rules tell the command centre of a critical alert at once and the supervisor two
minutes later if nobody acknowledged it, the supervisors of a rule waiting for approval, and the
image analysts of a scan waiting for a re-check. One webhook subscription sends every event type
to the demo's receiver, which is handed the secret the instance shows once.

It runs before the other steps, so what they lodge and arm (lane decisions, armed transits, a
rule proposed) is already delivered and told when the server starts.
"""

from __future__ import annotations

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import MACHINE_ROLES, Role
from smartcustoms.interop.notify.contacts import set_contact
from smartcustoms.interop.notify.rules import add_rule
from smartcustoms.interop.webhooks.catalogue import EVENT_TYPES
from smartcustoms.interop.webhooks.service import attach_webhooks
from smartcustoms.interop.webhooks.subscriptions import create_subscription
from smartcustoms.sandbox.demo.catchers import Catchers

__all__ = ["DEMO_MAIL_DOMAIN", "DEMO_RULES", "seed_interop_demo"]

ACTOR = "demo"
DEMO_MAIL_DOMAIN = "demo.smartcustoms.example"
#: (trigger, role, minutes after the matter arose)
DEMO_RULES: tuple[tuple[str, Role, int], ...] = (
    ("alert_critical", Role.COMMAND_CENTRE_OPERATOR, 0),
    ("alert_critical", Role.SUPERVISOR, 2),
    ("rule_approval", Role.SUPERVISOR, 0),
    ("scan_recheck", Role.IMAGE_ANALYST, 0),
)


def demo_address(username: str) -> str:
    return f"{username}@{DEMO_MAIL_DOMAIN}"


def seed_interop_demo(ctx: AppContext, catchers: Catchers, usernames: dict[Role, str]) -> None:
    with ctx.unit() as unit:
        for role, username in usernames.items():
            if role in MACHINE_ROLES:
                continue  # a machine account reads no mail
            set_contact(
                unit, username, email=demo_address(username), phone=None, office=None,
                quiet_start=None, quiet_end=None, actor=ACTOR,
            )  # fmt: skip
        for trigger, role, minutes in DEMO_RULES:
            add_rule(
                unit, trigger=trigger, channels=["email"], role=role.value,
                after_minutes=minutes, actor=ACTOR,
            )  # fmt: skip
    # The recorder, attached now, queues a delivery for each later step's events; the server's
    # deliverer (started by create_app on this same service) sends them.
    webhooks = attach_webhooks(ctx, start=False)
    with ctx.unit() as unit:
        created = create_subscription(
            unit,
            webhooks.sealer,
            url=catchers.hooks.url,
            event_types=list(EVENT_TYPES),
            description="The demo's webhook receiver",
            actor=ACTOR,
        )
    catchers.hooks.trust(created.secret)
