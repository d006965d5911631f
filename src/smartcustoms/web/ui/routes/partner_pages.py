"""The partners page: this instance's card and fingerprint, the partner directory; for
administrators, adding a partner by pasting its card, suspending and reactivating one.
Supervisors and auditors read it. The community page (``/partners/community``): per partner,
witnessing and what is shared, and the rules offered with their answers. The notices page
(``/partners/notices``): searching seizure and irregularity notices, ours and partners', and
for analysts and supervisors publishing one."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from smartcustoms.core import clock
from smartcustoms.core.errors import SmartCustomsError
from smartcustoms.core.i18n import N_
from smartcustoms.core.unit import Unit
from smartcustoms.federation import directory
from smartcustoms.federation.card import KINDS, fingerprint_groups
from smartcustoms.federation.community import community
from smartcustoms.federation.notices import (
    NOTICE_KINDS,
    NOTICES_KIND,
    UNITS,
    notice_public,
    publish_notice,
    search_notices,
)
from smartcustoms.federation.rules_offered import list_offers
from smartcustoms.federation.service import own_card
from smartcustoms.federation.tables import ACTIVE, SUSPENDED
from smartcustoms.web.api.routes.federation import NOTICE_PUBLISHERS, NOTICE_READERS
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


@router.get("/community", response_class=HTMLResponse)
@requires(READERS)
def community_page(request: Request) -> HTMLResponse:
    with context(request).db.read_session() as session:
        figures = community(session)
        offers = list_offers(session)
    return render(request, "partners_community.html", partners=figures, offers=offers)


#: Words on the notices page for the codes a notice carries.
NOTICE_KIND_LABELS = {"seizure": N_("seizure"), "irregularity": N_("irregularity")}
UNIT_LABELS = {
    "kg": N_("kg"),
    "t": N_("tonnes"),
    "l": N_("litres"),
    "m3": N_("cubic metres"),
    "pieces": N_("pieces"),
    "packages": N_("packages"),
    "cartons": N_("cartons"),
}


def _notices_page(
    request: Request,
    principal: CurrentPrincipal,
    *,
    q: str = "",
    hs: str = "",
    form: dict[str, str] | None = None,
    published: bool = False,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ctx = context(request)
    with ctx.db.read_session() as session:
        try:
            notices = [notice_public(r) for r in search_notices(session, q=q, hs=hs)]
        except SmartCustomsError as exc:
            notices, error, status_code = [], exc.message, exc.status_code
        partners = [
            p.name
            for p in directory.list_partners(session)
            if p.state == ACTIVE and NOTICES_KIND in directory.kinds_of(p)
        ]
    return render(
        request,
        "partners_notices.html",
        status_code=status_code,
        notices=notices,
        q=q,
        hs=hs,
        partners=partners,
        kinds=NOTICE_KINDS,
        kind_labels=NOTICE_KIND_LABELS,
        units=UNITS,
        unit_labels=UNIT_LABELS,
        publisher=bool(principal.roles & NOTICE_PUBLISHERS),
        form=form or {},
        published=published,
        error=error,
        today=clock.now().date().isoformat(),
    )


@router.get("/notices", response_class=HTMLResponse)
@requires(NOTICE_READERS)
def notices_page(
    request: Request,
    principal: CurrentPrincipal,
    q: Annotated[str, Query(max_length=200)] = "",
    hs: Annotated[str, Query(max_length=10)] = "",
) -> HTMLResponse:
    return _notices_page(request, principal, q=q.strip(), hs=hs.strip())


@router.post("/notices", response_class=HTMLResponse)
@requires(NOTICE_PUBLISHERS)
def publish(
    request: Request,
    principal: CurrentPrincipal,
    kind: Annotated[str, Form(max_length=12)],
    found: Annotated[str, Form(max_length=500)],
    hs_code: Annotated[str, Form(max_length=10)],
    route: Annotated[str, Form(max_length=200)],
    concealment: Annotated[str, Form(max_length=300)],
    quantity: Annotated[Decimal, Form(gt=0, lt=10**12)],
    unit: Annotated[str, Form(max_length=8)],
    found_on: Annotated[str, Form(max_length=10)],
    partners: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    form = {
        "kind": kind,
        "found": found,
        "hs_code": hs_code,
        "route": route,
        "concealment": concealment,
        "quantity": str(quantity),
        "unit": unit,
        "found_on": found_on,
    }
    ctx = context(request)
    try:
        with ctx.unit() as work:
            publish_notice(
                work,
                form,
                partners or [],
                own_name=ctx.settings.administration_name,
                actor=principal.username,
            )
    except SmartCustomsError as exc:
        return _notices_page(
            request, principal, form=form, error=exc.message, status_code=exc.status_code
        )
    return _notices_page(request, principal, published=True, status_code=201)
