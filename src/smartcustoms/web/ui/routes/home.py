"""The home page: for each of the user's roles, the work waiting for it — declarations to
examine, critical alerts, scans to review, overrides and rules to approve — with a link to
where the work is done. Users, sessions and tokens (the system status) are for
administrators only: other roles see the version and whether the database is reachable."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from smartcustoms.core.context import AppContext
from smartcustoms.core.i18n import N_
from smartcustoms.core.principal import Principal
from smartcustoms.core.roles import Role
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.risk.tables import (
    FINAL_LANE,
    InspectionRow,
    LaneDecisionRow,
    LaneOverrideRow,
    RuleVersionRow,
)
from smartcustoms.scans.tables import ScanRow
from smartcustoms.tracking.tables import AlertRow, DeviceRow, TransitRow
from smartcustoms.tracking.transit_status import TransitStatus
from smartcustoms.web.auth import context
from smartcustoms.web.policy import ANY_ROLE, CurrentPrincipal, requires
from smartcustoms.web.status import system_status
from smartcustoms.web.ui.render import render

router = APIRouter(include_in_schema=False)

_SHOWN = 5  # the first few items of a list of work, the link shows them all


@dataclass
class Work:
    """One kind of work waiting for a role: how much, the first few, where to do it."""

    key: str
    label: str  # an untranslated message id
    count: int
    link: str
    empty: str  # the sentence shown when there is none, untranslated
    items: list[dict[str, Any]] = field(default_factory=list)
    urgent: bool = False


#: Counts one kind of work in a read session.
WorkQuery = Callable[[Session], Work]


def _waiting(
    session: Session,
    query: Any,
    *,
    key: str,
    label: str,
    empty: str,
    link: str,
    item: Callable[[Any], dict[str, str]] | None = None,
    order: Sequence[Any] = (),
    urgent: bool = False,
) -> Work:
    """One kind of work: how many rows ``query`` finds and, when ``item`` says how to show
    one, the first few in ``order``. Every list on the home page is made here."""
    count = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    shown = []
    if item is not None and count:
        shown = [item(row) for row in session.execute(query.order_by(*order).limit(_SHOWN))]
    return Work(key, label, count, link, empty, shown, urgent=urgent and count > 0)


def _examinations(session: Session) -> Work:
    query = (
        select(DeclarationRow.id, DeclarationRow.lrn, DeclarationRow.declarant_id, FINAL_LANE)
        .join(LaneDecisionRow, LaneDecisionRow.declaration_id == DeclarationRow.id)
        .outerjoin(InspectionRow, InspectionRow.declaration_id == DeclarationRow.id)
        .where(FINAL_LANE.in_(["red", "scan", "yellow"]), InspectionRow.id.is_(None))
    )
    return _waiting(
        session,
        query,
        key="examinations",
        label=N_("Declarations waiting for examination"),
        empty=N_("No declaration is waiting for examination."),
        link="/declarations?lane=todo",
        item=lambda r: {"text": f"{r[1]} · {r[2]}", "lane": r[3], "href": f"/declarations/{r[0]}"},
        order=[DeclarationRow.id],
    )


def _transits_to_arm(session: Session) -> Work:
    query = select(TransitRow.id, TransitRow.reference, TransitRow.origin).where(
        TransitRow.status == TransitStatus.CREATED.value
    )
    return _waiting(
        session,
        query,
        key="transits_to_arm",
        label=N_("Transits waiting to be armed at departure"),
        empty=N_("No transit is waiting to be armed."),
        link="/tracking/transits",
        item=lambda r: {"text": f"{r[1]} · {r[2]}", "href": f"/tracking/transits/{r[0]}"},
        order=[TransitRow.id],
    )


def _scans(status: str, key: str, label: str, empty: str, queue: str) -> WorkQuery:
    def scans(session: Session) -> Work:
        return _waiting(
            session,
            select(ScanRow.id).where(ScanRow.status == status),
            key=key,
            label=label,
            empty=empty,
            link=f"/scans?queue={queue}",
            item=lambda r: {"text": f"#{r[0]}", "href": f"/scans/{r[0]}"},
            order=[ScanRow.priority.desc(), ScanRow.id],
        )

    return scans


def _critical_alerts(session: Session) -> Work:
    query = select(AlertRow.id, AlertRow.transit_id).where(
        AlertRow.status != "resolved", AlertRow.severity == "critical"
    )
    return _waiting(
        session,
        query,
        key="critical_alerts",
        label=N_("Critical alerts not resolved"),
        empty=N_("No critical alert is open."),
        link="/tracking/alerts",
        item=lambda r: {"text": f"#{r[0]}", "href": f"/tracking/transits/{r[1]}"},
        order=[AlertRow.raised_at],
        urgent=True,
    )


def _open_alerts(session: Session) -> Work:
    return _waiting(
        session,
        select(AlertRow.id).where(AlertRow.status != "resolved"),
        key="open_alerts",
        label=N_("Alerts not resolved"),
        empty=N_("No alert is open."),
        link="/tracking/alerts",
    )


def _overrides(session: Session) -> Work:
    query = select(
        LaneOverrideRow.id, LaneOverrideRow.declaration_id, LaneOverrideRow.to_lane
    ).where(LaneOverrideRow.status == "proposed")
    return _waiting(
        session,
        query,
        key="overrides",
        label=N_("Lane overrides waiting for approval"),
        empty=N_("No lane override is waiting for approval."),
        link="/risk/overrides",
        item=lambda r: {"text": f"#{r[1]} → {r[2]}", "href": f"/declarations/{r[1]}"},
        order=[LaneOverrideRow.id],
    )


def _rules(session: Session) -> Work:
    return _waiting(
        session,
        select(RuleVersionRow.id).where(RuleVersionRow.status == "draft"),
        key="rules",
        label=N_("Targeting rules waiting for approval"),
        empty=N_("No targeting rule is waiting for approval."),
        link="/risk/rules",
    )


def _devices(session: Session) -> Work:
    return _waiting(
        session,
        select(DeviceRow.device_id).where(DeviceRow.disabled.is_(False)),
        key="devices",
        label=N_("Devices in service"),
        empty=N_("No device is registered yet."),
        link="/admin/devices",
    )


#: The work each role sees, in this order; a role not listed has none on the home page.
WORK_BY_ROLE: Mapping[Role, Sequence[WorkQuery]] = {
    Role.EXAMINING_OFFICER: (
        _examinations,
        _scans(
            "awaiting_examination",
            "scans_to_examine",
            N_("Scans flagged for physical examination"),
            N_("No scan is waiting for physical examination."),
            "examination",
        ),
        _transits_to_arm,
    ),
    Role.RISK_ANALYST: (_rules, _overrides),
    Role.SUPERVISOR: (
        _overrides,
        _rules,
        _scans(
            "awaiting_recheck",
            "scans_to_recheck",
            N_("Scan decisions waiting for your re-check"),
            N_("No scan decision is waiting for a re-check."),
            "recheck",
        ),
    ),
    Role.COMMAND_CENTRE_OPERATOR: (_critical_alerts, _open_alerts),
    Role.IMAGE_ANALYST: (
        _scans(
            "awaiting_review",
            "scans_to_review",
            N_("Scans waiting for review"),
            N_("No scan is waiting for review."),
            "review",
        ),
    ),
    Role.ADMINISTRATOR: (_devices,),
}


def work_for(ctx: AppContext, principal: Principal) -> list[tuple[Role, list[Work]]]:
    """The work waiting for each of ``principal``'s roles, in the order of :class:`Role`."""
    with ctx.db.read_session() as session:
        return [
            (role, [query(session) for query in WORK_BY_ROLE[role]])
            for role in Role
            if role in WORK_BY_ROLE and principal.has_any(frozenset({role}))
        ]


def _is_administrator(principal: Principal) -> bool:
    return principal.has_any(frozenset({Role.ADMINISTRATOR}))


@router.get("/", response_class=HTMLResponse)
@requires(ANY_ROLE)
async def home(request: Request, principal: CurrentPrincipal) -> HTMLResponse:
    ctx = context(request)
    status = await run_in_threadpool(
        lambda: system_status(ctx, accounts=_is_administrator(principal))
    )
    work = await run_in_threadpool(work_for, ctx, principal)
    return render(request, "home.html", status=status, roles=sorted(principal.roles), work=work)


@router.get("/ui/status", response_class=HTMLResponse)
@requires(ANY_ROLE)
async def status_fragment(request: Request, principal: CurrentPrincipal) -> HTMLResponse:
    """The status panel alone; the home page polls it with HTMX."""
    ctx = context(request)
    status = await run_in_threadpool(
        lambda: system_status(ctx, accounts=_is_administrator(principal))
    )
    return render(request, "_status.html", status=status)
