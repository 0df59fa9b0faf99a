"""The UX review's small defects, each as a reader of the page would notice it."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from maintenance import services as maintenance_services
from notifications.models import EmailDelivery, Event
from notifications.services import deliveries_send_for_event
from tests.conftest import signed_in
from tests.factories import CommentFactory, StaffFactory, TicketFactory
from tests.maintenance.conftest import make_window
from tickets import lifecycle, services
from tickets.choices import Status
from tickets.models import Release

pytestmark = pytest.mark.django_db

STATIC = Path(__file__).resolve().parents[2] / "static" / "css"


def test_best_effort_is_said_once_per_free_target(client):
    page = client.get(reverse("support-policy")).content.decode()

    assert "(best effort, not guaranteed)" in page
    assert "(best effort, not guaranteed) <span" not in page
    assert "(best effort)</span>" not in page


def test_only_the_maintenance_link_is_current_on_the_maintenance_page(alice_client):
    page = alice_client.get(reverse("maintenance:list")).content.decode()

    assert page.count('aria-current="page"') == 1
    assert re.search(r'maintenance/"\s+aria-current="page"', page)


def test_the_upgrade_paragraph_is_shown_once_after_filing_for_an_old_version(
    alice_client,
):
    today = timezone.now().date()
    for version, major, days in (("8.0.0", 8, 800), ("9.0.0", 9, 500)):
        lifecycle.release_save(
            release=Release(
                version=version, major=major, released_on=today - timedelta(days)
            )
        )

    response = alice_client.post(
        reverse("tickets:new"),
        {
            "subject": "Old agent",
            "priority": "3",
            "category": "question",
            "deployment": "on_prem",
            "version_reported": "8.0.0",
            "description": "Still on 8.",
        },
        follow=True,
    )

    page = response.content.decode()
    assert "no longer supported" in page
    assert page.count("regularly update their deployments") == 1


def test_the_policy_table_says_yes_and_no_in_words(client):
    page = client.get(reverse("support-policy")).content.decode()

    assert not any(glyph in page for glyph in ("\u2705", "\u274c"))
    assert '<span class="yes">Yes</span>' in page
    assert '<span class="no">No</span>' in page


def test_no_stylesheet_relies_on_emoji_glyphs():
    for sheet in STATIC.glob("*.css"):
        text = sheet.read_text()
        assert not re.search("[\U0001f300-\U0001faff\u2600-\u27bf]", text), sheet


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(sheet: str, selector: str) -> float:
    rule = re.search(
        re.escape(selector) + r"\s*\{([^}]*)\}", (STATIC / sheet).read_text()
    )
    assert rule, selector
    colours = dict(
        re.findall(r"(background|color):\s*(#[0-9a-fA-F]{6})", rule.group(1))
    )
    light, dark = sorted(
        (_luminance(colours["background"]), _luminance(colours["color"])), reverse=True
    )
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize(
    ("sheet", "selector"),
    [
        ("portal.css", ".status-solved"),
        ("portal.css", ".tag-internal"),
        ("admin-sla.css", ".sla-on_track"),
        ("admin-triage.css", ".triage-thread .internal-flag"),
    ],
)
def test_badges_meet_wcag_aa_contrast(sheet, selector):
    assert _contrast(sheet, selector) >= 4.5


def test_markdown_lists_keep_their_markers_in_the_admin():
    css = (STATIC / "admin-triage.css").read_text()

    assert ".thread-body ul > li { list-style: disc" in css
    assert ".thread-body ol > li { list-style: decimal" in css


# --- times and zones ---------------------------------------------------------------


def test_the_admin_clock_panel_says_the_state_in_words_and_each_time_once(
    admin_client, alice
):
    ticket = services.ticket_create(
        requester=alice.user,
        data=services.TicketInput(
            subject="Clock", description="d", priority=1, category="", deployment="saas"
        ),
    )

    page = admin_client.get(
        reverse("admin:tickets_ticket_change", args=[ticket.pk])
    ).content.decode()

    panel = page.split("SLA: why this due time", 1)[1].split("</section>", 1)[0]
    assert "on_track" not in panel.replace("sla-on_track", "")
    assert "left" in panel  # a running clock says how long is left, in words
    assert not re.search(r"(\d\d:\d\d) UTC \(\1 UTC\)", panel)


def test_staff_see_every_time_in_their_own_zone_with_its_abbreviation(alice):
    engineer = StaffFactory(is_superuser=True, time_zone="Asia/Tokyo")
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)
    CommentFactory(ticket=ticket, author=engineer)

    page = (
        signed_in(engineer)
        .get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
        .content.decode()
    )

    assert "JST" in page
    assert "Times in Asia/Tokyo" in page
    # Every time shown is the viewer's; the calendar's zone may still be named.
    content = page.split('id="content"', 1)[1]
    assert not re.search(r"\d\d:\d\d(:\d\d)? UTC", content)


def test_staff_choose_their_time_zone(engineer_client, engineer):
    response = engineer_client.post(
        reverse("accounts:time-zone"), {"time_zone": "Europe/Berlin"}
    )
    bad = engineer_client.post(
        reverse("accounts:time-zone"), {"time_zone": "Mars/Base"}
    )

    assert response.status_code == 302
    engineer.refresh_from_db()
    assert engineer.time_zone == "Europe/Berlin"
    assert bad.status_code == 400


def test_the_maintenance_reminder_gives_its_time_with_a_zone_and_no_reply_line(
    alice, django_capture_on_commit_callbacks, mailoutbox
):
    alice.maintenance_reminders = True
    alice.save(update_fields=["maintenance_reminders"])
    alice.organization.timezone = "Europe/Berlin"
    alice.organization.save(update_fields=["timezone"])
    make_window(starts_in=timedelta(hours=20))

    with django_capture_on_commit_callbacks(execute=True):
        maintenance_services.reminders_enqueue()
    delivery = EmailDelivery.objects.get(event=Event.MAINTENANCE_REMINDER)
    deliveries_send_for_event(event_key=delivery.event_key)

    (message,) = mailoutbox
    starts = delivery.context["starts"]
    assert re.search(r"\d\d:\d\d (CET|CEST)$", starts)
    assert starts in message.body
    assert "reply above this line" not in message.body.lower()
    assert "reply above this line" not in message.alternatives[0][0].lower()
