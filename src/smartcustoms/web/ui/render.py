"""Rendering pages: one Jinja2 environment per language, chosen per request."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from smartcustoms import __version__
from smartcustoms.core.principal import Principal
from smartcustoms.risk.lanes import LANE_NAMES
from smartcustoms.web.auth import CSRF_FIELD, CSRF_HEADER, context
from smartcustoms.web.i18n import LANGUAGES, choose_language, direction, translations
from smartcustoms.web.ui import formatting
from smartcustoms.web.ui.nav import nav_for

__all__ = ["language_of", "render"]


@cache
def _environment(language: str) -> jinja2.Environment:
    templates = resources.files("smartcustoms.web.ui") / "templates"
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["number"] = _number
    # Locale-aware numbers, dates and stored messages (num, pct, kg, datetime, date, message).
    env.filters.update(formatting.filters(language, translations(language)))
    env.globals.update(
        version=__version__,
        languages=LANGUAGES,
        csrf_field=CSRF_FIELD,
        direction=direction,
        lane_names=LANE_NAMES,  # a lane's name for badges: {{ _(lane_names[lane]) }}
    )
    return env


def _number(value: object) -> str:
    """A stored decimal without its padding zeros: 20979.000000 -> 20979, 12.500000 -> 12.5."""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return "" if value is None else str(value)


def language_of(request: Request) -> str:
    cached = getattr(request.state, "language", None)
    if cached:
        return str(cached)
    principal: Principal | None = getattr(request.state, "principal", None)
    language = choose_language(
        request,
        principal.language if principal else None,
        context(request).settings.default_language,
    )
    request.state.language = language
    return language


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    language = language_of(request)
    principal: Principal | None = getattr(request.state, "principal", None)
    ctx = context(request)
    page = _environment(language).get_template(template)
    html = page.render(
        request=request,
        language=language,
        principal=principal,
        nav=nav_for(principal) if principal else [],
        csrf_token=principal.csrf_token if principal else None,
        csrf_header=CSRF_HEADER,
        administration=ctx.settings.administration_name,
        time_zone=ctx.settings.time_zone,
        **values,
    )
    return HTMLResponse(html, status_code=status_code)
