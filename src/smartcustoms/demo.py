"""The one-command demo: a throwaway data directory, one user per role, the server.

Later modules add their own demo data (declarations, trucks on the corridors, scans) as steps in
:data:`DEMO_STEPS`. Nothing in the product imports this module; only the CLI runs it.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.schema import upgrade
from smartcustoms.core.settings import load_settings
from smartcustoms.core.traders import grant_traders
from smartcustoms.core.users import create_user
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.ledger.service import attach_ledger
from smartcustoms.risk.demo_data import lodged_declarant_ids, seed_risk_demo
from smartcustoms.scans.demo_data import seed_scans_demo
from smartcustoms.tracking.demo_data import seed_tracking_demo

__all__ = ["DEMO_STEPS", "DemoUser", "bind_demo_declarant", "prepare_demo", "run_demo"]

ACTOR = "demo"


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: Role


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


def prepare_demo(data_dir: Path) -> tuple[AppContext, list[DemoUser]]:
    """Create the demo's database and users in ``data_dir``."""
    settings = load_settings(
        None,
        data_dir=data_dir,
        # Explicit, so a SMARTCUSTOMS_DATABASE_URL in the environment can never point the demo at
        # a real database.
        database_url=f"sqlite:///{data_dir / 'demo.db'}",
        secret_key=secrets.token_urlsafe(48),
        production=False,
    )
    ctx = AppContext.from_settings(settings)
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
            users.append(DemoUser(demo_username(role), password, role))
    for step in DEMO_STEPS:
        step(ctx)
    bind_demo_declarant(ctx)  # after every step: it binds what they lodged
    return ctx, users


def run_demo(*, host: str, port: int, data_dir: Path | None) -> None:
    import uvicorn

    from smartcustoms.web.app import create_app

    console = Console()
    # uvicorn re-raises the signal that stopped it; turning SIGTERM into SystemExit lets the
    # `finally` below delete the throwaway data instead of the process dying on the spot.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    throwaway = data_dir is None
    folder = Path(tempfile.mkdtemp(prefix="smartcustoms-demo-")) if data_dir is None else data_dir
    folder.mkdir(parents=True, exist_ok=True)
    ctx: AppContext | None = None
    try:
        ctx, users = prepare_demo(folder)
        table = Table("role", "username", "password", title="Demo users (shown once)")
        for user in users:
            table.add_row(user.role.label, user.username, user.password)
        console.print(table)
        console.print(f"Demo data in {folder}" + (" (deleted on exit)" if throwaway else ""))
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
        if throwaway:
            shutil.rmtree(folder, ignore_errors=True)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)
