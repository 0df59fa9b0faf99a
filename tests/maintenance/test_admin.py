"""Managers edit the schedule and windows in the admin; engineers look."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from maintenance import services
from maintenance.models import MaintenanceSchedule, MaintenanceWindow
from scalr_support.accounts.groups import (
    SUPPORT_ENGINEER,
    SUPPORT_MANAGER,
    ensure_staff_groups,
)
from tests.conftest import signed_in
from tests.factories import StaffFactory

from .conftest import make_schedule, make_window

pytestmark = pytest.mark.django_db


def staff_client(group: str) -> Client:
    ensure_staff_groups()
    user = StaffFactory()
    user.groups.add(Group.objects.get(name=group))
    return signed_in(user)


@pytest.fixture
def manager_client() -> Client:
    return staff_client(SUPPORT_MANAGER)


@pytest.fixture
def support_engineer_client() -> Client:
    return staff_client(SUPPORT_ENGINEER)


def schedule_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Regular maintenance",
        "weekday_choices": ["1", "3"],
        "start_time": "07:00",
        "timezone": "UTC",
        "duration_minutes": "30",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_a_manager_moves_the_schedule_and_future_windows_follow(manager_client):
    schedule = make_schedule()
    services.windows_materialise(schedule_id=schedule.pk)
    count = schedule.windows.count()
    url = reverse("admin:maintenance_maintenanceschedule_change", args=[schedule.pk])

    response = manager_client.post(
        url, schedule_form(start_time="08:15", timezone="Europe/Berlin")
    )

    assert response.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.start_time, schedule.timezone) == (time(8, 15), "Europe/Berlin")
    assert schedule.windows.count() == count
    assert all(
        w.starts_at.astimezone(schedule_zone(schedule)).time() == time(8, 15)
        for w in schedule.windows.all()
    )


def schedule_zone(schedule: MaintenanceSchedule):
    from zoneinfo import ZoneInfo

    return ZoneInfo(schedule.timezone)


def test_schedule_form_errors_show_next_to_the_field(manager_client):
    schedule = make_schedule()
    url = reverse("admin:maintenance_maintenanceschedule_change", args=[schedule.pk])

    response = manager_client.post(url, schedule_form(duration_minutes="45"))

    assert response.status_code == 200
    assert "duration_minutes" in response.context["adminform"].form.errors


def test_engineers_may_look_but_not_edit_the_schedule(support_engineer_client):
    schedule = make_schedule()
    url = reverse("admin:maintenance_maintenanceschedule_change", args=[schedule.pk])

    assert support_engineer_client.get(url).status_code == 200
    assert support_engineer_client.post(url, schedule_form()).status_code == 403


def test_an_ad_hoc_window_over_thirty_minutes_asks_for_a_reason(manager_client):
    start = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    url = reverse("admin:maintenance_maintenancewindow_add")
    form = {
        "starts_at_0": start.strftime("%Y-%m-%d"),
        "starts_at_1": start.strftime("%H:%M:%S"),
        "ends_at_0": start.strftime("%Y-%m-%d"),
        "ends_at_1": (start + timedelta(minutes=45)).strftime("%H:%M:%S"),
        "note": "Cluster move",
        "reason": "",
        "announcements-TOTAL_FORMS": "0",
        "announcements-INITIAL_FORMS": "0",
    }

    refused = manager_client.post(url, form)
    accepted = manager_client.post(url, {**form, "reason": "Moving the database"})

    assert refused.status_code == 200
    assert "needs a stated reason" in refused.content.decode()
    assert accepted.status_code == 302
    window = MaintenanceWindow.objects.get(note="Cluster move")
    assert window.is_ad_hoc
    assert window.duration_minutes == 45


def test_the_cancel_action_cancels_windows(manager_client):
    window = make_window(starts_in=timedelta(days=1))

    manager_client.post(
        reverse("admin:maintenance_maintenancewindow_changelist"),
        {"action": "cancel_windows", "_selected_action": [window.pk]},
    )

    window.refresh_from_db()
    assert window.is_cancelled


def test_windows_list_shows_each_windows_slack_posts(manager_client, settings):
    settings.SLACK_WEBHOOK_URL = ""
    window = make_window(starts_in=timedelta(minutes=-1))
    for pk in services.announcements_sweep():
        services.announcement_send(announcement_id=pk)

    page = manager_client.get(
        reverse("admin:maintenance_maintenancewindow_changelist")
    ).content.decode()

    assert "started: Not sent: no webhook" in page
    assert window.announcements.count() == 1


def test_window_times_show_in_the_admin_in_utc(manager_client):
    make_window(
        starts_in=timedelta(0),
        now=datetime(2099, 1, 6, 7, tzinfo=UTC),
    )

    page = manager_client.get(
        reverse("admin:maintenance_maintenancewindow_changelist")
    ).content.decode()

    assert "07:00" in page or "7 a.m." in page
