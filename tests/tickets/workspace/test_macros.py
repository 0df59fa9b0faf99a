"""Canned replies: safe placeholders, personal or shared, managed by the right staff."""

import json

import pytest
from django.urls import reverse

from tests.conftest import signed_in
from tickets.models import Macro, SavedView
from tickets.workspace.macros import (
    macro_render,
    placeholder_errors,
    ticket_placeholder_values,
)
from tickets.workspace.models import AssigneeAction

pytestmark = pytest.mark.django_db


def macros_on_page(client, ticket):
    response = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    return response, {m["title"]: m for m in response.context_data["macros"]}


def test_placeholders_are_filled_for_the_ticket(eli, eli_client, file_ticket, alice):
    alice.user.first_name = "Alice"
    alice.user.save(update_fields=["first_name"])
    ticket = file_ticket()
    Macro.objects.create(
        title="Ask for logs",
        body="Hi {{ contact.first_name }}, about #{{ticket.number}}: {{ agent.name }}",
        set_status="waiting_on_customer",
        assignee_action=AssigneeAction.SELF,
    )

    _response, macros = macros_on_page(eli_client, ticket)

    macro = macros["Ask for logs"]
    assert macro["body"] == f"Hi Alice, about #{ticket.number}: Eli Engineer"
    assert (macro["status"], macro["assignee"]) == ("waiting_on_customer", str(eli.pk))


def test_a_macro_cannot_reach_settings_or_template_tags(eli, file_ticket):
    ticket = file_ticket()
    hostile = "{{ settings.SECRET_KEY }} {% debug %} {{ ticket.requester.password }}"

    values = ticket_placeholder_values(ticket)

    assert macro_render(hostile, ticket_values=values, agent=eli) == hostile
    assert placeholder_errors(hostile) == [
        "settings.SECRET_KEY",
        "ticket.requester.password",
        "{%",
    ]
    assert placeholder_errors("Hi {{contact.first_name}}, #{{ ticket.number }}") == []


def test_html_in_a_customers_name_stays_text_on_the_page(
    eli_client, file_ticket, alice
):
    alice.user.first_name = "</script><script>alert(1)</script>"
    alice.user.save(update_fields=["first_name"])
    ticket = file_ticket()
    Macro.objects.create(title="Hello", body="Hi {{ contact.first_name }}")

    response, _macros = macros_on_page(eli_client, ticket)

    html = response.content.decode()
    assert "</script><script>alert(1)" not in html
    embedded = html.split('id="ws-macros" type="application/json">')[1].split("</")[0]
    assert json.loads(embedded)[0]["body"] == "Hi </script><script>alert(1)</script>"


def test_engineers_see_shared_and_their_own_macros_only(
    eli, erin, eli_client, file_ticket
):
    ticket = file_ticket()
    Macro.objects.create(title="Shared", body="x")
    Macro.objects.create(title="Mine", body="x", owner=eli)
    Macro.objects.create(title="Erin's", body="x", owner=erin)

    _response, macros = macros_on_page(eli_client, ticket)

    assert set(macros) == {"Shared", "Mine"}


def test_an_engineer_creates_a_personal_macro_but_cannot_edit_shared_ones(
    eli, eli_client
):
    shared = Macro.objects.create(title="Shared", body="old")

    eli_client.post(
        reverse("admin:tickets_macro_add"),
        {"title": "Mine", "body": "Hi {{ contact.first_name }}", "owner": ""},
    )
    edit = eli_client.post(
        reverse("admin:tickets_macro_change", args=[shared.pk]),
        {"title": "Shared", "body": "hijacked"},
    )

    assert Macro.objects.get(title="Mine").owner == eli  # never shared by them
    assert edit.status_code == 403
    shared.refresh_from_db()
    assert shared.body == "old"


def test_a_manager_shares_a_macro_and_unknown_placeholders_are_refused(maya):
    client = signed_in(maya)

    refused = client.post(
        reverse("admin:tickets_macro_add"),
        {"title": "Bad", "body": "{{ settings.DEBUG }}", "owner": ""},
    )
    client.post(
        reverse("admin:tickets_macro_add"),
        {
            "title": "Escalate",
            "body": "Raising this for {{ organization.name }}.",
            "owner": "",
            "set_priority": "1",
            "priority_reason": "Customer escalated",
        },
    )

    assert "Unknown placeholders: settings.DEBUG" in refused.content.decode()
    macro = Macro.objects.get()
    assert (macro.title, macro.owner, macro.set_priority) == ("Escalate", None, 1)


def test_an_engineer_adds_a_saved_view_in_the_admin_as_their_own(eli, eli_client):
    page = eli_client.get(reverse("admin:tickets_savedview_add"))
    eli_client.post(
        reverse("admin:tickets_savedview_add"),
        {"name": "Mine", "query": "view=mine", "position": "0"},
    )

    assert page.status_code == 200
    assert 'name="owner"' not in page.content.decode()
    assert SavedView.objects.get().owner == eli


def test_an_engineer_cannot_reorder_a_shared_view_from_the_list(eli, eli_client):
    shared = SavedView.objects.create(name="Team", query="view=open", owner=None)
    mine = SavedView.objects.create(name="Mine", query="view=mine", owner=eli)
    url = reverse("admin:tickets_savedview_changelist")
    data = {
        "form-TOTAL_FORMS": "2",
        "form-INITIAL_FORMS": "2",
        "form-0-id": str(shared.pk),
        "form-0-position": "9",
        "form-1-id": str(mine.pk),
        "form-1-position": "0",
        "_save": "Save",
    }

    refused = eli_client.post(url, data)
    own = eli_client.post(url, {**data, "form-0-position": "0", "form-1-position": "5"})

    assert refused.status_code == 200
    assert "Only a manager can change “Team”: it is shared." in refused.text
    assert SavedView.objects.get(pk=shared.pk).position == 0
    assert own.status_code == 302
    assert SavedView.objects.get(pk=mine.pk).position == 5
