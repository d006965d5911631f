"""A real server (`smartcustoms serve` in its own process) and Debian's chromium via Playwright.

Playwright never downloads a browser here: it drives /usr/bin/chromium (package `chromium`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.schema import upgrade
from smartcustoms.core.settings import load_settings
from smartcustoms.core.users import create_user
from tests.services import REQUIRE
from tests.waiting import wait_for

CHROMIUM = os.environ.get("SMARTCUSTOMS_TEST_CHROMIUM", "/usr/bin/chromium")
BROWSER_PASSWORD = "browser test password"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Server:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def watch_problems(
    page: Any, *, warnings: bool = True, documents: bool = True, into: list[str] | None = None
) -> list[str]:
    """What a page must never show, collected as it happens: uncaught script errors, console
    errors (and warnings: CSP refusals are warnings), and responses of 400 or more (the
    favicon, which no page has, aside). A failed load is reported once, by its response with
    its URL, not again by the console. ``documents=False`` leaves out the pages themselves,
    for a test that submits a refused form on purpose."""
    problems = [] if into is None else into
    levels = ("error", "warning") if warnings else ("error",)

    def console(message: Any) -> None:
        if message.type in levels and "Failed to load resource" not in message.text:
            problems.append(message.text)

    def response(answer: Any) -> None:
        if answer.status < 400 or answer.url.endswith("/favicon.ico"):
            return
        if documents or answer.request.resource_type != "document":
            problems.append(f"{answer.status} {answer.url}")

    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", response)
    return problems


def username_for(role: Role) -> str:
    return role.value.replace("_", "-")


def sign_in(page: Any, role: Role) -> None:
    """Sign ``page`` in as the seeded user of ``role`` through the login form; back on home."""
    page.goto("/login")
    page.fill("input[name=username]", username_for(role))
    page.fill("input[name=password]", BROWSER_PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/")


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Server]:
    """A server with one user per role; a test module may define ``seed_server(ctx)`` to add
    its own data before the server starts."""
    data_dir = tmp_path_factory.mktemp("server")
    settings = load_settings(None, data_dir=data_dir)
    ctx = AppContext.from_settings(settings)
    upgrade(ctx.db)
    with ctx.unit() as unit:
        for role in Role:
            create_user(
                unit,
                username=username_for(role),
                password=BROWSER_PASSWORD,
                roles=[role],
                display_name=f"Test {role.value}",
                actor="test",
            )
    seed = getattr(request.module, "seed_server", None)
    if seed is not None:
        seed(ctx)
    ctx.close()
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SMARTCUSTOMS_")},
        "SMARTCUSTOMS_DATA_DIR": str(data_dir),
        "SMARTCUSTOMS_LOG_LEVEL": "WARNING",
    }
    log_path = data_dir / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "smartcustoms", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if process.poll() is not None:
            raise AssertionError("the server exited")
        try:
            return httpx2.get(url + "/health", timeout=1).status_code == 200
        except httpx2.TransportError:
            return False

    try:
        # Generous: on a 2-core machine busy with other work `serve` took 30 s to answer.
        wait_for(up, 150.0, interval=0.2, message="the server did not answer")
    except AssertionError as error:
        process.kill()
        process.wait()
        log.close()
        output = log_path.read_text()[-2000:]
        raise RuntimeError(f"server did not start ({error}): {output}") from None
    try:
        yield Server(url, data_dir, process)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        message = f"{CHROMIUM} not installed (apt-get install chromium)"
        if REQUIRE:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context(base_url=server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
