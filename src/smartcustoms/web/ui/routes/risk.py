"""Targeting rules (write, then someone else approves; an approved one offered to a partner,
with what became of each offer), risk models with their hit rates, the supervisor's queue of
lane overrides, and selectivity: selection rates per lane and office against the expected ones,
hit rates by original and final lane."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcustoms.core.errors import SmartCustomsError, ValidationFailed
from smartcustoms.core.i18n import N_
from smartcustoms.core.roles import Role
from smartcustoms.federation.directory import kinds_of, list_partners
from smartcustoms.federation.rules_offered import RULES_KIND, list_offers, offer_rule
from smartcustoms.federation.tables import ACTIVE
from smartcustoms.risk import overrides, registry, rulebook, selection_rates
from smartcustoms.risk.inspections import detection, hit_rates, weekly
from smartcustoms.risk.lanes import LANE_LABELS, Lane
from smartcustoms.risk.rules import RULE_FIELDS
from smartcustoms.risk.tables import RuleVersionRow
from smartcustoms.web.api.routes.partners import RULE_OFFERERS
from smartcustoms.web.auth import context
from smartcustoms.web.i18n import translations
from smartcustoms.web.params import RowId
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.ui.render import language_of, render

router = APIRouter(prefix="/risk", include_in_schema=False)

VIEWERS = (Role.RISK_ANALYST, Role.SUPERVISOR, Role.AUDITOR)


def _rules_page(
    request: Request,
    *,
    error: str | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    with context(request).db.session() as session:
        versions = list(
            session.scalars(select(RuleVersionRow).order_by(RuleVersionRow.id.desc()).limit(200))
        )
        rates = {
            r.group.removeprefix("rule:"): r
            for r in hit_rates(session)
            if r.group.startswith("rule:")
        }
        offers: dict[str, list[dict[str, Any]]] = {}
        for offer in list_offers(session):
            offers.setdefault(f"{offer['rule']}@{offer['version']}", []).append(offer)
        partners = _rule_partners(session)
    return render(
        request,
        "risk_rules.html",
        status_code=status,
        versions=versions,
        offers=offers,
        offer_partners=partners,
        may_offer=bool(_roles(request) & RULE_OFFERERS),
        lanes=list(Lane),
        lane_labels=LANE_LABELS,
        fields=sorted(RULE_FIELDS),
        rates=rates,
        error=error,
        form=form or {},
    )


@router.get("/rules", response_class=HTMLResponse)
@requires(*VIEWERS)
def rules_page(request: Request) -> HTMLResponse:
    return _rules_page(request)


def _date(value: str, field: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(f"{field}: not a date", details=[{"field": field}]) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@router.post("/rules")
@requires(Role.RISK_ANALYST)
def propose(
    request: Request,
    principal: CurrentPrincipal,
    name: Annotated[str, Form(max_length=120)],
    expression: Annotated[str, Form(max_length=2000)],
    lane: Annotated[str, Form(max_length=8)],
    reason: Annotated[str, Form(max_length=500)],
    instructions: Annotated[str, Form(max_length=2000)] = "",
    valid_from: Annotated[str, Form(max_length=32)] = "",
    valid_until: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    form = {
        "name": name,
        "expression": expression,
        "lane": lane,
        "reason": reason,
        "instructions": instructions,
        "valid_from": valid_from,
        "valid_until": valid_until,
    }
    try:
        if lane not in Lane._value2member_map_:
            raise ValidationFailed(f"unknown lane {lane!r}", details=[{"field": "lane"}])
        with context(request).unit() as unit:
            rulebook.propose(
                unit,
                name=name,
                expression=expression,
                lane=Lane(lane),
                reason=reason,
                instructions=instructions,
                valid_from=_date(valid_from, "valid_from"),
                valid_until=_date(valid_until, "valid_until"),
                actor=principal.username,
            )
    except SmartCustomsError as exc:
        return _rules_page(request, error=exc.message, status=exc.status_code, form=form)
    return RedirectResponse("/risk/rules", status_code=303)


@router.post("/rules/{version_id}/review")
@requires(Role.SUPERVISOR)
def review(
    request: Request,
    version_id: RowId,
    principal: CurrentPrincipal,
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        with context(request).unit() as unit:
            rulebook.review(
                unit, version_id, approve=decision == "approve", actor=principal.username, note=note
            )
    except SmartCustomsError as exc:
        return _rules_page(request, error=exc.message, status=exc.status_code)
    return RedirectResponse("/risk/rules", status_code=303)


# -- rules offered to partners -----------------------------------------------------------------


def _rule_partners(session: Session) -> list[str]:
    """The partners an approved rule may be offered to: active, given rules by the directory
    (what :func:`smartcustoms.federation.allowed.check_allowed` lets through)."""
    return [
        p.name for p in list_partners(session) if p.state == ACTIVE and RULES_KIND in kinds_of(p)
    ]


# (error code, field) → the sentence shown; %(partner)s is the partner chosen. The use case
# names an unknown partner's field "name" (the directory's), an unallowed one's "partner".
_OFFER_ERRORS: Mapping[tuple[str, str], str] = {
    ("validation_failed", "partner"): N_("Choose the partner to offer the rule to."),
    ("not_found", "name"): N_("There is no partner named “%(partner)s”."),
    ("partner_suspended", "partner"): N_(
        "%(partner)s is suspended: nothing is offered to it until an administrator reactivates it."
    ),
    ("partner_not_allowed", "partner"): N_(
        "%(partner)s does not take targeting rules from this administration."
    ),
    ("not_found", "rule"): N_("This rule no longer exists."),
    ("rule_not_approved", "rule"): N_("Only an approved rule is offered to a partner."),
    ("rule_already_offered", "rule"): N_(
        "This rule version was already offered to %(partner)s and is not declined."
    ),
}


def _offer_error(request: Request, error: SmartCustomsError, partner: str) -> str:
    """The refusal as a sentence in the reader's language; the use case's own for another."""
    field = next((d["field"] for d in error.details if isinstance(d.get("field"), str)), "")
    message = _OFFER_ERRORS.get((error.code, field))
    if message is None:
        return error.message
    return translations(language_of(request)).gettext(message) % {"partner": partner}


@router.post("/rules/{version_id}/offer")
@requires(RULE_OFFERERS)
def offer(
    request: Request,
    version_id: RowId,
    principal: CurrentPrincipal,
    partner: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    """Offer approved version ``version_id`` to ``partner``, as ``POST /api/partners/{name}/
    rules/offer`` does (the same use case: a ``rule.offered`` message and its ledger record)."""
    form = {"offer_version": str(version_id), "partner": partner}
    try:
        if not partner.strip():
            raise ValidationFailed("choose a partner", details=[{"field": "partner"}])
        with context(request).unit() as unit:
            offer_rule(unit, partner, version_id, actor=principal.username)
    except SmartCustomsError as exc:
        return _rules_page(
            request,
            error=_offer_error(request, exc, partner),
            status=exc.status_code,
            form=form,
        )
    return RedirectResponse(f"/risk/rules#rule-{version_id}", status_code=303)


@router.get("/models", response_class=HTMLResponse)
@requires(*VIEWERS)
def models_page(request: Request) -> HTMLResponse:
    with context(request).db.session() as session:
        models = registry.list_models(session)
        rates = hit_rates(session)
        found = detection(session)
        weeks = weekly(session)
    active = next((m for m in models if m.active), models[0] if models else None)
    curve = active.card.get("evaluation", {}).get("holdout_curve", []) if active else []
    return render(
        request,
        "risk_models.html",
        models=models,
        rates=rates,
        detection=found,
        weeks=weeks,
        curve=curve_points(curve),
        curve_model=active.version if active else None,
    )


def curve_points(curve: list[dict[str, float]]) -> dict[str, str]:
    """Precision and recall against inspection rate as SVG polyline points (200 x 120 box)."""
    if not curve:
        return {}

    def points(key: str) -> str:
        return " ".join(f"{c['rate'] * 200:.1f},{120 - c[key] * 120:.1f}" for c in curve)

    return {"precision": points("precision"), "recall": points("recall")}


@router.post("/models/{version}/activate")
@requires(Role.RISK_ANALYST)
def activate(request: Request, version: str, principal: CurrentPrincipal) -> Response:
    with context(request).unit() as unit:
        registry.activate(unit, version, actor=principal.username)
    return RedirectResponse("/risk/models", status_code=303)


# -- lane overrides ----------------------------------------------------------------------------

OVERRIDE_READERS = (Role.EXAMINING_OFFICER, Role.RISK_ANALYST, Role.SUPERVISOR, Role.AUDITOR)


def _overrides_page(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    with context(request).db.session() as session:
        waiting = overrides.pending(session)
    return render(
        request,
        "risk_overrides.html",
        status_code=status,
        pending=waiting,
        lane_labels=LANE_LABELS,
        may_review=Role.SUPERVISOR in _roles(request),
        error=error,
    )


def _roles(request: Request) -> frozenset[Role]:
    principal = getattr(request.state, "principal", None)
    return principal.roles if principal is not None else frozenset()


@router.get("/overrides", response_class=HTMLResponse)
@requires(*OVERRIDE_READERS)
def overrides_page(request: Request) -> Response:
    """Lane changes waiting for a supervisor, oldest first."""
    return _overrides_page(request)


@router.post("/overrides/{override_id}/review")
@requires(*overrides.REVIEWERS)
def review_override(
    request: Request,
    override_id: RowId,
    principal: CurrentPrincipal,
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        with context(request).unit() as unit:
            act = overrides.approve if decision == "approve" else overrides.reject
            act(unit, override_id, actor=principal.username, roles=principal.roles, note=note)
    except SmartCustomsError as exc:
        return _overrides_page(request, error=exc.message, status=exc.status_code)
    return RedirectResponse("/risk/overrides", status_code=303)


# -- selectivity -------------------------------------------------------------------------------

WINDOWS = (7, 30, 90, 365)


def _selectivity_page(
    request: Request,
    *,
    days: int = 30,
    error: str | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    ctx = context(request)
    with ctx.db.session() as session:
        report = selection_rates.selection_rates(
            session,
            since=selection_rates.default_since(days),
            engine_red=selection_rates.engine_red_share(ctx.settings),
        )
        hits = selection_rates.lane_hit_rates(session)
    return render(
        request,
        "risk_selectivity.html",
        status_code=status,
        report=report,
        hits=hits,
        days=days,
        windows=WINDOWS,
        lanes=list(Lane),
        lane_labels=LANE_LABELS,
        may_set=bool(_roles(request) & {Role.SUPERVISOR, Role.RISK_ANALYST}),
        error=error,
        form=form or {},
    )


@router.get("/selectivity", response_class=HTMLResponse)
@requires(*VIEWERS)
def selectivity_page(request: Request, days: int = 30) -> Response:
    return _selectivity_page(request, days=days if days in WINDOWS else 30)


@router.post("/selectivity/expected")
@requires(Role.SUPERVISOR, Role.RISK_ANALYST)
def set_expected(
    request: Request,
    principal: CurrentPrincipal,
    lane: Annotated[str, Form(max_length=8)],
    share: Annotated[str, Form(max_length=16)],
    office: Annotated[str, Form(max_length=17)] = selection_rates.ALL_OFFICES,
) -> Response:
    """Set the share expected in a lane (a percentage); an empty share stops expecting one."""
    form = {"office": office, "lane": lane, "share": share}
    try:
        if lane not in Lane._value2member_map_:
            raise ValidationFailed(f"unknown lane {lane!r}", details=[{"field": "lane"}])
        with context(request).unit() as unit:
            if not share.strip():
                selection_rates.clear_expected(
                    unit, office=office or "*", lane=Lane(lane), actor=principal.username
                )
            else:
                try:
                    percent = Decimal(share.strip().rstrip("%"))
                except InvalidOperation:
                    raise ValidationFailed(
                        "share: a percentage", details=[{"field": "share"}]
                    ) from None
                selection_rates.set_expected(
                    unit,
                    office=office or "*",
                    lane=Lane(lane),
                    share=percent / 100,
                    actor=principal.username,
                )
    except SmartCustomsError as exc:
        return _selectivity_page(request, error=exc.message, status=exc.status_code, form=form)
    return RedirectResponse("/risk/selectivity", status_code=303)
