"""The partners page: this instance's card and fingerprint, the partner directory; for
administrators, adding a partner by pasting its card, suspending and reactivating one.
Supervisors and auditors read it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from smartcustoms.core.errors import SmartCustomsError
from smartcustoms.core.i18n import N_
from smartcustoms.core.unit import Unit
from smartcustoms.federation import directory
from smartcustoms.federation.card import KINDS, fingerprint_groups
from smartcustoms.federation.service import own_card
from smartcustoms.federation.tables import ACTIVE, SUSPENDED
from smartcustoms.web.api.routes.partners import MANAGERS, READERS
from smartcustoms.web.auth import context
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.ui.render import render

__all__ = ["router"]

router = APIRouter(prefix="/partners", include_in_schema=False)

PartnerName = Annotated[str, Path(min_length=1, max_length=120)]

#: What a partner may receive, named on the page (the card carries the codes).
KIND_LABELS = {
    "transits": N_("transits"),
    "scans": N_("scans"),
    "rules": N_("rules"),
    "notices": N_("notices"),
}


def _page(
    request: Request,
    principal: CurrentPrincipal,
    *,
    added: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ctx = context(request)
    with ctx.db.read_session() as session:
        partners = [directory.partner_public(r) for r in directory.list_partners(session)]
    card_text = card_fingerprint = card_problem = None
    try:
        own = own_card(ctx)
        card_text, card_fingerprint = own.to_json(), fingerprint_groups(own.fingerprint)
    except SmartCustomsError as exc:
        card_problem = exc.message
    return render(
        request,
        "partners.html",
        status_code=status_code,
        partners=partners,
        card_text=card_text,
        card_fingerprint=card_fingerprint,
        card_problem=card_problem,
        kinds=KINDS,
        kind_labels=KIND_LABELS,
        manager=bool(principal.roles & MANAGERS),
        added=added,
        error=error,
    )


@router.get("", response_class=HTMLResponse)
@requires(READERS)
def partners_page(request: Request, principal: CurrentPrincipal) -> HTMLResponse:
    return _page(request, principal)


@router.post("", response_class=HTMLResponse)
@requires(MANAGERS)
def add(
    request: Request,
    principal: CurrentPrincipal,
    card: Annotated[str, Form(min_length=1, max_length=20_000)],
    kinds: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    ctx = context(request)
    try:
        with ctx.unit() as unit:
            row = directory.add_partner(
                unit, card, own=own_card(ctx), actor=principal.username, kinds=kinds or None
            )
            added = f"{row.name} — {fingerprint_groups(row.fingerprint)}"
    except SmartCustomsError as exc:
        return _page(request, principal, error=exc.message, status_code=exc.status_code)
    return _page(request, principal, added=added, status_code=201)


def _act(
    request: Request, principal: CurrentPrincipal, action: Callable[[Unit], object]
) -> Response:
    try:
        with context(request).unit() as unit:
            action(unit)
    except SmartCustomsError as exc:
        return _page(request, principal, error=exc.message, status_code=exc.status_code)
    return RedirectResponse("/partners", status_code=303)


@router.post("/{name}/suspend")
@requires(MANAGERS)
def suspend(request: Request, name: PartnerName, principal: CurrentPrincipal) -> Response:
    return _act(
        request,
        principal,
        lambda unit: directory.set_state(unit, name, SUSPENDED, actor=principal.username),
    )


@router.post("/{name}/activate")
@requires(MANAGERS)
def activate(request: Request, name: PartnerName, principal: CurrentPrincipal) -> Response:
    return _act(
        request,
        principal,
        lambda unit: directory.set_state(unit, name, ACTIVE, actor=principal.username),
    )
