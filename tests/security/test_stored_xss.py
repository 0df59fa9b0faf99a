"""Stored XSS: hostile text in every input renders inert on every page.

Payloads go into everything a user can type or name (ticket subject and description,
comments and internal notes, attachment file names, organisation and user names,
token names, priority-change reasons); then every GET route of the URLconf is
rendered as a customer, a manager and an anonymous visitor, and each HTML page is
parsed: no script, event handler or javascript: URL may come from a payload, and
every page carries a Content-Security-Policy that forbids inline script.
"""

import re
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from scalr_support.accounts.services import api_token_create
from tickets import services
from tickets.choices import Priority

from .conftest import World
from .matrix import declared_routes, request, resolve

pytestmark = pytest.mark.django_db

MARK = "xssmark"
PAYLOADS = [
    f"<script>{MARK}(1)</script>",
    f'"><img src=x onerror={MARK}(2)>',
    f"'><svg onload={MARK}(3)>",
    f'<a href="javascript:{MARK}(4)">click</a>',
    f"[click me](javascript:{MARK}(5))",
    f'<iframe src="javascript:{MARK}(6)"></iframe>',
    f"<body onload={MARK}(7)>",
    f"{{{{ 7*7 }}}} {{% debug %}} {MARK}(8)",
    f"<math><mtext><table><mglyph><style><img src=x onerror={MARK}(9)>",
    f"<details open ontoggle={MARK}(10)>",
    f'<a href="&#106;avascript:{MARK}(11)">entity</a>',
    f"![img](javascript:{MARK}(12))",
    f"</textarea><script>{MARK}(13)</script>",
    f"<input autofocus onfocus={MARK}(14)>",
    f"<a href=' java\tscript:{MARK}(15)'>tab</a>",
    f"<object data='data:text/html,<script>{MARK}(16)</script>'></object>",
]
# Attachment names cannot hold "/" (it is a path separator), so these avoid it.
FILENAME_PAYLOADS = [
    f'"><img src=x onerror={MARK}(20)>.txt',
    f"<svg onload={MARK}(21)>.log",
]

# Attributes whose value is shown or sent as text (URLs are checked separately).
_PASSIVE_ATTRIBUTES = {
    "value",
    "title",
    "alt",
    "content",
    "placeholder",
    "href",
    "download",
    "id",
    "name",
    "class",
    "datetime",
}
_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href"}
_CONTROL = re.compile(r"[\x00-\x20]+")


class InertChecker(HTMLParser):
    """Collect every way the parsed page could run a payload."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event handler")
            if name in _URL_ATTRIBUTES or name == "style":
                url = _CONTROL.sub("", value).lower()
                if url.startswith(("javascript:", "vbscript:", "data:text/html")):
                    self.problems.append(f"<{tag} {name}={value!r}>")
            passive = name in _PASSIVE_ATTRIBUTES or name.startswith(("data-", "aria-"))
            if MARK in value and not passive:
                self.problems.append(f"payload in <{tag} {name}={value!r}>")
        if tag == "script":
            self._in_script = True
            if "src" not in values and values.get("type") != "application/json":
                self.problems.append("inline <script> (CSP would block it)")
        if tag in {"iframe", "object", "embed", "base", "frame"}:
            self.problems.append(f"<{tag}> element in the page")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and MARK in data:
            self.problems.append(f"payload inside <script>: {data[:80]!r}")


def inert_problems(html: str) -> list[str]:
    checker = InertChecker()
    checker.feed(html)
    checker.close()
    return checker.problems


def csp_problems(header: str | None) -> list[str]:
    if not header:
        return ["no Content-Security-Policy"]
    directives = {
        part.strip().split(" ", 1)[0]: part.strip()
        for part in header.split(";")
        if part.strip()
    }
    scripts = directives.get("script-src") or directives.get("default-src") or ""
    if not scripts:
        return ["CSP sets neither script-src nor default-src"]
    bad = [
        t for t in ("'unsafe-inline'", "'unsafe-eval'", " *", "data:") if t in scripts
    ]
    return [f"CSP allows {t.strip()} scripts" for t in bad]


@pytest.fixture
def hostile_world(world: World) -> World:
    """The test world with a payload in every field a person can fill in."""
    org_a, org_b = world.org_a, world.org_b
    org_a.name = f"Acme {PAYLOADS[1]}"
    org_a.save(update_fields=["name"])
    org_b.name = f"Globex {PAYLOADS[2]}"
    org_b.save(update_fields=["name"])
    for index, role in enumerate(("customer_a", "contact_a", "engineer", "manager")):
        user = world.users[role]
        user.first_name = PAYLOADS[index][:150]
        user.last_name = PAYLOADS[-index - 1][:150]
        user.save(update_fields=["first_name", "last_name"])
    customer, engineer = world.users["customer_a"], world.users["engineer"]
    everything = "\n\n".join(PAYLOADS)
    ticket = world.ticket_a
    ticket.subject = " ".join(PAYLOADS[:3])[:200]
    ticket.description = everything
    from tickets.markdown import render_markdown

    ticket.description_html = render_markdown(everything)
    ticket.save(update_fields=["subject", "description", "description_html"])
    services.comment_create(
        ticket=ticket,
        author=customer,
        body=everything,
        files=[SimpleUploadedFile(name, b"x") for name in FILENAME_PAYLOADS],
    )
    services.comment_create(
        ticket=ticket, author=engineer, body=everything, is_public=False
    )
    services.ticket_priority_change(
        ticket=ticket,
        actor=engineer,
        priority=Priority.BLOCKER,
        reason=everything,
    )
    for payload in PAYLOADS:
        services.ticket_create(
            requester=customer,
            data=services.TicketInput(
                payload[:200], payload, Priority.MINOR, "bug", "saas", payload[:40]
            ),
            files=[SimpleUploadedFile(FILENAME_PAYLOADS[0], b"x")],
        )
    api_token_create(user=customer, name=PAYLOADS[0][:100])
    return world


def _html(response) -> str | None:
    if getattr(response, "streaming", False):
        return None  # downloads: sent as attachments, covered by their headers
    if "text/html" not in response.get("Content-Type", ""):
        return None
    return response.content.decode("utf-8", errors="replace")


def test_the_checker_catches_what_it_should():
    assert inert_problems(f'<img src=x onerror="{MARK}()">')
    assert inert_problems(f'<a href="&#106;avascript:{MARK}()">x</a>')
    assert inert_problems(f"<script>{MARK}()</script>")
    assert inert_problems("<a href='java\tscript:alert(1)'>x</a>")
    assert not inert_problems(f"<p>&lt;script&gt;{MARK}()&lt;/script&gt;</p>")
    assert csp_problems("default-src 'self'; script-src 'self' 'unsafe-inline'")
    assert not csp_problems("default-src 'self'; script-src 'self'")


@pytest.mark.slow
def test_every_page_renders_the_payloads_inert(hostile_world: World):
    world = hostile_world
    problems: list[str] = []
    pages = 0
    for route in declared_routes():
        resolved = resolve(route, world)
        assert resolved is not None, route.key
        if "GET" not in resolved.policy.expect:
            continue
        url = resolved.url(world)
        staff_only = route.route.startswith("admin/")  # others are sent to sign in
        for role in (
            ("manager",) if staff_only else ("anonymous", "customer_a", "manager")
        ):
            response = request(world.client(role), "GET", url, resolved.policy)
            html = _html(response)
            if html is None:
                continue
            pages += 1
            found = inert_problems(html) + csp_problems(
                response.get("Content-Security-Policy")
            )
            problems += [f"GET {url} as {role}: {p}" for p in found]
    assert pages > 40  # the walk really rendered the portal and the admin
    assert problems == [], "\n".join(sorted(set(problems)))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_reflected_query_values_render_inert(world: World, payload: str):
    response = world.client("customer_a").get(
        "/tickets/", {"q": payload, "status": payload, "priority": payload}
    )

    assert response.status_code == 200
    assert inert_problems(response.content.decode()) == []


def test_payloads_survive_as_text_in_the_api(hostile_world: World):
    """The API returns what was typed (JSON is data); HTML fields are sanitised."""
    client = hostile_world.client("customer_a")
    ticket = client.get(f"/api/v1/tickets/{hostile_world.ticket_a.number}/")

    body = ticket.json()
    assert ticket["Content-Type"] == "application/json"
    assert ticket["X-Content-Type-Options"] == "nosniff"
    assert PAYLOADS[0] in body["description"]
    assert inert_problems(body["description_html"]) == []
