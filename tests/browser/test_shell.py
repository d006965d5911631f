"""The web shell in a real browser: every role logs in and sees its own navigation, switches
language and logs out; a wrong password and a form without its CSRF token are refused."""

from __future__ import annotations

from typing import Any

import pytest

from smartcustoms.core.roles import ALL_ROLES, Role
from smartcustoms.web.i18n import translations
from smartcustoms.web.ui.nav import NAV
from tests.browser.conftest import BROWSER_PASSWORD, username_for

pytestmark = pytest.mark.browser


def log_in(page: Any, username: str, password: str = BROWSER_PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit].primary")


def nav_labels(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("#main-nav a").all_inner_texts()]


# The roles people log in with; a machine role opens no page (tests/web/test_tracking_gateway_role).
@pytest.mark.parametrize("role", sorted(ALL_ROLES), ids=lambda r: r.value)
def test_each_role_sees_its_own_navigation(page: Any, role: Role) -> None:
    log_in(page, username_for(role))
    page.wait_for_url("**/")
    expected = [item.label for item in NAV if role in item.roles]
    assert nav_labels(page) == expected
    assert page.locator(f'[data-role="{role.value}"]').count() == 1
    assert page.get_by_test_id("status").inner_text().count("sqlite") == 1
    page.click("text=Log out")
    page.wait_for_url("**/login")
    assert all(c["name"] != "sc_session" for c in page.context.cookies())
    page.goto("/")
    assert "/login" in page.url  # the session is gone


def test_switch_language_and_back(page: Any) -> None:
    log_in(page, username_for(Role.RISK_ANALYST))
    page.wait_for_url("**/")
    page.click("button[lang=fr]")
    page.wait_for_load_state()
    fr = translations("fr").gettext
    assert page.locator("html").get_attribute("lang") == "fr"
    assert nav_labels(page)[0] == fr("Home")
    # The role's name, in the header and on the home page's work panel, is French only.
    assert page.get_by_text(fr("Risk analyst"), exact=True).count() >= 1
    assert page.get_by_text("Risk analyst", exact=True).count() == 0
    page.click("button[lang=en]")
    page.wait_for_load_state()
    assert nav_labels(page)[0] == "Home"


def test_login_page_language_links(page: Any) -> None:
    page.goto("/login")
    page.click("a[lang=fr]")
    assert page.locator("h1").inner_text() == "Connexion"


def test_wrong_password_shows_an_error_and_opens_no_session(page: Any) -> None:
    log_in(page, username_for(Role.AUDITOR), "definitely not it")
    assert page.get_by_test_id("login-error").inner_text() == "Wrong username or password."
    assert all(c["name"] != "sc_session" for c in page.context.cookies())
    page.goto("/")
    assert "/login" in page.url


def test_form_without_csrf_token_is_refused(page: Any) -> None:
    log_in(page, username_for(Role.DECLARANT))
    page.wait_for_url("**/")
    page.goto("/tokens")
    page.fill("input[name=name]", "scanner gateway")
    page.evaluate(
        "document.querySelectorAll('form[action=\"/tokens\"] input[name=csrf_token]')"
        ".forEach(e => e.remove())"
    )
    page.click("text=Create token")
    assert page.locator("h1").inner_text() == "Not allowed"
    page.goto("/tokens")
    assert page.get_by_test_id("tokens").inner_text().count("scanner gateway") == 0
    # With the token in place the same form works and shows the new token once.
    page.fill("input[name=name]", "scanner gateway")
    page.click("text=Create token")
    assert page.get_by_test_id("new-token").inner_text().startswith("sct_")


def test_status_panel_refreshes_itself(page: Any) -> None:
    log_in(page, username_for(Role.SUPERVISOR))
    page.wait_for_url("**/")
    first = page.locator("[data-testid=status] time").inner_text()
    with page.expect_response(lambda r: r.url.endswith("/ui/status"), timeout=12_000):
        pass
    page.wait_for_function(
        "t => document.querySelector('[data-testid=status] time').textContent !== t", arg=first
    )
