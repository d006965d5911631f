"""Who may call which route: one policy, denied by default.

Every route declares the roles allowed to call it with :func:`requires` (put it between the
route decorator and the function). :func:`authorize` runs before every route of the
application and refuses:

- a route that is not in :data:`PUBLIC_ROUTES` and declares no roles (a forgotten policy is a
  refusal, never an open door; ``check_policies`` also fails the application at start-up);
- an anonymous request (401) to any non-public route;
- a principal holding none of the declared roles (403);
- an unsafe request (POST, PUT, PATCH, DELETE) authenticated by a session cookie without the
  session's CSRF token (403). Bearer-token requests carry no ambient credentials and need none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.concurrency import run_in_threadpool
from starlette.routing import Mount

from smartcustoms.core.errors import Forbidden, Unauthenticated
from smartcustoms.core.principal import Principal
from smartcustoms.core.roles import ALL_ROLES, Role
from smartcustoms.web.auth import CSRF_FIELD, CSRF_HEADER, principal_from_request

__all__ = [
    "ANY_ROLE",
    "PUBLIC_MOUNTS",
    "PUBLIC_ROUTES",
    "SETTING_PUBLIC_ROUTES",
    "CurrentPrincipal",
    "RouteInfo",
    "authorize",
    "check_policies",
    "public_routes",
    "requires",
    "route_roles",
    "routes_of",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Routes anyone may call, (method, path) pairs. Nothing else is public, except the groups
#: below whose setting is on.
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/health"),
        ("GET", "/login"),
        ("POST", "/login"),
        # C2SP tlog-witness: partners' logs submit checkpoints unauthenticated; the log's
        # signature on the checkpoint is the authentication (the spec's design).
        ("POST", "/ledger/witness/add-checkpoint"),
        # Partner instances' messages: the RFC 9421 signature by a partner's key from the
        # directory is the authentication (smartcustoms.federation.verify).
        ("POST", "/federation/v1/messages"),
    }
)
#: Routes public only while a boolean setting is on (setting name → routes). Off, they keep
#: the roles their ``@requires`` names, so each must still declare some.
SETTING_PUBLIC_ROUTES: dict[str, frozenset[tuple[str, str]]] = {
    "ledger_public": frozenset(
        {
            ("GET", "/ledger/checkpoint"),
            ("GET", "/ledger/tile/{path:path}"),
            ("GET", "/ledger/proof/{index}"),
        }
    ),
}
#: Mounted static file folders (stylesheets, scripts, fonts): public, read-only.
PUBLIC_MOUNTS: frozenset[str] = frozenset({"/static"})

ANY_ROLE: frozenset[Role] = ALL_ROLES
_ROLES_ATTR = "__smartcustoms_roles__"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def requires(*roles: Role | frozenset[Role]) -> Callable[[F], F]:
    """Allow the decorated endpoint to principals holding any of ``roles``."""
    allowed: set[Role] = set()
    for role in roles:
        allowed.update(role if isinstance(role, frozenset) else {role})
    if not allowed:
        raise ValueError("requires() needs at least one role")

    def mark(fn: F) -> F:
        setattr(fn, _ROLES_ATTR, frozenset(allowed))
        return fn

    return mark


@dataclass(frozen=True)
class RouteInfo:
    """A route as the application serves it: its full path (router prefixes included)."""

    path: str
    methods: frozenset[str]
    endpoint: Callable[..., Any] | None
    kind: str  # "api", "mount" or "other"
    public_routes: frozenset[tuple[str, str]] = PUBLIC_ROUTES

    @property
    def public(self) -> bool:
        if self.kind == "mount":
            return self.path in PUBLIC_MOUNTS
        return bool(self.methods) and all(
            (m, self.path) in self.public_routes for m in self.methods
        )

    @property
    def roles(self) -> frozenset[Role] | None:
        return getattr(self.endpoint, _ROLES_ATTR, None)


def public_routes(settings: object | None) -> frozenset[tuple[str, str]]:
    """The public routes under ``settings``: :data:`PUBLIC_ROUTES` and every group of
    :data:`SETTING_PUBLIC_ROUTES` whose setting is true."""
    routes = set(PUBLIC_ROUTES)
    for name, group in SETTING_PUBLIC_ROUTES.items():
        if getattr(settings, name, False) is True:
            routes |= group
    return frozenset(routes)


def routes_of(app: FastAPI) -> list[RouteInfo]:
    """Every route of ``app`` with its full path (FastAPI resolves included routers lazily)."""
    ctx = getattr(app.state, "ctx", None)
    public = public_routes(getattr(ctx, "settings", None))
    found = []
    for rc in iter_route_contexts(app.routes):
        original = rc.original_route
        if isinstance(original, Mount):
            kind = "mount"
        elif isinstance(original, APIRoute):
            kind = "api"
        else:
            kind = "other"
        found.append(
            RouteInfo(
                path=str(rc.path),
                methods=frozenset(rc.methods or ()),
                endpoint=rc.endpoint,
                kind=kind,
                public_routes=public,
            )
        )
    return found


def route_roles(endpoint: Callable[..., Any] | None) -> frozenset[Role] | None:
    return getattr(endpoint, _ROLES_ATTR, None)


async def authorize(request: Request) -> None:
    endpoint = request.scope.get("endpoint")
    if endpoint in request.app.state.public_endpoints:
        return
    allowed = route_roles(endpoint)
    principal = await run_in_threadpool(principal_from_request, request)
    if principal is None:
        raise Unauthenticated("log in or present an API token")
    request.state.principal = principal
    if allowed is None or not principal.has_any(allowed):
        raise Forbidden("your roles do not allow this", details=[{"path": request.url.path}])
    if request.method in UNSAFE_METHODS and principal.via == "session":
        await _check_csrf(request, principal)


async def _check_csrf(request: Request, principal: Principal) -> None:
    import hmac

    presented = request.headers.get(CSRF_HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    expected = principal.csrf_token or ""
    if not presented or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise Forbidden("missing or wrong CSRF token; reload the page", code="csrf_failed")


async def current_principal(request: Request) -> Principal:
    # A coroutine, so that FastAPI does not send it to its thread pool (see web.deps).
    principal = getattr(request.state, "principal", None)
    if principal is None:  # a public route asked for a principal: a programming error
        raise Unauthenticated("log in or present an API token")
    return principal  # type: ignore[no-any-return]


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def check_policies(app: FastAPI) -> None:
    """Fail start-up if any route has neither a role policy nor a place in the public list.

    Also records the public endpoints, which :func:`authorize` lets through.
    """
    missing = []
    public: set[Callable[..., Any]] = set()
    switchable = frozenset().union(*SETTING_PUBLIC_ROUTES.values())
    for route in routes_of(app):
        if route.roles is None and any((m, route.path) in switchable for m in route.methods):
            # Public only while a setting says so: it needs roles for when it does not.
            missing.append(f"{route.kind} {sorted(route.methods)} {route.path}")
        elif route.public:
            if route.endpoint is not None and route.kind == "api":
                public.add(route.endpoint)
        elif route.kind != "api" or route.roles is None:
            missing.append(f"{route.kind} {sorted(route.methods)} {route.path}")
    if missing:
        raise RuntimeError("routes without an access policy: " + ", ".join(missing))
    app.state.public_endpoints = frozenset(public)
