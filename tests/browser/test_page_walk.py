"""Every page, as every role that may open it, in every language, in a real browser.

The pages are the application's own routes — the GET routes of the UI routers (``web.ui.routes``)
that answer a whole HTML document — so a new page is walked without touching this file; a path
parameter (``{declaration_id}``) is filled from a link to such a page found on the pages the same
user walked first, on demo-like data seeded below. The roles are :data:`core.roles.ALL_ROLES`,
each walking the pages whose policy names it; the languages are :data:`web.i18n.LANGUAGES`.

Each page fails the walk on a console error or uncaught exception, a 5xx answer (or any 4xx for
what the page itself loads), text left in English in another language (a visible text node equal
to an English message id whose translation differs; in Arabic also a node made only of English
words of the catalogue, outside what the templates mark as data: ``<bdi>``, ``<code>``,
``dir="ltr"``, ``translate="no"``, another ``lang``), and in a right-to-left language a document
without ``dir="rtl"``. A screenshot of each page is kept under ``$SMARTCUSTOMS_ARTEFACTS/page-walk``
or, without that variable, ``<pytest's base temporary folder>/page-walk``, as
``<language>/<role>/<page>.jpeg``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import ALL_ROLES, Role
from smartcustoms.core.settings import load_settings
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.intake import import_records
from smartcustoms.ledger.service import attach_ledger
from smartcustoms.risk import overrides
from smartcustoms.risk.assess import assess
from smartcustoms.risk.inspections import record_inspection
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.rulebook import propose, review
from smartcustoms.scans.intake import Upload, receive_scan
from smartcustoms.scans.reviews import review_scan
from smartcustoms.scans.storage import store_for
from smartcustoms.tracking.alerts import resolve_alert
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.records import SealEvent
from smartcustoms.tracking.tables import AlertRow
from smartcustoms.web.app import create_app
from smartcustoms.web.i18n import LANGUAGES, RTL_LANGUAGES
from smartcustoms.web.policy import routes_of
from tests.browser.conftest import BROWSER_PASSWORD, Server, username_for
from tests.declarations.helpers import declaration
from tests.scans.stored import CLEAN, FLAGGED, case, declaration_for, write
from tests.tracking.helpers import VOI, import_packaged, incoming, make_transit, position

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "src/smartcustoms/locale"
UI_MODULES = "smartcustoms.web.ui.routes."
ROLES = sorted(ALL_ROLES)
DEVICE = "WALK0001"


# -- the data: a little of everything the pages show ---------------------------------------------


def seed_server(ctx: AppContext) -> None:
    attach_ledger(ctx)  # decisions land in the ledger, so its page has entries and checkpoints
    try:
        _seed(ctx)
    except BaseException:
        ctx.close()
        raise


def _seed(ctx: AppContext) -> None:
    import_packaged(ctx)
    with ctx.unit() as unit:
        rule = propose(
            unit, name="inverters", expression='hs6 = "850440"', lane=Lane.YELLOW,
            reason="Inverters: check the conformity certificate",
            instructions="Compare the serial numbers with the certificate", actor="analyst-a",
        )  # fmt: skip
        review(unit, rule.id, approve=True, actor="supervisor-b")
        propose(
            unit, name="tyres", expression='hs6 = "401120"', lane=Lane.RED,
            reason="Tyres: count them", instructions="Count the tyres", actor="analyst-a",
        )  # fmt: skip
    lodged = []
    for n in range(3):
        with ctx.unit() as unit:
            records = [SourceRecord("w", data=declaration(lrn=f"WALK-{n}"))]
            report = import_records(unit.session, records, source="api", submitted_by="test")
            assess(ctx, unit, report.stored, actor="test")
            lodged.append(report.stored[0].id)
    with ctx.unit() as unit:
        record_inspection(
            unit, lodged[0], irregular=True, codes=["undervaluation"], actor="officer",
            revenue_raised=Decimal("1250.50"), note="invoice undervalued",
        )  # fmt: skip
    with ctx.unit() as unit:
        overrides.propose(
            unit, lodged[1], lane=Lane.BLUE, reason="Known trader, audit later",
            actor="officer", roles={Role.EXAMINING_OFFICER},
        )  # fmt: skip

    # A sealed truck on the northern corridor: positions, a resolved alert and an open one.
    make_transit(ctx, DEVICE)
    writer = Ingestor(ctx)
    writer.start()
    start = datetime.now(UTC)
    try:
        for n, happened in enumerate([(), (SealEvent.CABLE_CUT,), (), (SealEvent.OPENED,)]):
            done = threading.Event()
            report = position(DEVICE, VOI, at=start + timedelta(seconds=n + 1), events=happened)
            writer.submit([incoming(report)], DEVICE, lambda _ok, done=done: done.set())
            assert done.wait(10)
    finally:
        writer.stop()
    with ctx.db.session() as session:
        alerts = {a.type: a.id for a in session.scalars(select(AlertRow))}
    with ctx.unit() as unit:
        resolve_alert(
            unit, alerts["cable_cut"], actor="operator", outcome="false_alarm",
            note="cable snagged at the weighbridge",
        )  # fmt: skip

    # Two scans: a flagged one an analyst sent to examination, and a clear one waiting.
    folder = ctx.settings.data_dir / "incoming"
    for scenario, name in ((FLAGGED, "flagged"), (CLEAN, "clean")):
        item = case(scenario)
        with ctx.unit() as unit:
            records = [SourceRecord(name, data=declaration_for(item))]
            report = import_records(unit.session, records, source="api", submitted_by="test")
            assess(ctx, unit, report.stored, actor="test")
            declaration_id = report.stored[0].id
        path: Path = write(item, folder, name)
        with ctx.unit() as unit:
            scan = receive_scan(
                unit, store_for(ctx.settings),
                Upload(path.read_bytes(), path.name, declaration_id), actor="scanner",
                source="api",
            )  # fmt: skip
        if name == "flagged":
            with ctx.unit() as unit:
                review_scan(
                    unit, scan.scan.id, decision="physical_examination",
                    regions=[{"col0": 5, "row0": 5, "col1": 40, "row1": 30, "label": "dense"}],
                    note="dense block behind the cartons", actor="analyst",
                )  # fmt: skip


# -- what a page is, and what it should say ------------------------------------------------------


@dataclass(frozen=True)
class PageRoute:
    path: str  # as routed: /declarations/{declaration_id}
    roles: frozenset[Role]

    @property
    def pattern(self) -> re.Pattern[str] | None:
        if "{" not in self.path:
            return None
        parts = re.split(r"\{[^}]+\}", self.path)
        return re.compile("^" + "[^/?#]+".join(re.escape(p) for p in parts) + "$")


@pytest.fixture(scope="module")
def page_routes(tmp_path_factory: pytest.TempPathFactory) -> list[PageRoute]:
    """The GET routes of the UI routers, from an application built the way ``serve`` builds it."""
    settings = load_settings(None, data_dir=tmp_path_factory.mktemp("routes"))
    ctx = AppContext.from_settings(settings)
    try:
        app = create_app(ctx, check_schema=False)  # its routes only: no database read
        found = [
            PageRoute(route.path, route.roles or frozenset())
            for route in routes_of(app)
            if "GET" in route.methods
            and route.endpoint is not None
            and route.endpoint.__module__.startswith(UI_MODULES)
        ]
    finally:
        ctx.close()
    assert {"/", "/login", "/declarations/{declaration_id}"} <= {r.path for r in found}
    return found


@dataclass
class Messages:
    """English message ids, and what each language's catalogue says for them."""

    ids: set[str]
    words: set[str]
    catalogues: dict[str, dict[str, str]]

    def untranslated(self, language: str, text: str) -> bool:
        """An English message shown as it is where the catalogue has it otherwise, or lacks it
        (French keeps "Transits" and "Description" as they are: its catalogue says so)."""
        if language == "en" or text not in self.ids:
            return False
        if text in self.written[language]:
            return False  # French "Importer" (Import) is not the English "Importer"
        translation = self.catalogues[language].get(text)
        return translation is None or translation != text

    @cached_property
    def written(self) -> dict[str, set[str]]:
        """Every translation of each catalogue, as shown."""
        return {language: set(c.values()) for language, c in self.catalogues.items()}

    @cached_property
    def same(self) -> set[str]:
        # Message ids every catalogue keeps as they are (the product's name).
        kept = [{k for k, v in c.items() if k == v} for c in self.catalogues.values()]
        return set.intersection(*kept) if kept else set()

    def english_words(self, language: str, text: str) -> bool:
        """Text made only of words of the English messages (no digit, no other script)."""
        if language == "en" or not ENGLISH_ONLY.fullmatch(text) or text in self.same:
            return False
        # Acronyms and codes (CSV, KEMBA, HS) read the same in every language.
        words = [w.lower() for w in re.findall(r"[A-Za-z]+", text) if not w.isupper()]
        return bool(words) and all(w in self.words for w in words)


ENGLISH_ONLY = re.compile(r"[A-Za-z][A-Za-z \-'’,.:;()/&!?]*")
PLACEHOLDERS = re.compile(r"%\(|\{[a-z_]")


@pytest.fixture(scope="module")
def messages(tmp_path_factory: pytest.TempPathFactory) -> Messages:
    """Every marked string of the code (extracted as ``scripts/i18n.sh`` does); each catalogue."""
    pot = tmp_path_factory.mktemp("walk-pot") / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "N_", "-k", "_", "-o", str(pot), "src/smartcustoms"],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as fh:
        ids = set()
        for message in read_po(fh):
            for one in message.id if isinstance(message.id, tuple) else (message.id,):
                if one and not PLACEHOLDERS.search(one):
                    ids.add(one)
    catalogues = {}
    for language in LANGUAGES:
        if language == "en":
            continue
        with (LOCALE / language / "LC_MESSAGES/messages.po").open("rb") as fh:
            catalogues[language] = {
                m.id: m.string
                for m in read_po(fh, locale=language)
                if isinstance(m.id, str) and m.id and m.string and not m.fuzzy
            }
    words = {w.lower() for text in ids for w in re.findall(r"[A-Za-z]+", text)}
    return Messages(ids, words, catalogues)


# -- the walk -------------------------------------------------------------------------------------

# Visible text nodes, and the visible words of controls; each with whether the templates mark it
# as data (user data, codes) or as written in another language.
VISIBLE_TEXT = """() => {
  const lang = document.documentElement.lang;
  const data = "bdi, code, kbd, samp, pre, [dir=ltr], [dir=auto], [translate=no], " +
    ".leaflet-container";
  const out = [];
  const marked = (el) => {
    const other = el.closest("[lang]");
    return !!el.closest(data) || (other !== null && other.lang !== lang);
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    if (!text || !el || el.closest("script, style, noscript, template, option")) continue;
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    out.push([text, marked(el)]);
  }
  for (const el of document.querySelectorAll(
      "[placeholder], [title], input[type=submit], input[type=button], select")) {
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    for (const text of [el.getAttribute("placeholder"), el.getAttribute("title"),
                        el.matches("input") ? el.value : null]) {
      if (text && text.trim()) out.push([text.trim(), marked(el)]);
    }
    if (el.matches("select")) {
      // An option shown as its own value (a corridor's code, a username) is data.
      for (const o of el.options) {
        const text = o.text.trim();
        if (text) out.push([text, marked(o) || o.value === text]);
      }
    }
  }
  return out;
}"""

LINKS = """() => [...document.querySelectorAll("a[href]")]
  .map((a) => new URL(a.href, location.href))
  .filter((u) => u.origin === location.origin)
  .map((u) => u.pathname)"""


@dataclass
class Walk:
    """What one role saw in one language."""

    language: str
    role: Role
    walked: dict[str, str] = field(default_factory=dict)  # route path -> concrete path
    problems: dict[str, list[str]] = field(default_factory=dict)  # problem -> where

    def report(self) -> str:
        lines = [
            f"{p}  (on {', '.join(dict.fromkeys(where))})" for p, where in self.problems.items()
        ]
        return f"[{self.language} {self.role.value}] {len(lines)} problems:\n" + "\n".join(lines)


WALKS: dict[tuple[str, Role], Walk] = {}
KINDS: dict[str, str] = {}  # concrete path -> "page" or "not a page" (a fragment, a download)
NOT_PAGES: set[str] = set()  # route paths that answer no whole document (HTMX fragments)
KINDS_LOCK = threading.Lock()


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = os.environ.get("SMARTCUSTOMS_ARTEFACTS")
    folder = (Path(root) if root else tmp_path_factory.getbasetemp()) / "page-walk"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "home"


class Walker:
    def __init__(self, context: Any, walk: Walk, messages: Messages, shots: Path) -> None:
        self.context = context
        self.walk = walk
        self.messages = messages
        self.shots = shots
        self.links: set[str] = set()
        self.page = context.new_page()
        self.page.set_default_timeout(15_000)
        self.current = ""
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self._problem(f"uncaught {e}"))
        self.page.on("response", self._response)

    def _problem(self, text: str) -> None:
        self.walk.problems.setdefault(text, []).append(self.current)

    def _console(self, message: Any) -> None:
        # A document answered 403/404 on purpose is logged as a failed load; statuses are
        # judged by _response instead.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self._problem(f"console error: {message.text}")

    def _response(self, response: Any) -> None:
        if response.url.endswith("/favicon.ico"):
            return
        subresource = response.request.resource_type != "document"
        if response.status >= 500 or (subresource and response.status >= 400):
            self._problem(f"HTTP {response.status} {response.url}")

    def kind(self, path: str) -> str:
        """Whether ``path`` answers a whole HTML document, asked once for the whole walk."""
        with KINDS_LOCK:
            known = KINDS.get(path)
        if known is None:
            answer = self.context.request.get(path, max_redirects=0)
            body = answer.text() if "text/html" in answer.headers.get("content-type", "") else ""
            if answer.status >= 500:
                self._problem(f"HTTP {answer.status} {path}")
            known = "page" if body.lstrip()[:15].lower() == "<!doctype html>" else "not a page"
            with KINDS_LOCK:
                KINDS[path] = known
        return known

    def visit(self, route_path: str, path: str, *, expect_page: bool = True) -> None:
        if expect_page and self.kind(path) != "page":
            NOT_PAGES.add(route_path)
            return
        self.current = path
        response = self.page.goto(path, wait_until="load")
        if response is None:
            self._problem("no answer")
            return
        self.check()
        if expect_page:
            self.walk.walked[route_path] = path
            self.links.update(self.page.evaluate(LINKS))
        shot = self.shots / self.walk.language / self.walk.role.value / f"{_slug(path)}.jpeg"
        shot.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(shot), full_page=True, type="jpeg", quality=70)

    def check(self) -> None:
        language = self.walk.language
        html = self.page.locator("html")
        if html.get_attribute("lang") != language:
            self._problem(f"<html lang> is {html.get_attribute('lang')!r}")
        rtl = html.get_attribute("dir") == "rtl"
        if rtl != (language in RTL_LANGUAGES):
            self._problem(f"<html dir> is {html.get_attribute('dir')!r}")
        for text, marked in self.page.evaluate(VISIBLE_TEXT):
            if self.messages.untranslated(language, text):
                self._problem(f"untranslated: {text!r}")
            elif (
                language in RTL_LANGUAGES
                and not marked
                and self.messages.english_words(language, text)
            ):
                self._problem(f"English words: {text!r}")


def _log_in(page: Any, role: Role, language: str) -> None:
    page.goto(f"/login?lang={language}")  # the choice is kept in a cookie
    page.fill("input[name=username]", username_for(role))
    page.fill("input[name=password]", BROWSER_PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/")


@pytest.fixture(scope="module")
def walker(browser: Any, server: Server, messages: Messages, artefacts: Path) -> Iterator[Any]:
    contexts: list[Any] = []

    def make(language: str, role: Role | None) -> Walker:
        locale = {"en": "en-GB", "fr": "fr-FR", "ar": "ar-MA"}.get(language, language)
        context = browser.new_context(base_url=server.url, locale=locale)
        contexts.append(context)
        walk = Walk(language, role or Role.DECLARANT)
        return Walker(context, walk, messages, artefacts)

    yield make
    for context in contexts:
        context.close()


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_login_page(walker: Any, language: str) -> None:
    w = walker(language, None)
    w.page.goto(f"/login?lang={language}")
    w.current = "/login"
    w.check()
    w.page.screenshot(path=str(w.shots / language / "login.jpeg"), full_page=True, type="jpeg")
    assert not w.walk.problems, w.walk.report()


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
@pytest.mark.parametrize("language", list(LANGUAGES))
def test_walk(walker: Any, page_routes: list[PageRoute], language: str, role: Role) -> None:
    w = walker(language, role)
    WALKS[(language, role)] = w.walk
    _log_in(w.page, role, language)
    mine = [r for r in page_routes if role in r.roles]
    for route in mine:
        if route.pattern is None:
            w.visit(route.path, route.path)
    for route in mine:
        pattern = route.pattern
        if pattern is None:
            continue
        match = sorted(link for link in w.links if pattern.match(link))
        if match:
            w.visit(route.path, match[0])
    # The error pages this user can meet: a page of another role (403) and no page at all (404).
    closed = sorted(
        r.path for r in page_routes if r.roles and role not in r.roles and r.pattern is None
    )
    if closed:
        w.visit("forbidden", closed[0], expect_page=False)
    w.visit("not found", "/no-such-page", expect_page=False)
    assert not w.walk.problems, w.walk.report()


def test_every_page_was_walked(page_routes: list[PageRoute]) -> None:
    """Each page (path parameters filled from links) was walked by some role in each language."""
    if len(WALKS) < len(LANGUAGES) * len(ROLES):
        pytest.skip("the walks did not all run (a selection of the tests)")
    pages = {r.path for r in page_routes if r.roles and r.path not in NOT_PAGES}
    for language in LANGUAGES:
        walked = {p for (lang, _), walk in WALKS.items() if lang == language for p in walk.walked}
        missing = sorted(pages - walked)
        assert not missing, (
            f"{language}: never walked (no link to them on the walked pages: seed data that "
            f"leads to them in seed_server): {missing}"
        )
