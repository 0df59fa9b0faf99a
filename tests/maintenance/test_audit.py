"""Every maintenance change records who made it: windows, schedule, Slack retries."""

from datetime import time, timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from maintenance import services
from maintenance.models import (
    AnnouncementStatus,
    AuditAction,
    SlackAnnouncement,
    WindowAuditEntry,
)
from scalr_support.accounts.groups import SUPPORT_MANAGER, ensure_staff_groups
from scalr_support.common.errors import ServiceError
from tests.conftest import signed_in
from tests.factories import StaffFactory

from .conftest import make_schedule, make_window

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    ensure_staff_groups()
    user = StaffFactory()
    user.groups.add(Group.objects.get(name=SUPPORT_MANAGER))
    return user


def trail(**where) -> list[tuple[str, object, dict]]:
    return [
        (entry.action, entry.actor, entry.changes)
        for entry in WindowAuditEntry.objects.filter(**where).order_by("id")
    ]


def test_adding_a_window_records_who_added_it_and_its_times(manager):
    start = (timezone.now() + timedelta(days=1)).replace(microsecond=0)

    window = services.window_create(
        starts_at=start, ends_at=start + timedelta(minutes=20), note="DB", actor=manager
    )

    assert trail(window=window) == [
        (
            AuditAction.WINDOW_CREATED,
            manager,
            {
                "starts_at": [None, start.isoformat()],
                "ends_at": [None, (start + timedelta(minutes=20)).isoformat()],
                "note": [None, "DB"],
                "reason": [None, ""],
            },
        )
    ]


def test_moving_a_window_records_the_old_and_new_start(manager):
    window = make_window(starts_in=timedelta(days=1))
    old_start, old_end = window.starts_at, window.ends_at
    new_start = old_start + timedelta(hours=2)

    services.window_change(
        window=window, actor=manager, change=services.WindowChange(starts_at=new_start)
    )

    assert trail(window=window) == [
        (
            AuditAction.WINDOW_CHANGED,
            manager,
            {
                "starts_at": [old_start.isoformat(), new_start.isoformat()],
                "ends_at": [
                    old_end.isoformat(),
                    (new_start + (old_end - old_start)).isoformat(),
                ],
            },
        )
    ]


def test_a_change_that_changes_nothing_or_is_refused_records_nothing(manager):
    window = make_window(starts_in=timedelta(days=1))

    services.window_change(
        window=window, actor=manager, change=services.WindowChange(note=window.note)
    )
    with pytest.raises(ServiceError):
        services.window_change(
            window=window,
            actor=manager,
            change=services.WindowChange(starts_at=timezone.now() - timedelta(hours=1)),
        )

    assert trail(window=window) == []


def test_cancelling_twice_records_one_cancellation_by_its_actor(manager):
    window = make_window(starts_in=timedelta(days=1))

    services.window_cancel(window=window, actor=manager)
    services.window_cancel(window=window, actor=StaffFactory())

    [(action, actor, changes)] = trail(window=window)
    assert (action, actor) == (AuditAction.WINDOW_CANCELLED, manager)
    assert changes["status"] == ["scheduled", "cancelled"]
    assert changes["cancelled_at"][0] is None


def test_the_command_line_is_recorded_as_no_actor():
    start = (timezone.now() + timedelta(days=2)).replace(microsecond=0)

    call_command(
        "maintenance", "add", "--start", start.isoformat(), "--minutes", "15",
        stdout=StringIO(),
    )  # fmt: skip
    window = WindowAuditEntry.objects.get().window
    call_command("maintenance", "cancel", str(window.pk), stdout=StringIO())

    assert [(action, actor) for action, actor, _ in trail(window=window)] == [
        (AuditAction.WINDOW_CREATED, None),
        (AuditAction.WINDOW_CANCELLED, None),
    ]


def test_a_schedule_edit_records_what_changed_and_a_resave_records_nothing(manager):
    schedule = make_schedule()
    data = services.ScheduleInput(
        weekdays=(1, 3), start_time=time(8, 15), timezone="UTC", duration_minutes=30
    )

    services.schedule_update(schedule=schedule, actor=manager, data=data)
    services.schedule_update(schedule=schedule, actor=manager, data=data)

    assert trail(schedule=schedule) == [
        (
            AuditAction.SCHEDULE_CHANGED,
            manager,
            {"start_time": ["07:00:00", "08:15:00"]},
        )
    ]


def test_sending_an_announcement_again_records_who_asked(manager):
    window = make_window()
    announcement = SlackAnnouncement.objects.create(
        window=window,
        phase="started",
        status=AnnouncementStatus.FAILED,
        next_attempt_at=timezone.now(),
        deadline=window.ends_at,
    )

    services.announcement_retry(announcement=announcement, actor=manager)

    assert trail(window=window) == [
        (
            AuditAction.ANNOUNCEMENT_RETRIED,
            manager,
            {"announcement started": ["failed", "pending"]},
        )
    ]


def test_the_admin_shows_the_trail_read_only(manager):
    window = make_window(starts_in=timedelta(days=1))
    services.window_cancel(window=window, actor=manager)
    client = signed_in(manager)
    page = client.get(
        reverse("admin:maintenance_maintenancewindow_change", args=[window.pk])
    )
    entry = WindowAuditEntry.objects.get()
    entry_url = reverse("admin:maintenance_windowauditentry_change", args=[entry.pk])

    assert page.status_code == 200
    assert "Audit trail" in page.content.decode()
    assert "Window cancelled" in page.content.decode()
    assert client.get(entry_url).status_code == 200  # viewable
    client.post(entry_url, {"action": "window_created"})
    client.post(
        reverse("admin:maintenance_windowauditentry_delete", args=[entry.pk]),
        {"post": "yes"},
    )
    entry.refresh_from_db()
    assert entry.action == AuditAction.WINDOW_CANCELLED  # neither edited nor deleted
    assert (
        client.get(reverse("admin:maintenance_windowauditentry_add")).status_code == 403
    )
