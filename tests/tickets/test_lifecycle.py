"""The support lifecycle, the out-of-scope marks and the /support-policy/ page."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import TicketFactory
from tickets import lifecycle, services
from tickets.choices import SCOPE_REASONS, Category, ScopeExclusion
from tickets.lifecycle import (
    CURRENT,
    PREVIOUS,
    UNSUPPORTED,
    ReleaseRow,
    add_months,
    major_of,
    support_end_for,
)
from tickets.models import Release, Ticket
from tickets.workspace.collision import Seen

# 9.0.0 came out on 10 March 2025: 8.x is supported up to and including
# 10 March 2026, the day 12 months later.
RELEASES = [
    ReleaseRow("7.0.0", 7, date(2023, 2, 1)),
    ReleaseRow("8.0.0", 8, date(2024, 1, 15)),
    ReleaseRow("8.9.4", 8, date(2025, 6, 1)),  # a patch after 9.0 changes nothing
    ReleaseRow("9.0.0", 9, date(2025, 3, 10)),
    ReleaseRow("9.2.1", 9, date(2025, 9, 30)),
]


def statuses(today: date) -> dict[int, str]:
    return {line.major: line.status for line in lifecycle.lifecycle(RELEASES, today)}


# --- pure ----------------------------------------------------------------------------


def test_the_previous_major_is_supported_on_the_day_of_the_12_month_boundary():
    assert statuses(date(2026, 3, 10)) == {9: CURRENT, 8: PREVIOUS, 7: UNSUPPORTED}


def test_the_previous_major_is_unsupported_the_day_after_the_boundary():
    assert statuses(date(2026, 3, 11)) == {9: CURRENT, 8: UNSUPPORTED, 7: UNSUPPORTED}


def test_a_version_is_supported_through_the_boundary_day_only():
    day_of = lifecycle.version_support("8.4.2", RELEASES, date(2026, 3, 10))
    day_after = lifecycle.version_support("8.4.2", RELEASES, date(2026, 3, 11))

    assert (day_of.supported, day_of.ends_on) == (True, date(2026, 3, 10))
    assert day_after.supported is False


def test_the_major_before_last_ends_when_the_next_major_is_released():
    # 9.0 came out within 12 months of 8.0: 7.x stops being "previous" that day.
    quick = [
        ReleaseRow("7.0.0", 7, date(2023, 1, 1)),
        ReleaseRow("8.0.0", 8, date(2024, 1, 1)),
        ReleaseRow("9.0.0", 9, date(2024, 6, 1)),
    ]

    before = {
        line.major: line for line in lifecycle.lifecycle(quick, date(2024, 5, 31))
    }
    after = {line.major: line for line in lifecycle.lifecycle(quick, date(2024, 6, 1))}

    assert before[7].status == PREVIOUS
    assert before[7].supported_until == date(2024, 5, 31)
    assert after[7].status == UNSUPPORTED
    assert after[8].status == PREVIOUS


def test_the_current_major_has_no_end_and_its_latest_version_is_shown():
    (current, *_rest) = lifecycle.lifecycle(RELEASES, date(2026, 1, 1))

    assert (current.major, current.status, current.supported_until) == (
        9,
        CURRENT,
        None,
    )
    assert current.latest_version == "9.2.1"
    assert current.released_on == date(2025, 3, 10)


def test_an_announced_release_counts_only_from_its_release_date():
    releases = [*RELEASES, ReleaseRow("10.0.0", 10, date(2026, 2, 1))]

    assert statuses(date(2026, 1, 31))[9] == CURRENT
    assert statuses(date(2026, 1, 31)).get(10) is None
    assert {
        line.major: line.status
        for line in lifecycle.lifecycle(releases, date(2026, 2, 1))
    }[9] == PREVIOUS


def test_unknown_versions_are_neither_supported_nor_flagged():
    for version in ("", "latest", "12.0.1"):
        assert (
            lifecycle.version_support(version, RELEASES, date(2026, 1, 1)).supported
            is None
        )


def test_a_major_older_than_any_recorded_one_is_unsupported():
    assert support_end_for("6.3", RELEASES) is not None
    assert (
        lifecycle.version_support("6.3", RELEASES, date(2026, 1, 1)).supported is False
    )


@pytest.mark.parametrize(
    ("version", "major"),
    [
        ("9.4.1", 9),
        ("v10.0", 10),
        ("8", 8),
        (" 7.1-rc1", 7),
        ("nine", None),
        ("", None),
    ],
)
def test_major_of(version, major):
    assert major_of(version) == major


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 3, 10), 12, date(2026, 3, 10)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 12, 31), 2, date(2026, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_months_end(day, months, expected):
    assert add_months(day, months) == expected


# --- stored on tickets ----------------------------------------------------------------


def record(version: str, major: int, released_on: date) -> Release:
    return lifecycle.release_save(
        release=Release(version=version, major=major, released_on=released_on)
    )


@pytest.mark.django_db
def test_recording_a_new_major_dates_the_end_of_older_tickets_versions():
    record("8.0.0", 8, date(2024, 1, 15))
    old = TicketFactory(version_reported="8.3.0")
    unknown = TicketFactory(version_reported="")

    record("9.0.0", 9, date(2025, 3, 10))

    old.refresh_from_db()
    unknown.refresh_from_db()
    assert old.version_support_ends_on == date(2026, 3, 10)
    assert unknown.version_support_ends_on is None


@pytest.mark.django_db
def test_a_new_ticket_stores_when_its_version_stops_being_supported(alice):
    record("8.0.0", 8, date(2024, 1, 15))
    record("9.0.0", 9, date(2025, 3, 10))

    ticket = services.ticket_create(
        requester=alice.user,
        data=services.TicketInput(
            subject="Old agent",
            description="Runs fail",
            priority=2,
            category=Category.BUG,
            deployment="on_prem",
            version_reported="8.1.0",
        ),
    )

    assert ticket.version_support_ends_on == date(2026, 3, 10)


@pytest.mark.django_db
def test_the_admin_queue_filters_tickets_on_unsupported_versions(admin_client):
    today = timezone.now().date()
    record("8.0.0", 8, today - timedelta(days=800))
    record("9.0.0", 9, today - timedelta(days=400))  # 8.x ended 35 days ago
    stale = TicketFactory(subject="On eight", version_reported="8.2.0")
    fresh = TicketFactory(subject="On nine", version_reported="9.1.0")
    lifecycle.tickets_version_support_refresh()

    url = reverse("admin:tickets_ticket_changelist")
    flagged = admin_client.get(url + "?version=unsupported").content.decode()
    everything = admin_client.get(url).content.decode()

    assert stale.subject in flagged
    assert fresh.subject not in flagged
    assert "Unsupported version" in everything


@pytest.mark.django_db
def test_the_customer_is_told_to_upgrade_on_the_ticket_page(alice, alice_client):
    today = timezone.now().date()
    ticket = TicketFactory(
        organization=alice.organization,
        version_reported="8.2.0",
        version_support_ends_on=today - timedelta(days=1),
    )
    supported = TicketFactory(
        organization=alice.organization,
        version_reported="8.2.0",
        version_support_ends_on=today,
    )

    page = alice_client.get(reverse("tickets:detail", args=[ticket.number]))
    still = alice_client.get(reverse("tickets:detail", args=[supported.number]))

    html = page.content.decode()
    assert "no longer supported" in html
    assert "regularly update their deployments to the latest version" in html
    assert "no longer supported" not in still.content.decode()


@pytest.mark.django_db
def test_the_new_ticket_form_shows_whether_the_version_is_supported(
    alice, alice_client
):
    today = timezone.now().date()
    record("8.0.0", 8, today - timedelta(days=800))
    record("9.0.0", 9, today - timedelta(days=400))
    alice.organization.scalr_version = "8.7.0"
    alice.organization.save(update_fields=["scalr_version"])

    page = alice_client.get(reverse("tickets:new")).content.decode()

    assert "Scalr 8.7.0 is no longer supported" in page
    assert "9.x (current)" in page
    response = alice_client.post(
        reverse("tickets:new"),
        {
            "subject": "",
            "priority": "2",
            "category": "bug",
            "deployment": "saas",
            "version_reported": "9.1.0",
            "description": "x",
        },
    )
    assert "Scalr 9.1.0 is a supported version" in response.content.decode()


@pytest.mark.django_db
def test_the_organisation_page_in_the_admin_shows_version_support(admin_client, org_a):
    today = timezone.now().date()
    record("8.0.0", 8, today - timedelta(days=800))
    record("9.0.0", 9, today - timedelta(days=400))
    org_a.scalr_version = "8.7.0"
    org_a.save(update_fields=["scalr_version"])

    url = reverse("admin:tickets_organization_change", args=[org_a.pk])
    page = admin_client.get(url)
    org_a.scalr_version = "9.1.0"
    org_a.save(update_fields=["scalr_version"])
    current = admin_client.get(url)

    assert "Unsupported: upgrade" in page.content.decode()
    assert "Supported (current major)" in current.content.decode()


@pytest.mark.django_db
def test_managers_record_releases_in_the_admin(admin_client):
    response = admin_client.post(
        reverse("admin:tickets_release_add"),
        {"version": "9.6.0", "major": "9", "released_on": "2026-05-05"},
    )
    mismatch = admin_client.post(
        reverse("admin:tickets_release_add"),
        {"version": "10.0.0", "major": "9", "released_on": "2026-05-05"},
    )

    assert response.status_code == 302
    assert Release.objects.filter(version="9.6.0", major=9).exists()
    assert mismatch.status_code == 200
    assert not Release.objects.filter(version="10.0.0").exists()


# --- scope ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_engineer_marks_a_ticket_out_of_scope_and_the_customer_sees_why(
    alice, alice_client, engineer
):
    ticket = TicketFactory(organization=alice.organization)

    services.ticket_scope_set(
        ticket=ticket, actor=engineer, scope_exclusion=ScopeExclusion.UNSUPPORTED_CLOUD
    )

    html = alice_client.get(reverse("tickets:detail", args=[ticket.number])).content
    assert "Outside the scope of Scalr support" in html.decode()
    assert str(SCOPE_REASONS[ScopeExclusion.UNSUPPORTED_CLOUD])[:60] in html.decode()


@pytest.mark.django_db
def test_only_staff_mark_scope_and_only_with_a_policy_reason(alice, engineer):
    from scalr_support.common.errors import NotAllowed, ValidationFailed

    ticket = TicketFactory(organization=alice.organization)

    with pytest.raises(NotAllowed):
        services.ticket_scope_set(
            ticket=ticket,
            actor=alice.user,
            scope_exclusion=ScopeExclusion.UNSUPPORTED_CLOUD,
        )
    with pytest.raises(ValidationFailed):
        services.ticket_scope_set(
            ticket=ticket, actor=engineer, scope_exclusion="bogus"
        )


@pytest.mark.django_db
def test_scope_is_set_from_the_admin_ticket_page(org_a, admin_client):
    ticket = TicketFactory(organization=org_a)

    response = admin_client.post(
        reverse("admin:tickets_ticket_change", args=[ticket.pk]),
        {
            "seen": Seen.of(ticket).token(),
            "status": ticket.status,
            "priority": str(ticket.priority),
            "category": ticket.category,
            "scope_exclusion": ScopeExclusion.UNSUPPORTED_PLATFORM,
            "reply_visibility": "public",
        },
    )

    assert response.status_code == 302
    assert (
        Ticket.objects.get(pk=ticket.pk).scope_exclusion
        == ScopeExclusion.UNSUPPORTED_PLATFORM
    )


@pytest.mark.django_db
def test_third_party_tickets_are_marked_in_the_admin_queue(admin_client):
    TicketFactory(subject="OPA policy fails", category=Category.THIRD_PARTY)

    page = admin_client.get(reverse("admin:tickets_ticket_changelist")).content.decode()

    assert "Best endeavours: Terraform / OPA" in page


@pytest.mark.django_db
def test_third_party_tickets_show_the_best_endeavours_note(alice, alice_client):
    ticket = TicketFactory(
        organization=alice.organization, category=Category.THIRD_PARTY
    )

    html = alice_client.get(reverse("tickets:detail", args=[ticket.number])).content
    assert "best endeavours" in html.decode()


# --- /support-policy/ -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_support_policy_page_shows_tiers_targets_lifecycle_maintenance_scope(
    client,
):
    from tests.factories import reseed_policy_data

    reseed_policy_data()
    today = timezone.now().date()
    record("8.0.0", 8, today - timedelta(days=100))
    record("9.0.0", 9, today - timedelta(days=30))

    html = client.get(reverse("support-policy")).content.decode()

    for expected in (
        "Business",
        "Free",
        "Production use of the Software is stopped",
        "2 hours",
        "1 business day",
        "9.x",
        "Current: supported",
        "Supported until",
        "Every Tuesday and Thursday at 07:00",
        "third-party software used in conjunction with the Software",
        "Terraform and Open Policy Agent",
    ):
        assert expected in html, expected
