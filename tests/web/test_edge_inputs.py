"""What no database can hold is a 422 at the edge, never a 500: integers beyond PostgreSQL's
``integer`` and SQLite's 64 bits, and NUL characters (PostgreSQL refuses them in text), in the
path, the query string, form fields and JSON bodies of every route the application serves.

The test walks the application's routes (like the policy test), calls each with every
parameter in turn replaced by an out-of-range integer or a NUL-carrying string, as a user who
holds every role, on a database with a declaration, a transit and a rule at id 1, so that
requests get past "not found" to the code that writes.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
from fastapi import FastAPI, params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.tokens import create_token
from smartcustoms.core.users import create_user, get_user
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.rulebook import propose
from smartcustoms.tracking.packaged import packaged_geojson
from tests.conftest import PASSWORD
from tests.declarations.helpers import declaration
from tests.tracking.helpers import import_packaged, make_transit
from tests.web.conftest import bearer

BIG_INTS = (2**31, 2**63, -(2**63) - 1, 10**30)
NUL = "nul\x00here"


@dataclass
class Param:
    name: str
    where: str  # path, query, form, file
    annotation: Any
    pattern: str | None = None


@dataclass
class Endpoint:
    method: str
    path: str
    params: list[Param] = field(default_factory=list)
    body: Any = None  # a pydantic model, or Any / dict for free-form JSON


def _all_dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _all_dependants(sub)


def _pattern(info: Any) -> str | None:
    for meta in getattr(info, "metadata", ()):
        found = getattr(meta, "pattern", None)
        if found:
            return str(found)
    return None


def endpoints(app: FastAPI) -> list[Endpoint]:
    from fastapi.routing import iter_route_contexts

    found = []
    for rc in iter_route_contexts(app.routes):
        route = rc.original_route
        if not isinstance(route, APIRoute):
            continue
        for method in sorted((rc.methods or set()) - {"HEAD"}):
            ep = Endpoint(method, str(rc.path))
            for dep in _all_dependants(route.dependant):
                for p in dep.path_params:
                    ep.params.append(Param(p.alias, "path", p.field_info.annotation))
                for p in dep.query_params:
                    ep.params.append(
                        Param(p.alias, "query", p.field_info.annotation, _pattern(p.field_info))
                    )
                for p in dep.body_params:
                    info = p.field_info
                    if isinstance(info, params.File):
                        ep.params.append(Param(p.alias, "file", info.annotation))
                    elif isinstance(info, params.Form):
                        ep.params.append(Param(p.alias, "form", info.annotation, _pattern(info)))
                    else:
                        ep.body = info.annotation
            found.append(ep)
    return found


def _strip_optional(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return args[0] if args else annotation
    return annotation


def _plain(annotation: Any, pattern: str | None = None) -> Any:
    """A plausible valid value of ``annotation``."""
    annotation = _strip_optional(annotation)
    if pattern:
        choice = re.match(r"\^\(?([\w-]+)", pattern)
        return choice.group(1) if choice else "x"
    origin = typing.get_origin(annotation)
    if origin is list:
        return []
    if origin is dict:
        return {}
    if origin is typing.Literal:
        return typing.get_args(annotation)[0]
    if annotation is bool:
        return True
    if annotation is int:
        return 1
    if annotation is float:
        return 1.0
    if annotation is Decimal:
        return "1"
    if annotation is datetime:
        return "2030-01-01T00:00:00Z"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return next(iter(annotation)).value
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return baseline(annotation)
    return "x"


def baseline(model: type[BaseModel]) -> dict[str, Any]:
    out = {}
    for name, info in model.model_fields.items():
        if info.is_required() or _strip_optional(info.annotation) in (int, str):
            out[name] = _plain(info.annotation, _pattern(info))
    return out


def _bad_values(annotation: Any) -> list[Any]:
    inner = _strip_optional(annotation)
    values: list[Any] = [NUL]
    if inner in (int, float, Decimal):
        values = list(BIG_INTS)
    return values


def body_mutations(model: type[BaseModel]) -> Iterator[tuple[str, dict[str, Any]]]:
    base = baseline(model)
    for name, info in model.model_fields.items():
        inner = _strip_optional(info.annotation)
        if typing.get_origin(inner) is list:
            (item,) = typing.get_args(inner) or (str,)
            if isinstance(item, type) and issubclass(item, BaseModel):
                for sub, mutated in body_mutations(item):
                    yield f"{name}[0].{sub}", {**base, name: [mutated]}
            else:
                for bad in _bad_values(item):
                    yield f"{name}[0]", {**base, name: [bad]}
            continue
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            for sub, mutated in body_mutations(inner):
                yield f"{name}.{sub}", {**base, name: mutated}
            continue
        for bad in [*_bad_values(inner), *([NUL] if inner is not str else [])]:
            yield name, {**base, name: bad}


def _leaves(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _leaves(v, (*path, i))
    else:
        yield path, doc


def _replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        return {**doc, head: _replaced(doc[head], rest, value)}
    copy = list(doc)
    copy[head] = _replaced(doc[head], rest, value)
    return copy


def free_form_mutations(path: str) -> Iterator[tuple[str, Any]]:
    """Mutations of a realistic document for the routes that take free-form JSON."""
    if path == "/api/declarations":
        doc: Any = declaration(lrn="EDGE-1")
    elif path == "/api/tracking/corridors/import":
        doc = packaged_geojson()
        doc = {**doc, "features": doc["features"][:3]}
    else:
        doc = {"value": "x"}
    for where, value in _leaves(doc):
        label = ".".join(map(str, where))
        yield label, _replaced(doc, where, NUL)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            for bad in BIG_INTS:
                yield label, _replaced(doc, where, bad)
    if path == "/api/declarations":
        yield "total_packages", declaration(lrn="EDGE-2", total_packages=2**63)
        yield "declarant.id", declaration(lrn="EDGE-3", declarant={"id": "BRK\x00001"})


def _url(ep: Endpoint, overrides: dict[str, Any]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        value = overrides.get(name, "1")
        return str(value).replace("\x00", "%00")

    return re.sub(r"\{([^}]+)\}", fill, ep.path)


def requests_for(ep: Endpoint) -> Iterator[tuple[str, dict[str, Any]]]:
    """(what was changed, keyword arguments for TestClient.request)."""
    forms = [p for p in ep.params if p.where in ("form", "file")]
    base_form = {
        p.name: str(_plain(p.annotation, p.pattern)).lower()
        for p in forms
        if p.where == "form"
        if typing.get_origin(_strip_optional(p.annotation)) is not list
    }
    files = {p.name: ("scan.bin", b"not an image") for p in forms if p.where == "file"}

    def kwargs(url: str, **extra: Any) -> dict[str, Any]:
        args: dict[str, Any] = {"url": url, **extra}
        if forms and "data" not in args:
            args["data"] = base_form
        if files:
            args["files"] = files
        if ep.body is not None and "json" not in args:
            model = ep.body
            if isinstance(model, type) and issubclass(model, BaseModel):
                args["json"] = baseline(model)
            else:
                args["json"] = {}
        return args

    for p in ep.params:
        if p.where == "path":
            for bad in (*BIG_INTS, NUL):
                yield f"path {p.name}={bad!r}", kwargs(_url(ep, {p.name: bad}))
        elif p.where == "query":
            for bad in (*BIG_INTS, NUL):
                yield f"query {p.name}={bad!r}", kwargs(_url(ep, {}), params={p.name: str(bad)})
        elif p.where == "form":
            for bad in (*_bad_values(p.annotation), NUL):
                data = {**base_form, p.name: str(bad)}
                yield f"form {p.name}={bad!r}", kwargs(_url(ep, {}), data=data)
    body = ep.body
    if isinstance(body, type) and issubclass(body, BaseModel):
        for where, doc in body_mutations(body):
            yield f"json {where}", kwargs(_url(ep, {}), json=doc)
    elif body is not None:
        for where, doc in free_form_mutations(ep.path):
            yield f"json {where}", kwargs(_url(ep, {}), json=doc)


@pytest.fixture
def everyone(ctx: AppContext) -> dict[str, str]:
    """A user holding every role, bound to the test declarant, with its bearer token; and a
    declaration, a transit and a rule version at id 1."""
    from smartcustoms.core.traders import grant_traders

    with ctx.unit() as unit:
        create_user(unit, username="everyone", password=PASSWORD, roles=list(Role), actor="t")
        grant_traders(unit, "everyone", ["BRK001"], actor="t")
        token = create_token(
            unit, get_user(unit.session, "everyone"), name="t", days=1, max_days=10, actor="t"
        ).secret
    import_packaged(ctx)
    make_transit(ctx, "EDGE-SEAL", arm=False)
    with ctx.unit() as unit:
        propose(unit, name="edge", expression='hs2 = "44"', lane=Lane.YELLOW, reason="r", actor="t")
    return bearer(token)


def test_nothing_out_of_range_reaches_the_database(
    app: FastAPI, client: TestClient, everyone: dict[str, str]
) -> None:
    failures = []
    tried = 0
    for ep in endpoints(app):
        for what, kwargs in requests_for(ep):
            tried += 1
            response = client.request(ep.method, headers=everyone, **kwargs)
            if response.status_code >= 500:
                failures.append((ep.method, ep.path, what, response.status_code))
    assert tried > 300
    assert failures == []


def test_the_stream_checks_its_positions(client: TestClient, everyone: dict[str, str]) -> None:
    for after in ("2147483648", str(2**63), "-1"):
        response = client.get(
            f"/api/tracking/stream?after={after}", headers={**everyone, "accept": "text/plain"}
        )
        assert response.status_code == 422 if after != "2147483648" else 406, after
    response = client.get(
        "/api/tracking/stream?after=1%00", headers={**everyone, "accept": "text/plain"}
    )
    assert response.status_code == 422


def test_refusals_name_the_field(client: TestClient, everyone: dict[str, str]) -> None:
    big = client.get(f"/api/declarations/{2**63}", headers=everyone)
    assert big.status_code == 422
    assert big.json()["error"]["details"][0]["field"] == "declaration_id"
    nul = client.post(
        "/api/declarations",
        headers=everyone,
        json={"declarations": [declaration(lrn="N1"), declaration(lrn="N\x002")]},
    )
    assert nul.status_code == 422
    assert nul.json()["error"]["details"] == [
        {"field": "declarations[1].lrn", "problem": "contains a NUL character",
         "type": "nul_character"}
    ]  # fmt: skip
    query = client.get("/api/tracking/alerts", params={"transit_id": 2**31}, headers=everyone)
    assert query.status_code == 422
    assert query.json()["error"]["details"][0]["field"] == "transit_id"
    form = client.post("/tracking/transits/1/cancel", data={"reason": "gone\x00"}, headers=everyone)
    assert form.status_code == 422
    assert form.json()["error"]["details"][0]["field"] == "reason"


def test_json_numbers_no_column_holds(client: TestClient, everyone: dict[str, str]) -> None:
    headers = {**everyone, "content-type": "application/json"}
    for number in ("NaN", "Infinity", "-Infinity", "1e400", str(2**63), str(-(2**63) - 1)):
        body = '{"declaration_id": 1, "device_id": "S", "vehicle": "V", "corridor": "northern",'
        body += f' "origin": "KEMBA", "destination": "UGKLA", "hours": {number}}}'
        response = client.post("/api/tracking/transits", headers=headers, content=body)
        assert response.status_code == 422, (number, response.text)
        assert response.json()["error"]["details"][0]["field"] == "hours", number
    # An ordinary document is not walked at all, and passes.
    fine = client.post(
        "/api/declarations", headers=everyone, json=declaration(lrn="PLAIN", total_packages=12)
    )
    assert fine.status_code == 201, fine.text
