"""Windows one by one: ad hoc, cancel, move, shorten, annotate; and the command."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from maintenance import services
from maintenance.models import MaintenanceWindow, WindowStatus
from scalr_support.common.errors import InvalidTransition, ValidationFailed
from tests.factories import StaffFactory

from .conftest import make_window

pytestmark = pytest.mark.django_db


def test_an_ad_hoc_window_longer_than_thirty_minutes_needs_a_reason():
    start = timezone.now() + timedelta(days=1)

    with pytest.raises(ValidationFailed) as refused:
        services.window_create(starts_at=start, ends_at=start + timedelta(minutes=45))

    assert refused.value.field == "reason"
    window = services.window_create(
        starts_at=start,
        ends_at=start + timedelta(minutes=45),
        reason="Database migration to the new cluster",
    )
    assert window.is_ad_hoc
    assert window.duration_minutes == 45


def test_a_window_of_exactly_thirty_minutes_needs_no_reason():
    start = timezone.now() + timedelta(days=1)

    window = services.window_create(
        starts_at=start, ends_at=start + timedelta(minutes=30)
    )

    assert window.reason == ""


def test_lengthening_a_window_past_thirty_minutes_needs_a_reason():
    window = make_window(starts_in=timedelta(days=1))

    with pytest.raises(ValidationFailed):
        services.window_change(
            window=window,
            actor=StaffFactory(),
            change=services.WindowChange(ends_at=window.starts_at + timedelta(hours=1)),
        )
    services.window_change(
        window=window,
        actor=StaffFactory(),
        change=services.WindowChange(
            ends_at=window.starts_at + timedelta(hours=1), reason="Big upgrade"
        ),
    )

    window.refresh_from_db()
    assert window.duration_minutes == 60


def test_a_window_can_be_moved_shortened_and_annotated():
    window = make_window(starts_in=timedelta(days=2))
    new_start = window.starts_at + timedelta(hours=3)

    services.window_change(
        window=window,
        actor=StaffFactory(),
        change=services.WindowChange(
            starts_at=new_start,
            ends_at=new_start + timedelta(minutes=15),
            note="Moved for the release",
        ),
    )

    window.refresh_from_db()
    assert (window.starts_at, window.duration_minutes, window.note) == (
        new_start,
        15,
        "Moved for the release",
    )
    assert window.customised
    assert window.sequence == 1


def test_a_started_window_keeps_its_start_but_can_be_shortened():
    window = make_window(starts_in=timedelta(minutes=-5))

    with pytest.raises(InvalidTransition):
        services.window_change(
            window=window,
            actor=StaffFactory(),
            change=services.WindowChange(
                starts_at=window.starts_at + timedelta(hours=1)
            ),
        )
    services.window_change(
        window=window,
        actor=StaffFactory(),
        change=services.WindowChange(ends_at=window.starts_at + timedelta(minutes=10)),
    )

    window.refresh_from_db()
    assert window.duration_minutes == 10


def test_a_past_window_can_still_be_annotated():
    window = make_window(starts_in=timedelta(days=-1))

    services.window_change(
        window=window,
        actor=StaffFactory(),
        change=services.WindowChange(note="Upgraded to 9.6"),
    )

    window.refresh_from_db()
    assert window.note == "Upgraded to 9.6"


def test_cancelling_is_idempotent_and_a_cancelled_window_is_frozen():
    window = make_window(starts_in=timedelta(days=1))

    services.window_cancel(window=window, actor=None)
    services.window_cancel(window=window, actor=None)

    window.refresh_from_db()
    assert window.status == WindowStatus.CANCELLED
    assert window.sequence == 1
    with pytest.raises(InvalidTransition):
        services.window_change(
            window=window, actor=None, change=services.WindowChange(note="x")
        )


def test_a_window_that_is_over_cannot_be_cancelled():
    window = make_window(starts_in=timedelta(hours=-2))

    with pytest.raises(InvalidTransition):
        services.window_cancel(window=window, actor=None)


# --- python manage.py maintenance ----------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command("maintenance", *args, stdout=out)
    return out.getvalue()


def test_command_adds_lists_and_cancels_windows():
    added = run(
        "add", "--start", "2099-03-03T07:00:00Z", "--minutes", "20", "--note", "Hello"
    )
    window_id = int(added.split("\t")[0])
    window = MaintenanceWindow.objects.get(pk=window_id)

    assert window.starts_at == datetime(2099, 3, 3, 7, tzinfo=UTC)
    assert window.duration_minutes == 20
    assert window.note == "Hello"
    assert f"{window_id}\t2099-03-03T07:00:00+00:00" in run("list", "--limit", "500")

    cancelled = run("cancel", str(window_id))

    assert "\tcancelled\t" in cancelled
    assert MaintenanceWindow.objects.get(pk=window_id).is_cancelled


def test_command_takes_the_note_as_the_reason_for_a_long_window():
    added = run(
        "add",
        "--start",
        "2099-03-03T07:00:00Z",
        "--minutes",
        "90",
        "--note",
        "Moving to the new database cluster",
    )

    window = MaintenanceWindow.objects.get(pk=int(added.split("\t")[0]))
    assert window.reason == "Moving to the new database cluster"


def test_command_reads_a_start_without_offset_as_utc():
    added = run("add", "--start", "2099-03-03 07:00", "--minutes", "30")

    window = MaintenanceWindow.objects.get(pk=int(added.split("\t")[0]))
    assert window.starts_at == datetime(2099, 3, 3, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    "args",
    [
        ("add", "--start", "yesterday", "--minutes", "30"),
        ("add", "--start", "2099-03-03T07:00Z", "--minutes", "0"),
        ("add", "--start", "2099-03-03T07:00Z", "--minutes", "90"),  # no reason
        ("cancel", "999999999"),
    ],
)
def test_command_refuses_bad_input_with_a_message(args):
    with pytest.raises(CommandError):
        run(*args)
