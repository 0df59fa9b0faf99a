"""What customers see: the banner, /maintenance/, /maintenance.ics, the API, email."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from icalendar import Calendar

from maintenance import selectors, services
from maintenance.models import MaintenanceWindow
from maintenance.tasks import maintenance_reminders
from notifications.models import EmailDelivery, Event
from notifications.services import deliveries_send_for_event
from tests.factories import ContactFactory

from .conftest import make_window

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_other_windows(db):
    MaintenanceWindow.objects.all().delete()


# --- the banner ----------------------------------------------------------------------


def test_banner_shows_a_window_starting_within_24_hours(alice_client):
    make_window(starts_in=timedelta(hours=5), note="Upgrading the API")

    page = alice_client.get(reverse("tickets:list")).content.decode()

    assert "Scalr maintenance is scheduled." in page
    assert "Upgrading the API" in page
    assert "only new runs wait" in page


def test_banner_shows_a_running_window(client):
    make_window(starts_in=timedelta(minutes=-5))

    page = client.get(reverse("login")).content.decode()

    assert "Scalr maintenance is in progress." in page


@pytest.mark.parametrize(
    "starts_in", [timedelta(hours=25), timedelta(hours=-2)], ids=["later", "over"]
)
def test_no_banner_for_windows_further_away_or_over(alice_client, starts_in):
    make_window(starts_in=starts_in)

    page = alice_client.get(reverse("tickets:list")).content.decode()

    assert "Scalr maintenance is" not in page


def test_no_banner_for_a_cancelled_window(alice_client):
    window = make_window(starts_in=timedelta(hours=2))
    services.window_cancel(window=window, actor=None)

    page = alice_client.get(reverse("tickets:list")).content.decode()

    assert "Scalr maintenance is" not in page


def test_the_banner_lookup_is_one_query_then_cached(django_assert_num_queries):
    make_window(starts_in=timedelta(hours=2))

    with django_assert_num_queries(1):
        first = selectors.banner_for_now()
    with django_assert_num_queries(0):
        second = selectors.banner_for_now()

    assert first == second
    assert first is not None
    assert not first.running


def test_a_cached_banner_turns_from_upcoming_to_running_by_itself():
    window = make_window(starts_in=timedelta(seconds=10))
    selectors.banner_for_now()

    later = selectors.banner_for_now(now=window.starts_at + timedelta(seconds=1))

    assert later is not None
    assert later.running


def test_pages_and_the_banner_survive_a_cache_outage(settings, alice_client):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    make_window(starts_in=timedelta(hours=2))

    page = alice_client.get(reverse("tickets:new"))

    assert page.status_code == 200
    assert "Scalr maintenance is scheduled." in page.content.decode()


def test_writes_forget_the_cached_banner(django_capture_on_commit_callbacks):
    window = make_window(starts_in=timedelta(hours=2))
    assert selectors.banner_for_now() is not None

    with django_capture_on_commit_callbacks(execute=True):
        services.window_cancel(window=window, actor=None)

    assert cache.get(selectors.BANNER_CACHE_KEY) is None
    assert selectors.banner_for_now() is None


def test_a_rolled_back_window_change_leaves_the_cached_banner_alone(
    django_capture_on_commit_callbacks,
):
    window = make_window(starts_in=timedelta(hours=2))
    cached = selectors.banner_for_now()
    assert cache.get(selectors.BANNER_CACHE_KEY) is not None

    def change_then_fail() -> None:
        with transaction.atomic():
            services.window_change(
                window=window,
                actor=None,
                change=services.WindowChange(note="Moved to the afternoon."),
            )
            raise RuntimeError("the caller's transaction fails after the change")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        change_then_fail()

    assert callbacks == []  # the rolled-back change left nothing to run

    assert cache.get(selectors.BANNER_CACHE_KEY) is not None  # not forgotten
    assert selectors.banner_for_now() == cached
    window.refresh_from_db()
    assert window.note != "Moved to the afternoon."


# --- /maintenance/ --------------------------------------------------------------------


def test_maintenance_page_lists_upcoming_and_recent_windows_with_notes(client):
    make_window(starts_in=timedelta(days=3), note="Next week's upgrade")
    make_window(starts_in=timedelta(days=-3), note="Upgraded to 9.6")
    make_window(starts_in=timedelta(days=-60), note="Too old to list")

    page = client.get(reverse("maintenance:list")).content.decode()

    assert "Next week&#x27;s upgrade" in page
    assert "Upgraded to 9.6" in page
    assert "Too old to list" not in page
    assert reverse("maintenance:feed") in page


def test_a_contact_can_opt_in_to_the_day_before_email(alice_client, alice):
    response = alice_client.post(reverse("maintenance:reminders"), {"reminders": "on"})

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.maintenance_reminders is True
    alice_client.post(reverse("maintenance:reminders"), {})
    alice.refresh_from_db()
    assert alice.maintenance_reminders is False


def test_staff_have_no_reminder_preference(engineer_client):
    response = engineer_client.post(
        reverse("maintenance:reminders"), {"reminders": "on"}
    )

    assert response.status_code == 404


# --- /maintenance.ics -----------------------------------------------------------------


def test_the_feed_parses_and_contains_every_window(client):
    upcoming = make_window(starts_in=timedelta(days=2), note="Routine")
    cancelled = make_window(starts_in=timedelta(days=4))
    services.window_cancel(window=cancelled, actor=None)

    response = client.get(reverse("maintenance:feed"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    first = events[f"maintenance-window-{upcoming.pk}@support.example.com"]
    assert first.decoded("DTSTART") == upcoming.starts_at
    assert first.decoded("DTEND") == upcoming.ends_at
    assert str(first["STATUS"]) == "CONFIRMED"
    assert "Routine" in str(first["DESCRIPTION"])
    second = events[f"maintenance-window-{cancelled.pk}@support.example.com"]
    assert str(second["STATUS"]) == "CANCELLED"
    assert int(second["SEQUENCE"]) == 1


def test_a_moved_window_keeps_its_uid_with_a_higher_sequence(client):
    window = make_window(starts_in=timedelta(days=2))
    uid = f"maintenance-window-{window.pk}@support.example.com"
    moved_to = window.starts_at + timedelta(hours=1)
    services.window_change(
        window=window, actor=None, change=services.WindowChange(starts_at=moved_to)
    )

    calendar = Calendar.from_ical(client.get(reverse("maintenance:feed")).content)

    (event,) = [e for e in calendar.walk("VEVENT") if str(e["UID"]) == uid]
    assert event.decoded("DTSTART") == moved_to
    assert event.decoded("DTEND") == moved_to + timedelta(minutes=30)
    assert int(event["SEQUENCE"]) == 1


# --- GET /api/v1/maintenance-windows/ -------------------------------------------------


def test_api_lists_windows_with_their_state(alice_client):
    running = make_window(starts_in=timedelta(minutes=-5), note="Now")
    later = make_window(starts_in=timedelta(days=1))

    response = alice_client.get("/api/v1/maintenance-windows/")

    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()}
    assert rows[running.pk]["state"] == "running"
    assert rows[running.pk]["note"] == "Now"
    assert rows[later.pk]["state"] == "upcoming"
    assert rows[later.pk]["duration_minutes"] == 30


def test_api_can_leave_out_cancelled_windows_and_refuses_bad_filters(alice_client):
    window = make_window(starts_in=timedelta(days=1))
    services.window_cancel(window=window, actor=None)

    listed = alice_client.get("/api/v1/maintenance-windows/?include_cancelled=false")
    bad = alice_client.get("/api/v1/maintenance-windows/?since=yesterday")

    assert listed.json() == []
    assert bad.status_code == 400


def test_api_needs_credentials(client):
    assert client.get("/api/v1/maintenance-windows/").status_code == 401


# --- the day-before email ------------------------------------------------------------


def test_opted_in_contacts_get_one_email_the_day_before(
    alice, gina, django_capture_on_commit_callbacks, mailoutbox
):
    alice.maintenance_reminders = True
    alice.save(update_fields=["maintenance_reminders"])
    ContactFactory(maintenance_reminders=False)
    window = make_window(starts_in=timedelta(hours=20), note="Database upgrade")

    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_enqueue() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_enqueue() == 0

    deliveries = EmailDelivery.objects.filter(event=Event.MAINTENANCE_REMINDER)
    assert [d.recipient_id for d in deliveries] == [alice.user_id]
    deliveries_send_for_event(event_key=deliveries.get().event_key)
    (message,) = mailoutbox
    assert message.to == [alice.user.email]
    assert "maintenance" in message.subject.lower()
    assert "Database upgrade" in message.body
    assert "not affected" in message.body
    assert deliveries.get().context["window_id"] == str(window.pk)


def test_no_reminder_for_windows_more_than_a_day_away_or_cancelled(alice):
    alice.maintenance_reminders = True
    alice.save(update_fields=["maintenance_reminders"])
    make_window(starts_in=timedelta(hours=30))
    cancelled = make_window(starts_in=timedelta(hours=5))
    services.window_cancel(window=cancelled, actor=None)

    assert services.reminders_enqueue() == 0


def test_reminder_task_delivered_twice_has_one_effect(alice):
    alice.maintenance_reminders = True
    alice.save(update_fields=["maintenance_reminders"])
    make_window(starts_in=timedelta(hours=3))

    assert maintenance_reminders.apply().get() == 1
    assert maintenance_reminders.apply().get() == 0
    assert EmailDelivery.objects.filter(event=Event.MAINTENANCE_REMINDER).count() == 1


def test_moving_a_window_mails_its_new_time(alice):
    alice.maintenance_reminders = True
    alice.save(update_fields=["maintenance_reminders"])
    window = make_window(starts_in=timedelta(hours=3))
    services.reminders_enqueue()
    services.window_change(
        window=window,
        actor=None,
        change=services.WindowChange(starts_at=window.starts_at + timedelta(hours=2)),
    )

    assert services.reminders_enqueue() == 1
