"""The partners page: this instance's card and fingerprint, the partner directory; for
administrators, adding a partner by pasting its card, updating one from its newer card (pasted
or uploaded; a new request key needs the fingerprint read by phone), suspending and reactivating
one.
Supervisors and auditors read it. The community page (``/partners/community``): per partner,
witnessing and what is shared, and the rules offered with their answers. The notices page
(``/partners/notices``): searching seizure and irregularity notices, ours and partners', and
for analysts and supervisors publishing one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from smartcustoms.core import clock
from smartcustoms.core.errors import SmartCustomsError, ValidationFailed
from smartcustoms.core.i18n import N_
from smartcustoms.core.unit import Unit
from smartcustoms.federation import directory
from smartcustoms.federation.card import KINDS, fingerprint_groups, parse_card
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
from smartcustoms.web.i18n import translations
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.ui.render import language_of, render

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


#: The card's fields an update may change, named on the page.
CHANGE_LABELS = {
    "country": N_("country"),
    "url": N_("instance URL"),
    "request_vkey": N_("request key"),
    "ledger_vkey": N_("ledger key"),
    "witness_vkey": N_("witness key"),
    "kinds": N_("what it may receive"),
}

#: The fields a conflicting card shares with another partner, named in the refusal.
CLASH_LABELS = {**CHANGE_LABELS, "name": N_("name"), "keys": N_("keys")}

#: The largest card taken, pasted or uploaded: a card is about 1.5 kB; the add form's bound.
MAX_CARD = 20_000

# (error code, field) → the sentence shown in the card update form; %(name)s from the details.
_CARD_MESSAGES: Mapping[tuple[str, str], str] = {
    ("card_missing", "card"): N_("Card: paste the partner's new card or choose its file."),
    ("card_too_large", "card"): N_(
        "Card: at most %(max)s bytes; a partner card is about 1,500. Is this the right file?"
    ),
    ("validation_failed", "card"): N_(
        "Card: not a partner card. Paste it exactly as the partner sent it."
    ),
    ("validation_failed", "card.name"): N_(
        "Card: this is the card of “%(value)s”, not of this partner."
    ),
    ("not_found", "card.name"): N_("This partner is no longer in the directory."),
    ("card_signature_invalid", ""): N_(
        "Card: its signature does not verify with its request key: it was changed after "
        "signing, or signed by another key. Ask the partner for the card again."
    ),
    ("fingerprint_confirmation_required", "confirm_fingerprint"): N_(
        "Fingerprint read by phone: this card has a new request key. Call the partner, "
        "have them read its fingerprint, and type it here."
    ),
    ("fingerprint_mismatch", "confirm_fingerprint"): N_(
        "Fingerprint read by phone: it is not this card's fingerprint. Do not take the card: "
        "call the partner again."
    ),
    ("partner_is_self", "card"): N_(
        "Card: this is this instance's own card, or a card naming one of its keys."
    ),
    ("partner_exists", ""): N_(
        "Card: partner “%(partner)s” is already in the directory with the same %(field)s."
    ),
}


@dataclass(frozen=True)
class CardFormState:
    """The update form of one partner as it comes back: what was pasted (or read from the
    file), the new fingerprint when the card asks for a confirmation, the refusal."""

    name: str
    card: str
    field: str  # the field to mark: card, confirm_fingerprint, or "" (the whole form)
    text: str  # the refusal in the reader's language
    detail: str  # the domain's own words (English), for the administrator and the logs
    code: str
    fingerprint: str | None  # the new card's, in groups, when it parsed


def _card_refusal(request: Request, error: SmartCustomsError) -> tuple[str, str]:
    """(field to mark, sentence in the reader's language) for a refused card."""
    gettext = translations(language_of(request)).gettext
    detail: dict[str, Any] = next((d for d in error.details if isinstance(d.get("field"), str)), {})
    field = str(detail.get("field", ""))
    message = (
        _CARD_MESSAGES.get((error.code, field))
        or _CARD_MESSAGES.get((error.code, ""))
        # A card that is not JSON names no field; one with a wrong field names that field:
        # both are "not a partner card", the detail says which part.
        or (
            _CARD_MESSAGES[("validation_failed", "card")]
            if error.code == "validation_failed"
            else None
        )
    )
    if message is None:
        text = gettext("Refused (%(field)s): %(message)s") % {
            "field": field or "—",
            "message": error.message,
        }
        return ("card", text)
    values = {k: str(v) for k, v in detail.items()} | {"max": f"{MAX_CARD:,}"}
    if values.get("field") in CLASH_LABELS:
        values["field"] = gettext(CLASH_LABELS[values["field"]])
    text = gettext(message)
    if "%(" in text:
        try:
            text = text % values
        except (KeyError, TypeError, ValueError):
            text = gettext(message)
    mark = "confirm_fingerprint" if field == "confirm_fingerprint" else "card"
    return (mark, text)


def _page(
    request: Request,
    principal: CurrentPrincipal,
    *,
    added: str | None = None,
    error: str | None = None,
    card_form: CardFormState | None = None,
    updated: dict[str, Any] | None = None,
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
        card_form=card_form,
        updated=updated,
        max_card=MAX_CARD,
        change_labels=CHANGE_LABELS,
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


async def _card_text(file: UploadFile | None, pasted: str) -> str:
    """The card from the file chosen, else as pasted: refused empty, too large or not UTF-8
    (named ``card``), before anything is parsed."""
    too_large = ValidationFailed(
        f"card: at most {MAX_CARD} bytes",
        details=[{"field": "card", "max": MAX_CARD}],
        code="card_too_large",
    )
    if file is not None and file.filename:
        # Read one byte past the bound: a larger file is refused without reading it all.
        raw = await file.read(MAX_CARD + 1)
        if len(raw) > MAX_CARD:
            raise too_large
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed(
                "card: the file is not UTF-8 text", details=[{"field": "card"}]
            ) from None
    else:
        if len(pasted.encode("utf-8")) > MAX_CARD:
            raise too_large
        text = pasted
    if not text.strip():
        raise ValidationFailed(
            "card: paste the new card or choose its file",
            details=[{"field": "card"}],
            code="card_missing",
        )
    return text


def _new_fingerprint(text: str) -> str | None:
    try:
        return fingerprint_groups(parse_card(text).fingerprint)
    except SmartCustomsError:
        return None


@router.post("/{name}/card", response_class=HTMLResponse)
@requires(MANAGERS)
async def update_card(
    request: Request,
    name: PartnerName,
    principal: CurrentPrincipal,
    card: Annotated[str, Form(max_length=1_000_000)] = "",
    card_file: Annotated[UploadFile | None, File()] = None,
    confirm_fingerprint: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    """Replace a partner's card with its newer one (a rotated key, a moved URL), as
    ``PUT /api/partners/{name}/card`` and ``smartcustoms partners update`` do: a card with a
    new request key is taken only with the fingerprint the partner read by phone, and until
    then the form comes back with the card kept and its new fingerprint shown."""
    ctx = context(request)
    text = card
    try:
        text = await _card_text(card_file, card)

        def update() -> directory.CardUpdate:
            with ctx.unit() as unit:
                return directory.update_partner(
                    unit,
                    text,
                    own=own_card(ctx),
                    actor=principal.username,
                    name=name,
                    confirm_fingerprint=confirm_fingerprint or None,
                )

        done = await run_in_threadpool(update)
    except SmartCustomsError as exc:
        field, sentence = _card_refusal(request, exc)
        kept = text if len(text.encode("utf-8")) <= MAX_CARD else ""
        state = CardFormState(
            name=name,
            card=kept,
            field=field,
            text=sentence,
            detail=exc.message,
            code=exc.code,
            fingerprint=_new_fingerprint(kept) if kept else None,
        )
        # The page reads the directory: in the thread pool, as the synchronous routes do.
        status_code = exc.status_code
        return await run_in_threadpool(
            lambda: _page(request, principal, card_form=state, status_code=status_code)
        )
    updated = {
        "name": name,
        "changed": list(done.changed),
        "old": fingerprint_groups(done.old_fingerprint),
        "new": fingerprint_groups(done.row.fingerprint),
    }
    return await run_in_threadpool(lambda: _page(request, principal, updated=updated))


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
