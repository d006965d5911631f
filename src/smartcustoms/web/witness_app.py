"""A web application holding nothing but the witness endpoint (``ledger witness serve``).

A partner's log must reach our witness; nothing else of smartcustoms needs to face it. The same
access policy applies (the witness route is public by design, everything else denied).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from smartcustoms import __version__
from smartcustoms.core.context import AppContext
from smartcustoms.ledger.service import attach_ledger
from smartcustoms.web.api.routes import system, tlog
from smartcustoms.web.errors import install_error_handlers
from smartcustoms.web.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from smartcustoms.web.policy import authorize, check_policies

__all__ = ["create_witness_app"]


def create_witness_app(ctx: AppContext) -> FastAPI:
    attach_ledger(ctx)  # cosigning needs the ledger's witness key; conflicts become records
    app = FastAPI(
        title="smartcustoms witness",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(authorize)],
    )
    app.state.ctx = ctx
    router = APIRouter()
    router.add_api_route("/ledger/witness/add-checkpoint", tlog.add_checkpoint, methods=["POST"])
    router.add_api_route("/health", system.health, methods=["GET"])
    app.include_router(router)
    check_policies(app)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=ctx.settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
