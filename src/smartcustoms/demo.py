"""The one-command demo: a throwaway data directory, one user per role, the server.

Later modules add their own demo data (declarations, trucks on the corridors, scans) as steps in
:data:`DEMO_STEPS`. Before them, when the demo runs with its catchers (a mail catcher and a
webhook receiver on 127.0.0.1, with their pages), the instance's notifications and webhooks are
pointed at them. Nothing in the product imports this module; only the CLI runs it.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import MACHINE_ROLES, Role
from smartcustoms.core.schema import upgrade
from smartcustoms.core.settings import load_settings
from smartcustoms.core.tokens import create_token
from smartcustoms.core.traders import grant_traders
from smartcustoms.core.users import create_user, get_user
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.ledger.service import attach_ledger
from smartcustoms.sandbox.demo.catchers import Catchers, start_catchers
from smartcustoms.sandbox.demo.interop import seed_interop_demo
from smartcustoms.sandbox.demo.partners import (
    KENYA,
    UGANDA,
    HandOverAtMalaba,
    link_partners,
    share_and_offer,
)
from smartcustoms.sandbox.demo.risk import lodged_declarant_ids, seed_risk_demo
from smartcustoms.sandbox.demo.scans import seed_scans_demo
from smartcustoms.sandbox.demo.tracking import import_demo_corridors, seed_tracking_demo

__all__ = [
    "DEMO_STEPS",
    "DemoUser",
    "bind_demo_declarant",
    "prepare_demo",
    "print_demo_users",
    "run_demo",
    "run_partner_demo",
]

ACTOR = "demo"
#: A demo runs for an afternoon; a month covers one left running.
DEMO_TOKEN_DAYS = 30


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: Role
    #: A machine account's API token (a tracking gateway's, for a Traccar server to forward
    #: with): it logs in to no page, so the token is what it is shown with, not the password.
    token: str | None = None


#: Steps run after the users exist, each given the context; modules append theirs.
DEMO_STEPS: list[Callable[[AppContext], None]] = [
    seed_risk_demo,  # KCS history, a trained model, rules, and today's declarations in the queue
    seed_tracking_demo,  # corridors, armed transits, and simulated trucks reporting live
    seed_scans_demo,  # simulated container scans, some hiding something, in the review queue
]


def demo_username(role: Role) -> str:
    return role.value.replace("_", "-")


def bind_demo_declarant(ctx: AppContext) -> None:
    """Bind the demo declarant to the trader identities the demo lodges under in its name
    (a broker acting for many traders), so it reads its lanes and transits like a real one."""
    username = demo_username(Role.DECLARANT)
    with ctx.unit() as unit:
        stored = unit.session.scalars(
            select(DeclarationRow.declarant_id)
            .where(DeclarationRow.submitted_by == username)
            .distinct()
        )
        ids = sorted(set(stored) | lodged_declarant_ids())
        grant_traders(unit, username, ids, actor=ACTOR)


def _notify_settings(catchers: Catchers | None) -> dict[str, object]:
    """Notification settings: the demo's mail catcher, or nothing. Explicit either way, so a
    SMARTCUSTOMS_NOTIFY_* in the environment can never make the demo mail or text real people."""
    none: dict[str, object] = {
        "notify_smtp_host": None,
        "notify_smtp_user": None,
        "notify_smtp_password": None,
        "notify_smtp_password_file": None,
        "notify_kannel_url": None,
    }
    if catchers is None:
        return none
    return none | {
        "notify_smtp_host": "127.0.0.1",
        "notify_smtp_port": catchers.mail.port,
        "notify_smtp_starttls": False,  # a catcher on this machine; no certificate to verify
        "notify_smtp_from": "smartcustoms-demo@demo.smartcustoms.example",
    }


def prepare_demo(
    data_dir: Path,
    catchers: Catchers | None = None,
    *,
    steps: Sequence[Callable[[AppContext], None]] = DEMO_STEPS,
    **settings: Any,
) -> tuple[AppContext, list[DemoUser]]:
    """Create the demo's database and users in ``data_dir`` and run ``steps``; with
    ``catchers``, notifications and webhooks go to them. ``settings`` add to the demo's own
    (the partner demo names each administration and its federation address)."""
    loaded = load_settings(
        None,
        data_dir=data_dir,
        # Explicit, so a SMARTCUSTOMS_DATABASE_URL in the environment can never point the demo at
        # a real database.
        database_url=f"sqlite:///{data_dir / 'demo.db'}",
        secret_key=secrets.token_urlsafe(48),
        production=False,
        **_notify_settings(catchers),
        **settings,
    )
    ctx = AppContext.from_settings(loaded)
    upgrade(ctx.db)
    attach_ledger(ctx)  # the demo's users and data are ledger records from the first one
    users = []
    with ctx.unit() as unit:
        for role in Role:
            password = secrets.token_urlsafe(9)
            create_user(
                unit,
                username=demo_username(role),
                password=password,
                roles=[role],
                display_name=f"Demo {role.label.lower()}",
                actor=ACTOR,
            )
            token = None
            if role in MACHINE_ROLES:
                user = get_user(unit.session, demo_username(role))
                token = create_token(
                    unit,
                    user,
                    name="demo",
                    days=DEMO_TOKEN_DAYS,
                    max_days=DEMO_TOKEN_DAYS,
                    actor=ACTOR,
                ).secret
            users.append(DemoUser(demo_username(role), password, role, token))
    if catchers is not None:  # first: the other steps' lane decisions and alerts go out too
        seed_interop_demo(ctx, catchers, {u.role: u.username for u in users})
    for step in steps:
        step(ctx)
    bind_demo_declarant(ctx)  # after every step: it binds what they lodged
    return ctx, users


def print_demo_users(
    console: Console, users: Sequence[DemoUser], title: str = "Demo users"
) -> None:
    """The demo users' generated passwords, shown once, and the machine accounts' tokens."""
    table = Table("role", "username", "password", title=f"{title} (shown once)")
    for user in users:
        if user.token is None:
            table.add_row(user.role.label, user.username, user.password)
    console.print(table)
    for user in users:
        if user.token is not None:
            # Not in the table: "log in as any user above" is not true of a machine account.
            console.print(
                f"{user.role.label} ({user.username}) logs in to no page; its API token, "
                f"for `smartcustoms tracking traccar-config --token-stdin`: {user.token}",
                soft_wrap=True,
            )


def run_demo(*, host: str, port: int, data_dir: Path | None) -> None:
    import uvicorn

    from smartcustoms.cli.common import console  # piped, lines are not cut at 80 columns
    from smartcustoms.web.app import create_app

    # uvicorn re-raises the signal that stopped it; turning SIGTERM into SystemExit lets the
    # `finally` below delete the throwaway data instead of the process dying on the spot.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    throwaway = data_dir is None
    folder = Path(tempfile.mkdtemp(prefix="smartcustoms-demo-")) if data_dir is None else data_dir
    folder.mkdir(parents=True, exist_ok=True)
    ctx: AppContext | None = None
    catchers: Catchers | None = None
    try:
        # Before the context: its settings name the mail catcher's port.
        catchers = start_catchers(port + 1)
        ctx, users = prepare_demo(folder, catchers)
        print_demo_users(console, users)
        console.print(f"Demo data in {folder}" + (" (deleted on exit)" if throwaway else ""))
        console.print(f"Mail and webhooks the demo's instance sent: {catchers.url}")
        console.print(
            f"[bold]Open http://{host}:{port} and log in as any user above.[/] Ctrl+C stops."
        )
        uvicorn.run(
            create_app(ctx),
            host=host,
            port=port,
            log_level="warning",
            server_header=False,
            timeout_graceful_shutdown=10,  # live streams do not end by themselves
        )
    finally:
        if ctx is not None:
            ctx.close()  # stops what the steps started (the tracking listeners, the simulator)
        if catchers is not None:
            catchers.stop()  # after the instance: it may still be sending to them
        if throwaway:
            shutil.rmtree(folder, ignore_errors=True)


#: What Uganda's instance seeds in the partner demo: its own corridors, risk data and scans; its
#: trucks are Kenya's, handed over at Malaba.
PARTNER_STEPS: list[Callable[[AppContext], None]] = [
    import_demo_corridors,
    seed_risk_demo,
    seed_scans_demo,
]


def _public_host(host: str) -> str:
    """The address partners reach this machine's instances at (the demo is local)."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104 (compared, not bound)


def run_partner_demo(*, host: str, port: int, data_dir: Path | None) -> None:
    """Kenya on ``port`` and Uganda on ``port + 2`` (``port + 1`` is Kenya's mail and webhook
    catcher), partners from the start, Kenya's Northern Corridor trucks handed over at Malaba."""
    import threading

    import uvicorn

    from smartcustoms.cli.common import console  # piped, lines are not cut at 80 columns
    from smartcustoms.web.app import create_app

    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    throwaway = data_dir is None
    folder = Path(tempfile.mkdtemp(prefix="smartcustoms-demo-")) if data_dir is None else data_dir
    folder.mkdir(parents=True, exist_ok=True)
    public = _public_host(host)
    ports = {KENYA.name: port, UGANDA.name: port + 2}
    contexts: list[AppContext] = []
    catchers: Catchers | None = None
    watcher: HandOverAtMalaba | None = None
    uganda: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    try:
        catchers = start_catchers(port + 1)
        kenya_ctx, kenya_users = prepare_demo(
            folder / "kenya", catchers, **KENYA.settings(f"http://{public}:{port}")
        )
        contexts.append(kenya_ctx)
        uganda_ctx, uganda_users = prepare_demo(
            folder / "uganda", steps=PARTNER_STEPS, **UGANDA.settings(f"http://{public}:{port + 2}")
        )
        contexts.append(uganda_ctx)
        link_partners(kenya_ctx, uganda_ctx)
        shared_scan, offered_rule = share_and_offer(kenya_ctx, UGANDA.name)
        print_demo_users(console, kenya_users, f"{KENYA.name}, http://{host}:{port}")
        print_demo_users(console, uganda_users, f"{UGANDA.name}, http://{host}:{port + 2}")
        uganda = uvicorn.Server(
            uvicorn.Config(
                create_app(uganda_ctx),
                host=host,
                port=port + 2,
                log_level="warning",
                server_header=False,
                timeout_graceful_shutdown=10,
            )
        )
        thread = threading.Thread(target=uganda.run, name="demo-uganda", daemon=True)
        thread.start()
        # Kenya's application first: it attaches the federation outbox the hand-overs ride on.
        kenya_app = create_app(kenya_ctx)
        watcher = HandOverAtMalaba(kenya_ctx, UGANDA.name)
        watcher.start()
        console.print(f"Demo data in {folder}" + (" (deleted on exit)" if throwaway else ""))
        console.print(f"Mail and webhooks Kenya's instance sent: {catchers.url}")
        console.print(
            f"Kenya's Northern Corridor trucks are handed over to {UGANDA.name} as they reach "
            f"Malaba: accept them on Uganda's Transits page (an officer), then follow them on "
            f"both maps."
        )
        if shared_scan is not None:
            console.print(
                f"Kenya shared scan {shared_scan} with Uganda: Uganda's image analyst finds it in "
                "the review queue, marked as Kenya's."
            )
        if offered_rule is not None:
            console.print(
                f"Kenya offered its rule {offered_rule!r} to Uganda: a proposal there until "
                "Uganda's supervisor approves it (Risk → Rules)."
            )
        for name, served in ports.items():
            console.print(f"[bold]{name}: open http://{host}:{served}[/]")
        console.print("Log in with the users above. Ctrl+C stops both.")
        uvicorn.run(
            kenya_app,
            host=host,
            port=port,
            log_level="warning",
            server_header=False,
            timeout_graceful_shutdown=10,
        )
    finally:
        if watcher is not None:
            watcher.stop()
        if uganda is not None:
            uganda.should_exit = True
        if thread is not None:
            thread.join(15)
        for ctx in reversed(contexts):
            ctx.close()
        if catchers is not None:
            catchers.stop()
        if throwaway:
            shutil.rmtree(folder, ignore_errors=True)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)
