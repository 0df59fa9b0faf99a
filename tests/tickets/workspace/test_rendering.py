"""The workspace's pages render through Jinja2 with Django's escaping and i18n.

User values are written escaped exactly as Django's templates write them (the
same entities) and never evaluated as template code; Django's safe strings, forms
and our own escaped fragments are written as they are.
"""

from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.template import TemplateDoesNotExist, defaultfilters, engines
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy
from jinja2 import DebugUndefined, meta

from scalr_support.common import jinja2 as jinja2_env
from scalr_support.common.jinja2 import environment
from tests.conftest import signed_in
from tickets.models import Macro, SavedView
from tickets.workspace import controls, presence

pytestmark = pytest.mark.django_db

QUEUE = "admin:tickets_ticket_changelist"
BULK = "admin:tickets_ticket_workspace_bulk"
# Markup, quotes, an ampersand and Jinja2's own syntax: none of it may run.
PAYLOAD = (
    "<script>alert(1)</script> {{ 7*7 }} {% raw %}{{ x }}{% endraw %} "
    "{# hidden #} \"quoted\" 'single' & {{ ''.__class__ }}"
)
RAW = "<script>alert(1)</script>"


def render(source: str, **context: Any) -> str:
    return engines["jinja2"].from_string(source).render(context)


def page(client: Client, url: str, **params: Any) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_ticket_page_escapes_user_values_and_never_evaluates_them(
    eli, erin, eli_client, file_ticket
):
    ticket = file_ticket(subject=PAYLOAD, version_reported="1.0<b>\"'&")
    ticket.organization.name = f"Org {RAW}"
    ticket.organization.save(update_fields=["name"])
    Macro.objects.create(title=f"Macro {RAW} {{{{ 7*7 }}}}", body="Hello")
    erin.first_name = f"Erin {RAW}"
    erin.save(update_fields=["first_name"])
    presence.presence_beat(ticket_id=ticket.pk, user=erin)

    html = page(eli_client, reverse("admin:tickets_ticket_change", args=[ticket.pk]))

    assert RAW not in html
    # The subject in the heading and the title, with Django's own entities.
    assert f"{escape(PAYLOAD)}</h1>" in html
    assert f"<title>{escape(ticket.reference)} {escape(PAYLOAD)} |" in html
    assert f"Org {escape(RAW)}" in html
    assert f"Macro {escape(RAW)} {{{{ 7*7 }}}}</option>" in html
    assert f"Erin {escape(RAW)}" in html
    # A {% trans %} variable (through |e).
    assert f"version {escape(ticket.version_reported)}" in html


def test_the_queue_escapes_user_values_and_never_evaluates_them(eli, eli_client):
    SavedView.objects.create(name="<b>{{ 7*7 }}</b>", query="view=open", owner=eli)
    query = "<script>{{ 7*7 }}\"'&"

    html = page(eli_client, reverse(QUEUE), q=query)

    assert "<script>" not in html
    assert "☆ &lt;b&gt;{{ 7*7 }}&lt;/b&gt;</a>" in html
    assert f'name="q" value="{escape(query)}"' in html


def test_messages_and_the_bulk_confirmation_escape_user_values(eli_client, file_ticket):
    ticket = file_ticket(subject=PAYLOAD)
    text = f"Reason {RAW}\non two lines {{{{ 7*7 }}}}"

    confirm = eli_client.post(
        reverse(BULK),
        {"tickets": [ticket.pk], "action": "note", "text": text, "view": RAW},
    )
    html = confirm.content.decode()

    assert confirm.status_code == 200
    assert RAW not in html
    assert f"</span> {escape(PAYLOAD)} <span" in html
    assert f"Reason {escape(RAW)}<br>on two lines {{{{ 7*7 }}}}</blockquote>" in html
    assert f'name="text" value="{escape(text)}"' in html

    leave_message(eli_client, f"done {RAW}")
    shown = page(eli_client, reverse(QUEUE))
    assert f'<li class="success">Done {escape(RAW)}</li>' in shown
    assert RAW not in shown


def leave_message(client: Client, text: str) -> None:
    """Queue ``text`` as a success message for the client's next page."""
    storage = CookieStorage(RequestFactory().get("/"))
    storage.add(constants.SUCCESS, text)
    response = HttpResponse()
    storage.update(response)
    client.cookies[storage.cookie_name] = response.cookies[storage.cookie_name].value


def test_django_safe_values_are_written_as_they_are_plain_ones_escaped():
    assert render("{{ v }}", v=SafeString("<b>ours</b>")) == "<b>ours</b>"
    assert render("{{ v }}", v=mark_safe("<i>x</i>")) == "<i>x</i>"
    value = "<a href=\"x\" title='y'>&</a>"
    assert render("{{ v }}", v=value) == escape(value)
    assert render("{{ v|safe }}", v=value) == value
    assert render("{{ n }} {{ none }}", n=20000, none=None) == "20000 None"


def test_lazy_translations_render_in_the_active_language():
    label = gettext_lazy("Support queue")
    assert render("{{ v }}", v=label) == "Support queue"
    assert render("{{ v }}", v=gettext_lazy("a < b")) == "a &lt; b"
    with translation.override(None):
        assert render("{{ _('Support queue') }}") == "Support queue"
    assert (
        render(
            "{% trans n=2 %}{{ n }} ticket{% pluralize %}{{ n }} tickets{% endtrans %}"
        )
        == "2 tickets"
    )
    assert render("{% trans v=v %}version {{ v }}{% endtrans %}", v="<'>") == (
        "version &lt;&#39;&gt;"
    )
    assert render("{% trans v=v|e %}version {{ v }}{% endtrans %}", v="<'>") == (
        "version &lt;&#x27;&gt;"
    )


def test_translations_follow_the_active_language_and_the_settings():
    assert render("{{ _('Log out') }}") == "Log out"
    with translation.override("de"):  # Django's admin has German catalogues
        assert render("{{ _('Log out') }}") == "Abmelden"
    assert render("{{ _('Log out') }}") == "Log out"
    assert render("{{ _('Hi %(n)s', n=v) }}", v="<b>") == "Hi &lt;b&gt;"
    block = "{% trans n=v %}Log out {{ n }}{% endtrans %}"
    assert render(block, v="<b>") == "Log out &lt;b&gt;"  # no catalogue has it
    assert render("{% trans %}Log out{% endtrans %}") == "Log out"
    with translation.override("de"):
        assert render("{% trans %}Log out{% endtrans %}") == "Abmelden"
        assert render("{{ _('Log out %(n)s', n=1) }}") == "Log out 1"

    with override_settings(LOCALE_PATHS=[]):
        assert not jinja2_env._TRANSLATED  # the catalogues may have changed
        assert not jinja2_env._GETTEXT
        assert render("{{ _('Log out') }}") == "Log out"


def test_a_once_block_is_rendered_once_per_language_and_catalogues():
    jinja2_env._ONCE.clear()
    block = "{% call once('test:block') %}{{ _('Log out') }} {{ n }}{% endcall %}"
    assert render(block, n=1) == "Log out 1"
    # Kept: what a once block shows must not depend on the request.
    assert render(block, n=2) == "Log out 1"
    with translation.override("de"):
        assert render(block, n=3) == "Abmelden 3"
        assert render(block, n=4) == "Abmelden 3"
    assert render(block, n=5) == "Log out 1"
    with override_settings(LOCALE_PATHS=[]):
        assert not jinja2_env._ONCE  # the catalogues may have changed
        assert render(block, n=6) == "Log out 6"


def test_a_remembered_macro_is_rendered_once_per_language_and_arguments():
    jinja2_env._REMEMBERED.clear()
    built: list[int] = []
    source = (
        "{% macro part(n, items, count) %}{{ count() }}{{ _('Log out') }} {{ n }}"
        " {{ items|length }}{% endmacro %}{{ remembered('test:part', part, n, items,"
        " count) }}"
    )

    def count() -> str:
        built.append(1)
        return ""

    assert render(source, n=1, items=[{"a": 1}], count=count) == "Log out 1 1"
    assert render(source, n=1, items=[{"a": 1}], count=count) == "Log out 1 1"
    assert len(built) == 1  # the same arguments, compared by value
    assert render(source, n=2, items=[{"a": 1}], count=count) == "Log out 2 1"
    assert render(source, n=2, items=[{"a": 1}, {"a": 2}], count=count) == (
        "Log out 2 2"
    )
    assert len(built) == 3
    with translation.override("de"):
        assert render(source, n=1, items=[{"a": 1}], count=count) == "Abmelden 1 1"
    with override_settings(LOCALE_PATHS=[]):
        assert not jinja2_env._REMEMBERED  # the catalogues may have changed


@pytest.mark.parametrize("parts", ["_queue_parts.html", "_frame_parts.html"])
def test_the_remembered_parts_read_only_their_arguments(parts):
    """No time, zone, request or page value can reach a remembered part (the
    i18n extension's ``_`` is not counted as a variable)."""
    env = engines["jinja2"].env  # type: ignore[attr-defined]
    source, _name, _up = env.loader.get_source(env, f"tickets/workspace/{parts}")

    assert meta.find_undeclared_variables(env.parse(source)) == set()


def test_remembered_values_follow_the_language_and_the_catalogues():
    def build() -> str:
        built.append(1)
        return translation.gettext("Log out")

    built: list[int] = []
    controls._REMEMBERED.clear()
    assert controls.remember("test", build) == "Log out"
    assert controls.remember("test", build) == "Log out"
    with translation.override("de"):
        assert controls.remember("test", build) == "Abmelden"
    assert len(built) == 2
    with override_settings(LOCALE_PATHS=[]):
        assert controls.remember("test", build) == "Log out"
    assert len(built) == 3
    choices = [("a", gettext_lazy("Log out")), ("b", "<b>")]
    assert controls.remembered_options("test", lambda: choices, "b") == (
        '<option value="a">Log out</option>'
        '<option value="b" selected>&lt;b&gt;</option>'
    )
    with translation.override("de"):
        assert controls.remembered_options("test", lambda: choices, "b").startswith(
            '<option value="a">Abmelden</option>'
        )


@override_settings(LANGUAGES=[("en", "English"), ("de", "German")])
def test_the_queue_in_another_language_is_not_the_cached_english_one(eli_client):
    url = reverse("admin:tickets_ticket_changelist")
    english = page(eli_client, url)
    german = eli_client.get(url, headers={"accept-language": "de"}).content.decode()
    assert "Abmelden" not in english
    assert "Abmelden" in german  # the frame's "Log out"
    # Django's catalogues translate "Close" and "Search": the once blocks'
    # help dialog and the filters' placeholder follow the language.
    assert "Schließen" in german
    assert "Schließen" not in english


def test_a_missing_value_writes_nothing_even_under_debug():
    assert render("[{{ missing }}][{{ ticket.subject }}]", ticket=object()) == "[][]"
    debug = environment(undefined=DebugUndefined, autoescape=False)
    assert debug.from_string("[{{ missing }}]<{{ v }}>").render(v="<") == "[]<&lt;>"


def test_dates_are_written_in_the_current_time_zone():
    moment = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    with timezone.override("America/New_York"):
        assert render("{{ d|date('H:i T') }}", d=moment) == "07:00 EST"
        assert render("{{ now_formatted('O') }}") in {"-0500", "-0400"}


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 1, 15, 12, 0, tzinfo=UTC),
        datetime(2026, 7, 15, 12, 0, tzinfo=UTC),
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # 1:30 in New York, twice
        datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
    ],
)
def test_the_zone_globals_write_what_djangos_date_formats_write(moment):
    with timezone.override("America/New_York"):
        local = timezone.localtime(moment)
        assert jinja2_env.zone_abbreviation(local) == defaultfilters.date(local, "T")
        with mock.patch.object(jinja2_env, "datetime", wraps=datetime) as clock:
            clock.now.return_value = local
            assert str(jinja2_env.utc_offset()) == jinja2_env.now_formatted("Z")


def test_the_django_engine_never_loads_the_workspace_pages(eli_client):
    with pytest.raises(TemplateDoesNotExist):
        engines["django"].get_template("tickets/workspace/queue.html")

    response = eli_client.get(reverse(QUEUE))

    assert response.template_name == "tickets/workspace/queue.html"
    assert response.using == "jinja2"


def test_the_queue_forms_carry_one_working_csrf_token(eli):
    client = signed_in(eli)
    client.handler.enforce_csrf_checks = True
    html = page(client, reverse(QUEUE))
    tokens = set(
        part.split('"', 1)[0]
        for part in html.split('name="csrfmiddlewaretoken" value="')[1:]
    )

    saved = client.post(
        reverse("admin:tickets_ticket_workspace_save_view"),
        {"name": "Mine", "query": "view=mine", "csrfmiddlewaretoken": tokens.pop()},
    )

    assert not tokens  # the three forms share the token
    assert saved.status_code == 302
    assert SavedView.objects.filter(name="Mine").exists()


def test_the_ticket_page_writes_forms_and_fragments_as_they_are(
    eli_client, file_ticket
):
    ticket = file_ticket()

    html = page(eli_client, reverse("admin:tickets_ticket_change", args=[ticket.pk]))

    assert '<input type="radio" name="reply_visibility" value="public"' in html
    assert '<input type="hidden" name="seen" value="' in html
    assert '<ol class="ws-thread"' in html  # the cached thread fragment
    assert '<script id="ws-macros" type="application/json">[]</script>' in html
