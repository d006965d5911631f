"""The home page: for each of the user's roles, the work waiting for it — declarations to
examine, critical alerts, scans to review, overrides and rules to approve — with a link to
where the work is done. Users, sessions and tokens (the system status) are for
administrators only: other roles see the version and whether the database is reachable."""

from __future__ import annotations

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


def _count(session: Session, query: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _examinations(session: Session) -> Work:
    query = (
        select(DeclarationRow.id, DeclarationRow.lrn, DeclarationRow.declarant_id, FINAL_LANE)
        .join(LaneDecisionRow, LaneDecisionRow.declaration_id == DeclarationRow.id)
        .outerjoin(InspectionRow, InspectionRow.declaration_id == DeclarationRow.id)
        .where(FINAL_LANE.in_(["red", "scan", "yellow"]), InspectionRow.id.is_(None))
    )
    rows = session.execute(query.order_by(DeclarationRow.id).limit(_SHOWN)).all()
    return Work(
        key="examinations",
        label=N_("Declarations waiting for examination"),
        count=_count(session, query),
        link="/declarations?lane=todo",
        empty=N_("No declaration is waiting for examination."),
        items=[
            {"text": f"{lrn} · {declarant}", "lane": lane, "href": f"/declarations/{id_}"}
            for id_, lrn, declarant, lane in rows
        ],
    )


def _transits_to_arm(session: Session) -> Work:
    query = select(TransitRow.id, TransitRow.reference, TransitRow.origin).where(
        TransitRow.status == TransitStatus.CREATED.value
    )
    rows = session.execute(query.order_by(TransitRow.id).limit(_SHOWN)).all()
    return Work(
        key="transits_to_arm",
        label=N_("Transits waiting to be armed at departure"),
        count=_count(session, query),
        link="/tracking/transits",
        empty=N_("No transit is waiting to be armed."),
        items=[
            {"text": f"{ref} · {origin}", "href": f"/tracking/transits/{id_}"}
            for id_, ref, origin in rows
        ],
    )


def _scans(session: Session, status: str, key: str, label: str, empty: str, queue: str) -> Work:
    query = select(ScanRow.id, ScanRow.declaration_id).where(ScanRow.status == status)
    rows = session.execute(query.order_by(ScanRow.priority.desc(), ScanRow.id).limit(_SHOWN)).all()
    return Work(
        key=key,
        label=label,
        count=_count(session, query),
        link=f"/scans?queue={queue}",
        empty=empty,
        items=[{"text": f"#{id_}", "href": f"/scans/{id_}"} for id_, _ in rows],
    )


def _alerts(session: Session) -> list[Work]:
    unresolved = select(AlertRow.id).where(AlertRow.status != "resolved")
    critical = (
        select(AlertRow.id, AlertRow.type, AlertRow.transit_id)
        .where(AlertRow.status != "resolved", AlertRow.severity == "critical")
        .order_by(AlertRow.raised_at)
    )
    rows = session.execute(critical.limit(_SHOWN)).all()
    n_critical = _count(session, critical)
    return [
        Work(
            key="critical_alerts",
            label=N_("Critical alerts not resolved"),
            count=n_critical,
            link="/tracking/alerts",
            empty=N_("No critical alert is open."),
            items=[
                {"text": f"#{id_}", "href": f"/tracking/transits/{transit}"}
                for id_, _type, transit in rows
            ],
            urgent=n_critical > 0,
        ),
        Work(
            key="open_alerts",
            label=N_("Alerts not resolved"),
            count=_count(session, unresolved),
            link="/tracking/alerts",
            empty=N_("No alert is open."),
        ),
    ]


def _overrides(session: Session) -> Work:
    query = select(LaneOverrideRow.id, LaneOverrideRow.declaration_id, LaneOverrideRow.to_lane)
    query = query.where(LaneOverrideRow.status == "proposed")
    rows = session.execute(query.order_by(LaneOverrideRow.id).limit(_SHOWN)).all()
    return Work(
        key="overrides",
        label=N_("Lane overrides waiting for approval"),
        count=_count(session, query),
        link="/risk/overrides",
        empty=N_("No lane override is waiting for approval."),
        items=[
            {"text": f"#{declaration} → {lane}", "href": f"/declarations/{declaration}"}
            for _, declaration, lane in rows
        ],
    )


def _rules(session: Session) -> Work:
    query = select(RuleVersionRow.id).where(RuleVersionRow.status == "draft")
    return Work(
        key="rules",
        label=N_("Targeting rules waiting for approval"),
        count=_count(session, query),
        link="/risk/rules",
        empty=N_("No targeting rule is waiting for approval."),
    )


def _devices(session: Session) -> Work:
    query = select(DeviceRow.device_id).where(DeviceRow.disabled.is_(False))
    return Work(
        key="devices",
        label=N_("Devices in service"),
        count=_count(session, query),
        link="/admin/devices",
        empty=N_("No device is registered yet."),
    )


def work_for(ctx: AppContext, principal: Principal) -> list[tuple[Role, list[Work]]]:
    """The work waiting for each of ``principal``'s roles, in the order of :class:`Role`."""
    out: list[tuple[Role, list[Work]]] = []
    with ctx.db.read_session() as session:
        for role in Role:
            if not principal.has_any(frozenset({role})):
                continue
            work: list[Work] = []
            if role is Role.EXAMINING_OFFICER:
                work = [
                    _examinations(session),
                    _scans(
                        session,
                        "awaiting_examination",
                        "scans_to_examine",
                        N_("Scans flagged for physical examination"),
                        N_("No scan is waiting for physical examination."),
                        "examination",
                    ),
                    _transits_to_arm(session),
                ]
            elif role is Role.RISK_ANALYST:
                work = [_rules(session), _overrides(session)]
            elif role is Role.SUPERVISOR:
                work = [
                    _overrides(session),
                    _rules(session),
                    _scans(
                        session,
                        "awaiting_recheck",
                        "scans_to_recheck",
                        N_("Scan decisions waiting for your re-check"),
                        N_("No scan decision is waiting for a re-check."),
                        "recheck",
                    ),
                ]
            elif role is Role.COMMAND_CENTRE_OPERATOR:
                work = _alerts(session)
            elif role is Role.IMAGE_ANALYST:
                work = [
                    _scans(
                        session,
                        "awaiting_review",
                        "scans_to_review",
                        N_("Scans waiting for review"),
                        N_("No scan is waiting for review."),
                        "review",
                    )
                ]
            elif role is Role.ADMINISTRATOR:
                work = [_devices(session)]
            if work:
                out.append((role, work))
    return out


@router.get("/", response_class=HTMLResponse)
@requires(ANY_ROLE)
async def home(request: Request, principal: CurrentPrincipal) -> HTMLResponse:
    ctx = context(request)
    status = await run_in_threadpool(system_status, ctx)
    work = await run_in_threadpool(work_for, ctx, principal)
    return render(
        request,
        "home.html",
        status=status,
        roles=sorted(principal.roles),
        work=work,
        show_accounts=principal.has_any(frozenset({Role.ADMINISTRATOR})),
    )


@router.get("/ui/status", response_class=HTMLResponse)
@requires(ANY_ROLE)
async def status_fragment(request: Request, principal: CurrentPrincipal) -> HTMLResponse:
    """The status panel alone; the home page polls it with HTMX."""
    status = await run_in_threadpool(system_status, context(request))
    return render(
        request,
        "_status.html",
        status=status,
        show_accounts=principal.has_any(frozenset({Role.ADMINISTRATOR})),
    )
