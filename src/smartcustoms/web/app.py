"""Building the FastAPI application."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

from smartcustoms import __version__
from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import ServiceUnavailable
from smartcustoms.core.logs import configure_logging
from smartcustoms.core.schema import schema_state
from smartcustoms.core.settings import Settings, load_settings
from smartcustoms.federation.inbox import INBOX_PATH
from smartcustoms.federation.rule_answers import attach_rule_answers
from smartcustoms.federation.scan_answers import attach_scan_answers
from smartcustoms.federation.service import attach_federation
from smartcustoms.interop.notify import attach_notifier
from smartcustoms.interop.webhooks.service import attach_webhooks
from smartcustoms.ledger.service import attach_ledger
from smartcustoms.web.api.routes import (
    admin,
    declarations,
    docs,
    report_schedules,
    risk,
    scan_uploads,
    scans,
    system,
    tlog,
    tokens,
    traccar,
    tracking_alerts,
    tracking_live,
    transits,
    users,
)
from smartcustoms.web.api.routes import federation as federation_api
from smartcustoms.web.api.routes import ledger as ledger_api
from smartcustoms.web.api.routes import notifications as notifications_api
from smartcustoms.web.api.routes import partners as partners_api
from smartcustoms.web.api.routes import reports as reports_api
from smartcustoms.web.api.routes import webhooks as webhooks_api
from smartcustoms.web.errors import install_error_handlers
from smartcustoms.web.gauges import DatabaseGauges
from smartcustoms.web.metrics import Metrics, MetricsMiddleware
from smartcustoms.web.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from smartcustoms.web.params import check_inputs
from smartcustoms.web.policy import authorize, check_policies, routes_of
from smartcustoms.web.requestlog import RequestContextMiddleware
from smartcustoms.web.shedding import LoadShedMiddleware
from smartcustoms.web.ui.report_files import attach_report_mail
from smartcustoms.web.ui.routes import (
    admin_corridors,
    admin_devices,
    admin_keys,
    admin_offices,
    admin_users,
    auth,
    command_centre,
    home,
    partner_pages,
    transit_pages,
)
from smartcustoms.web.ui.routes import declarations as declaration_pages
from smartcustoms.web.ui.routes import ledger as ledger_pages
from smartcustoms.web.ui.routes import notifications as notification_pages
from smartcustoms.web.ui.routes import reports as report_pages
from smartcustoms.web.ui.routes import risk as risk_pages
from smartcustoms.web.ui.routes import scans as scan_pages
from smartcustoms.web.ui.routes import tokens as token_pages
from smartcustoms.web.ui.routes import webhooks as webhook_pages

__all__ = ["create_app", "create_app_from_env"]

log = logging.getLogger("smartcustoms.web")

ROUTERS = (
    system.router,
    users.router,
    tokens.router,
    docs.router,
    declarations.router,
    risk.router,
    auth.router,
    home.router,
    admin_users.router,
    admin.router,
    admin_offices.router,
    admin_devices.router,
    admin_corridors.router,
    admin_keys.router,
    token_pages.router,
    declaration_pages.router,
    risk_pages.router,
    tlog.router,
    ledger_api.router,
    ledger_pages.router,
    transits.router,
    tracking_alerts.router,
    tracking_live.router,
    traccar.router,
    command_centre.router,
    transit_pages.router,
    scan_uploads.router,  # before scans: /api/scans/uploads is not a scan id
    scans.router,
    scan_pages.router,
    webhooks_api.router,
    webhook_pages.router,
    notifications_api.router,
    notification_pages.router,
    federation_api.router,
    partners_api.router,
    partner_pages.router,
    reports_api.router,
    report_schedules.router,
    report_pages.router,
)


def create_app(ctx: AppContext, *, check_schema: bool = True) -> FastAPI:
    """The application for ``ctx``. Refuses to build on a database whose schema is not current."""
    if check_schema:
        state = schema_state(ctx.db)
        if not state.up_to_date:
            raise ServiceUnavailable(
                f"database schema at {','.join(state.current) or 'none'}, need {state.head}: "
                "run `smartcustoms db upgrade`",
                code="schema_outdated",
            )
    ctx.secret_key  # noqa: B018 - fail now, not on the first login, if the key is missing
    # Every event from now on is a ledger record; the ledger stops when ctx closes.
    attach_ledger(ctx)
    app = FastAPI(
        title="smartcustoms",
        version=__version__,
        summary="Risk lanes, transit monitoring, scan analysis and a verifiable ledger.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # The access policy first (an anonymous caller learns nothing about its input), then
        # what no database can hold (NUL in text, numbers out of range) as a 422.
        dependencies=[Depends(authorize), Depends(check_inputs)],
    )
    app.state.ctx = ctx
    app.state.metrics = Metrics()
    app.state.metrics.registry.register(
        DatabaseGauges(ctx.db, witnesses=len(ctx.settings.ledger_witnesses))
    )
    attach_webhooks(ctx).expose(app.state.metrics.registry)  # deliverer joined at ctx close
    # Hand-overs queue messages to partners; the deliverer sends them (joined at ctx close).
    attach_federation(ctx).expose(app.state.metrics.registry)
    attach_rule_answers(ctx)  # a partner's rule reviewed here answers back to it
    attach_scan_answers(ctx)  # so does a partner's scan examined here, by any path
    attach_notifier(ctx)  # e-mail and SMS to the people on duty; joined at ctx close
    attach_report_mail(ctx)  # scheduled report e-mails; joined at ctx close
    for router in ROUTERS:
        app.include_router(router)
    static = resources.files("smartcustoms.web.ui") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    check_policies(app)
    app.state.route_templates = {
        (route.endpoint, method): route.path for route in routes_of(app) for method in route.methods
    }
    install_error_handlers(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    # Innermost first (the last added runs first): the request id and its access line wrap
    # everything; metrics see every response, including refusals for overload and by the body
    # limit; an overloaded worker refuses before it reads a body.
    settings = ctx.settings
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        limits={
            "/api/declarations": settings.max_upload_bytes,
            "/api/scans": settings.max_upload_bytes,
            INBOX_PATH: settings.max_upload_bytes,  # a hand-over carries the track so far
        },
    )
    app.add_middleware(
        LoadShedMiddleware,
        max_concurrent=settings.max_concurrent_requests,
        max_queued=settings.max_queued_requests,
        queue_timeout_s=settings.request_queue_timeout_ms / 1000,
        retry_after_s=settings.overload_retry_after_s,
        metrics=app.state.metrics,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(RequestContextMiddleware)
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    schema["components"] = schema.get("components", {})
    schema["components"]["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "sct_… API token"}
    }
    # Document, on each operation, the roles that may call it.
    for route in routes_of(app):
        for method in route.methods:
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)  # {path:path} → {path}
            op = schema.get("paths", {}).get(path, {}).get(method.lower())
            if op is None:
                continue
            if route.public:
                op["security"] = []
            else:
                op["security"] = [{"bearer": []}]
                op["x-required-roles"] = sorted(r.value for r in route.roles or ())
            _document_errors(op, public=route.public, method=method)
    schema["components"].setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    app.openapi_schema = schema
    return schema


#: The one error shape every error answer has (``web.errors``).
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}

_ERRORS = {
    "400": "Malformed: the body or path is not in the format the operation reads (a signed "
    "note, a tile path, a proof bundle …)",
    "401": "Not authenticated: no, a malformed, expired or revoked token or session",
    "403": "Authenticated, but no role of the caller's grants this (or the data is another "
    "trader's)",
    "404": "No such thing (an id that does not exist, or cannot)",
    "409": "In conflict with the current state (already exists, already decided, four eyes)",
    "413": "The body is larger than the limit",
    "406": "This operation answers only in the content type it documents (an event stream)",
    "415": "The body's content type is not one this operation reads",
    "422": "A field is invalid: `details` names each one",
    "429": "Too many attempts: try again later",
    "503": "The database or the ledger is unavailable: try again",
}


def _document_errors(op: dict[str, Any], *, public: bool, method: str) -> None:
    """Document on ``op`` the error answers the application's error model can give it, each
    with the one error shape — so clients (and schemathesis) know every status to expect."""
    wanted = ["400", "422", "429", "503"]
    ok = op.get("responses", {}).get("200", {}).get("content", {})
    if "text/event-stream" in ok:
        wanted.append("406")
    if not public:
        wanted += ["401", "403"]
    if any(p.get("in") == "path" for p in op.get("parameters", [])):
        wanted.append("404")
    if method.upper() in {"POST", "PUT", "PATCH", "DELETE"}:
        wanted += ["404", "409", "413", "415"]
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    responses = op.setdefault("responses", {})
    for status in wanted:
        entry = responses.setdefault(status, {"description": _ERRORS[status]})
        if status == "422":  # FastAPI documents its own validation shape: ours replaces it
            entry["description"] = _ERRORS[status]
        entry["content"] = ref


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` and each worker process of `smartcustoms serve`."""
    settings: Settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    ctx = AppContext.from_settings(settings)
    # A worker's commits should not copy SQLite's log back into the database file (a
    # lodging's commit took up to 150 ms when it fell to it): a thread of its own does.
    ctx.db.checkpoint_in_background()
    app = create_app(ctx)

    @asynccontextmanager
    async def closing(_: FastAPI) -> AsyncIterator[None]:
        # This worker owns ctx: at shutdown the ledger stores what is queued, signs a last
        # checkpoint and gives up the sequencer lease to the next worker.
        yield
        await close_within(ctx, close_budget_s(settings.shutdown_grace_s))
        # The interpreter's last garbage collection walks every object the worker holds (the
        # model, the nomenclature, the caches): seconds on a busy machine, past the grace.
        # Nothing left needs finalising, so exclude them from it.
        gc.freeze()

    app.router.lifespan_context = closing
    return app


def close_budget_s(grace_s: float) -> float:
    """The part of the shutdown grace left to closing the context (the ledger's last batch and
    checkpoint, the webhook deliverer, the notifier) after requests in flight had theirs
    (``serve`` gives uvicorn ``grace_s`` minus this): 40 %, between 1 and 5 seconds."""
    return min(5.0, max(1.0, grace_s * 0.4))


async def close_within(ctx: AppContext, budget_s: float) -> None:
    """Close ``ctx`` on a thread and wait at most ``budget_s`` for it, without blocking the
    event loop. What does not stop in time is left to die with the process: nothing is lost,
    only left to the next start — the ledger's queued records are committed in the outbox
    (the next sequencer stores them), an unfinished webhook delivery is tried again."""
    closer = threading.Thread(target=ctx.close, name="smartcustoms-close", daemon=True)
    started = time.monotonic()
    closer.start()
    while closer.is_alive() and time.monotonic() - started < budget_s:
        await asyncio.sleep(0.02)
    if closer.is_alive():
        running = sorted(
            t.name for t in threading.enumerate() if t.name.startswith(("smartcustoms", "webhook"))
        )
        log.warning(
            "shutdown: background work still running after %.1f s, left to stop with the "
            "process: %s",
            budget_s,
            ", ".join(running) or "?",
        )
