"""The ledger explorer: the latest checkpoint and its cosignatures, an entry and its proof
bundle, and checking a pasted bundle.

Auditors, partner administrations and administrators read entries; declarants (and everyone
who may open the page) can check a bundle they were given, which reads nothing from the
ledger but its public key.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from smartcustoms.core.roles import Role
from smartcustoms.ledger.errors import PRODUCT_ERRORS, TlogError
from smartcustoms.ledger.service import Ledger, ledger_of
from smartcustoms.ledger.tlog.offline import CheckedBundle, check_bundle
from smartcustoms.ledger.tlog.records import parse_record
from smartcustoms.ledger.tlog.rfc6962 import hash_leaf
from smartcustoms.web.api.routes.tlog import LEDGER_READERS
from smartcustoms.web.auth import context
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.ui.render import render

__all__ = ["LEDGER_PAGE_ROLES", "router"]

router = APIRouter(prefix="/ledger", include_in_schema=False)

#: Who may open the explorer: the readers, and declarants, who check bundles they were given.
LEDGER_PAGE_ROLES = LEDGER_READERS | {Role.DECLARANT}


def _entry(ledger: Ledger, index: int) -> dict[str, Any]:
    data = ledger.entry(index)
    try:
        shown = json.dumps(parse_record(data), indent=2, ensure_ascii=False, sort_keys=True)
    except TlogError:
        shown = data.decode("utf-8", "replace")
    return {"index": index, "leaf_hash": hash_leaf(data).hex(), "text": shown}


def _page(
    request: Request,
    reader: bool,
    *,
    index: int | None = None,
    form: dict[str, str] | None = None,
    checked: CheckedBundle | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ledger = ledger_of(context(request))
    cp = ledger.checkpoint()
    entry, lookup_error = None, None
    if index is not None and reader:
        try:
            entry = _entry(ledger, index)
        except PRODUCT_ERRORS as exc:
            lookup_error, status_code = exc.message, exc.status_code
    vkey = ledger.vkey()
    witness_keys = "\n".join(p.verifier.key_string() for p in ledger.witnesses.peers)
    cosigned = [
        (c.witness, datetime.fromtimestamp(c.timestamp, UTC))
        for c in (cp.cosignatures if cp else ())
    ]
    return render(
        request,
        "ledger.html",
        status_code=status_code,
        checkpoint=cp,
        cosigned=cosigned,
        origin=ledger.origin,
        vkey=vkey,
        reader=reader,
        size=ledger.size(),
        index=index,
        entry=entry,
        lookup_error=lookup_error,
        form=form or {"vkey": vkey, "witness_vkeys": witness_keys, "bundle": ""},
        checked=checked,
        checked_record=(
            json.dumps(checked.record, indent=2, ensure_ascii=False, sort_keys=True)
            if checked and checked.record is not None
            else None
        ),
        error=error,
        public=context(request).settings.ledger_public,
    )


@router.get("", response_class=HTMLResponse)
@requires(LEDGER_PAGE_ROLES)
def explorer(
    request: Request,
    principal: CurrentPrincipal,
    index: Annotated[int | None, Query(ge=0, le=(1 << 63) - 1)] = None,
) -> HTMLResponse:
    return _page(request, principal.has_any(LEDGER_READERS), index=index)


@router.post("/verify", response_class=HTMLResponse)
@requires(LEDGER_PAGE_ROLES)
def verify(
    request: Request,
    principal: CurrentPrincipal,
    bundle: Annotated[str, Form(max_length=2_000_000)],
    vkey: Annotated[str, Form(max_length=1000)],
    witness_vkeys: Annotated[str, Form(max_length=100_000)] = "",
) -> HTMLResponse:
    form = {"bundle": bundle, "vkey": vkey, "witness_vkeys": witness_vkeys}
    reader = principal.has_any(LEDGER_READERS)
    # Browsers send textarea lines with CRLF; bundles and keys are LF-only texts.
    text = bundle.replace("\r\n", "\n")
    keys = witness_vkeys.replace("\r\n", "\n").split("\n")
    try:
        checked = check_bundle(text, vkey.strip(), keys)
    except PRODUCT_ERRORS as exc:
        return _page(request, reader, form=form, error=exc.message, status_code=422)
    return _page(request, reader, form=form, checked=checked)
