"""Phone layout, the collapsing menu, drag and drop, and an axe-core audit of the
portal's main pages, in Debian's Chromium."""

import json
import subprocess
from pathlib import Path

import pytest

from tests.factories import PASSWORD, ContactFactory, OrganizationFactory, TicketFactory
from tests.maintenance.conftest import make_window
from tickets import satisfaction, services
from tickets.choices import Priority, Status

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "var/axe/node_modules/axe-core/axe.min.js"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core from the npm registry, installed by `make axe` on first use."""
    if not AXE.exists():
        subprocess.run(["make", "-s", "axe"], cwd=ROOT, check=True)  # noqa: S607
    return AXE.read_text()


@pytest.fixture
def people(db):
    org = OrganizationFactory(name="Acme Corp", timezone="America/New_York")
    alice = ContactFactory(
        organization=org,
        user__email="alice@acme.example.com",
        user__first_name="Alice",
        is_organization_admin=True,
    )
    ContactFactory(
        organization=org,
        user__email="bob@acme.example.com",
        is_technical_contact=False,
    )
    ticket = services.ticket_create(
        requester=alice.user,
        data=services.TicketInput(
            subject="Runs stuck in pending after the 9.4 upgrade of the agents",
            description="New runs stay **pending**.",
            priority=Priority.MINOR,
            category="bug",
            deployment="saas",
        ),
    )
    for n in range(8):
        TicketFactory(
            organization=org,
            requester=alice.user,
            subject=f"A fairly long ticket subject number {n} about workspaces",
            status=Status.OPEN,
        )
    return {"alice": alice, "ticket": ticket}


def new_page(browser, viewport):
    # axe is injected as a script: the portal's CSP (script-src 'self') is bypassed
    # for the audit only.
    context = browser.new_context(viewport=viewport, bypass_csp=True)
    return context, context.new_page()


def sign_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/tickets/")


def serious_violations(page, axe_source: str) -> list[str]:
    page.add_script_tag(content=axe_source)
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
        })"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + json.dumps([node["target"] for node in v["nodes"][:3]])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_main_pages_pass_an_axe_audit(live_server, browser, people, axe_source):
    ticket = people["ticket"]
    solved = TicketFactory(
        organization=people["alice"].organization,
        requester=people["alice"].user,
        status=Status.OPEN,
    )
    solved = services.ticket_status_change(
        ticket=solved, actor=people["alice"].user, status=Status.SOLVED
    )
    token = satisfaction.rating_token(solved, people["alice"].user)
    context, page = new_page(browser, {"width": 1280, "height": 900})
    found = {}
    for path in ("/accounts/login/", "/support-policy/", f"/tickets/rate/{token}/"):
        page.goto(f"{live_server.url}{path}")
        found[path] = serious_violations(page, axe_source)
    sign_in(page, live_server.url, "alice@acme.example.com")
    for path in (
        "/tickets/",
        f"/tickets/{ticket.number}/",
        f"/tickets/{solved.number}/",
        "/tickets/new/",
        "/organization/",
        "/maintenance/",
        "/accounts/notifications/",
    ):
        page.goto(f"{live_server.url}{path}")
        found[path] = serious_violations(page, axe_source)
    context.close()
    assert {path: v for path, v in found.items() if v} == {}


def test_phone_pages_fit_the_screen_and_the_menu_collapses(
    live_server, browser, people, axe_source
):
    make_window(note="Database upgrade")  # the banner shows while it runs
    context, page = new_page(browser, PHONE)
    page.goto(f"{live_server.url}/support-policy/")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"policy page is {width}px wide"

    sign_in(page, live_server.url, "alice@acme.example.com")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"ticket list is {width}px wide"
    chrome = page.evaluate(
        """() => ['.topbar', '.banner']
            .map(s => document.querySelector(s))
            .filter(Boolean)
            .reduce((h, el) => h + el.getBoundingClientRect().height, 0)"""
    )
    assert page.locator(".banner").is_visible()
    assert chrome < PHONE["height"] / 5, f"header and banner take {chrome}px"

    for path in ("/organization/", f"/tickets/{people['ticket'].number}/"):
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide"

    menu = page.get_by_role("button", name="Menu")
    tickets_link = page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Tickets"
    )
    assert menu.is_visible()
    assert not tickets_link.is_visible()
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    assert tickets_link.is_visible()
    assert serious_violations(page, axe_source) == []
    context.close()


def test_files_dropped_on_the_reply_form_are_attached(
    live_server, browser, people, tmp_path
):
    ticket = people["ticket"]
    context, page = new_page(browser, {"width": 1280, "height": 900})
    sign_in(page, live_server.url, "alice@acme.example.com")
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")
    zone = page.locator(".reply-form .drop-zone")
    assert zone.is_visible()
    handle = page.evaluate_handle(
        """() => { const dt = new DataTransfer();
                   dt.items.add(new File(['ERROR agent lost'], 'agent.log',
                                         {type: 'text/plain'}));
                   return dt; }"""
    )
    zone.dispatch_event("drop", {"dataTransfer": handle})
    assert page.locator(".reply-form .drop-list").inner_text().startswith("agent.log")
    page.get_by_label("Reply", exact=False).first.fill("Log attached.")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_url(f"**/tickets/{ticket.number}/#latest")
    assert page.get_by_role("link", name="agent.log").is_visible()
    context.close()
