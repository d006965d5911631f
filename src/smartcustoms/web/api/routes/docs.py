"""The OpenAPI description and its reader, for logged-in users (served from vendored files)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from smartcustoms.web.policy import ANY_ROLE, requires

router = APIRouter(include_in_schema=False)


@router.get("/api/openapi.json")
@requires(ANY_ROLE)
def openapi(request: Request) -> dict[str, Any]:
    return request.app.openapi()  # type: ignore[no-any-return]


@router.get("/api/docs", response_class=HTMLResponse)
@requires(ANY_ROLE)
def docs() -> HTMLResponse:
    # No inline script: the page loads the bundle and a small init file, so the CSP holds.
    return HTMLResponse(
        """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>smartcustoms API</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/js/api-docs.js"></script></body></html>"""
    )
