"""Slack announcements against a real HTTP server on loopback standing in for Slack.

Exactly once per (window, phase): concurrent sweeps, a task delivered twice and
retries after errors and timeouts must not post twice.
"""

import logging
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from maintenance import services
from maintenance.models import AnnouncementStatus, Phase, SlackAnnouncement
from maintenance.slack import escape
from maintenance.tasks import announcements_sweep

from .conftest import Answer, SlackStub, make_window

pytestmark = pytest.mark.django_db


def sweep(now=None) -> list[str | None]:
    """One beat: record due phases and send them, as the task does."""
    now = now or timezone.now()
    return [
        services.announcement_send(announcement_id=pk, now=now)
        for pk in services.announcements_sweep(now=now)
    ]


def announcement(window, phase=Phase.STARTED) -> SlackAnnouncement:
    return SlackAnnouncement.objects.get(window=window, phase=phase)


# --- the messages ---------------------------------------------------------------------


def test_start_is_posted_with_the_end_time_and_what_is_not_affected(slack: SlackStub):
    window = make_window(note="Upgrading the run queue")

    assert sweep() == [AnnouncementStatus.SENT]

    (text,) = slack.texts
    assert "maintenance has started" in text
    assert f"<!date^{int(window.ends_at.timestamp())}^" in text
    assert "already deployed with Terraform" in text
    assert "only new runs wait" in text
    assert "Upgrading the run queue" in text
    row = announcement(window)
    assert (row.http_status, row.response_body, row.attempts) == (200, "ok", 1)
    assert row.sent_at is not None


def test_end_is_posted_once_the_window_is_over(slack: SlackStub):
    window = make_window(starts_in=timedelta(minutes=-10), minutes=30)
    sweep()

    after_end = window.ends_at + timedelta(seconds=20)
    sweep(after_end)
    sweep(after_end + timedelta(seconds=15))

    assert len(slack.requests) == 2
    assert "complete" in slack.texts[1]
    assert announcement(window, Phase.ENDED).status == AnnouncementStatus.SENT


def test_slack_control_characters_in_notes_are_escaped(slack: SlackStub):
    make_window(note="<!channel> runs & plans <https://evil.example|click>")

    sweep()

    (text,) = slack.texts
    assert "<!channel>" not in text
    assert (
        "&lt;!channel&gt; runs &amp; plans &lt;https://evil.example|click&gt;" in text
    )


def test_escape_handles_ampersand_first():
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"
    assert escape("&lt;") == "&amp;lt;"


# --- exactly once ---------------------------------------------------------------------


def test_repeated_sweeps_post_each_phase_once(slack: SlackStub):
    make_window()

    for _ in range(4):
        sweep()

    assert len(slack.requests) == 1
    assert SlackAnnouncement.objects.count() == 1


def test_sweep_task_delivered_twice_has_one_effect(slack: SlackStub):
    window = make_window()

    assert announcements_sweep.apply().get() == 1
    assert announcements_sweep.apply().get() == 0

    assert len(slack.requests) == 1
    assert announcement(window).status == AnnouncementStatus.SENT


def test_a_second_claim_of_the_same_row_sends_nothing(slack: SlackStub):
    make_window()
    (pk,) = services.announcements_sweep()

    assert services.announcement_send(announcement_id=pk) == AnnouncementStatus.SENT
    assert services.announcement_send(announcement_id=pk) is None

    assert len(slack.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_post_once(slack: SlackStub):
    slack.answer(Answer(hang=0.2))  # the first post is slow: the race is real
    window = make_window()
    barrier = threading.Barrier(2)
    results: list[list[str | None]] = []
    errors: list[BaseException] = []

    def beat() -> None:
        try:
            barrier.wait()
            results.append(sweep())
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert errors == []
    assert len(slack.requests) == 1
    assert SlackAnnouncement.objects.filter(window=window).count() == 1
    assert sorted(status or "" for result in results for status in result) in (
        ["", "sent"],
        ["sent"],
    )


# --- retries -------------------------------------------------------------------------


def test_a_5xx_is_retried_with_backoff_then_sent(slack: SlackStub):
    slack.answer(Answer(500, "internal_error"))
    window = make_window()
    now = timezone.now()

    assert sweep(now) == [AnnouncementStatus.PENDING]
    row = announcement(window)
    assert row.http_status == 500
    assert row.next_attempt_at > now
    assert sweep(now) == []  # not before the backoff
    assert sweep(row.next_attempt_at + timedelta(seconds=1)) == [
        AnnouncementStatus.SENT
    ]

    assert len(slack.requests) == 2
    assert announcement(window).attempts == 2


def test_a_429_waits_for_its_retry_after(slack: SlackStub):
    slack.answer(Answer(429, "rate_limited", {"Retry-After": "40"}))
    window = make_window()
    now = timezone.now()

    sweep(now)

    row = announcement(window)
    assert row.status == AnnouncementStatus.PENDING
    assert row.next_attempt_at >= now + timedelta(seconds=40)
    assert sweep(now + timedelta(seconds=30)) == []
    assert sweep(now + timedelta(seconds=45)) == [AnnouncementStatus.SENT]
    assert len(slack.requests) == 2


def test_a_timeout_is_retried_and_the_message_recorded_once(slack: SlackStub):
    slack.answer(Answer(hang=1.5))  # past the 0.5 s client timeout
    window = make_window()
    now = timezone.now()

    assert sweep(now) == [AnnouncementStatus.PENDING]
    assert "Timeout" in announcement(window).last_error
    assert sweep(now + timedelta(minutes=1)) == [AnnouncementStatus.SENT]

    row = announcement(window)
    assert (row.status, row.attempts) == (AnnouncementStatus.SENT, 2)


def test_a_refused_connection_is_retried(settings, refused_url):
    settings.SLACK_WEBHOOK_URL = refused_url
    window = make_window()

    assert sweep() == [AnnouncementStatus.PENDING]

    assert "refused" in announcement(window).last_error.lower()


def test_retries_stop_at_the_end_of_the_window_and_the_failure_is_visible(
    slack: SlackStub, caplog, admin_client
):
    slack.answer(*[Answer(503, "unavailable")] * 20)
    window = make_window(starts_in=timedelta(minutes=-1), minutes=5)
    moment = timezone.now()
    with caplog.at_level(logging.ERROR, logger="maintenance.services"):
        while moment < window.ends_at + timedelta(minutes=1):
            sweep(moment)
            moment += timedelta(seconds=15)

    row = announcement(window)
    assert row.status == AnnouncementStatus.FAILED
    assert 1 < len(slack.requests) <= services.MAX_ATTEMPTS
    assert all(r.next_attempt_at <= window.ends_at for r in [row])
    assert any("failed" in record.getMessage() for record in caplog.records)
    page = admin_client.get(
        reverse("admin:maintenance_slackannouncement_changelist") + "?attention=yes"
    )
    assert page.status_code == 200
    assert "Failed" in page.content.decode()
    # The start never went out, so there is no "complete" either.
    assert not SlackAnnouncement.objects.filter(window=window, phase=Phase.ENDED)


def test_a_permanent_error_fails_at_once(slack: SlackStub, caplog):
    slack.answer(Answer(404, "no_service"))
    window = make_window()

    with caplog.at_level(logging.ERROR, logger="maintenance.services"):
        assert sweep() == [AnnouncementStatus.FAILED]

    row = announcement(window)
    assert (row.http_status, row.response_body) == (404, "no_service")
    assert caplog.records


def test_a_send_abandoned_by_a_dead_worker_is_not_resent(slack: SlackStub, caplog):
    window = make_window()
    now = timezone.now()
    SlackAnnouncement.objects.create(
        window=window,
        phase=Phase.STARTED,
        status=AnnouncementStatus.SENDING,
        attempts=1,
        claimed_at=now - timedelta(minutes=5),
        next_attempt_at=now - timedelta(minutes=5),
        deadline=window.ends_at,
    )

    with caplog.at_level(logging.ERROR, logger="maintenance.services"):
        sweep(now)

    assert slack.requests == []
    assert announcement(window).status == AnnouncementStatus.UNKNOWN
    assert "mid-send" in caplog.text


# --- late, missed and cancelled windows ---------------------------------------------


def test_a_late_start_is_posted_while_the_window_still_runs(slack: SlackStub):
    window = make_window(starts_in=timedelta(minutes=-25), minutes=30)

    sweep()

    assert len(slack.requests) == 1
    assert announcement(window).status == AnnouncementStatus.SENT


def test_a_start_missed_for_the_whole_window_is_skipped_not_posted(slack: SlackStub):
    window = make_window(starts_in=timedelta(minutes=-40), minutes=30)

    sweep()
    sweep()

    assert slack.requests == []
    assert announcement(window).status == AnnouncementStatus.SKIPPED
    assert not SlackAnnouncement.objects.filter(window=window, phase=Phase.ENDED)


def test_a_start_still_pending_when_the_window_ends_is_given_up(slack: SlackStub):
    slack.answer(Answer(500, "x"))
    window = make_window(starts_in=timedelta(minutes=-1), minutes=2)
    sweep()

    sweep(window.ends_at + timedelta(seconds=1))

    assert announcement(window).status in (
        AnnouncementStatus.SKIPPED,
        AnnouncementStatus.FAILED,
    )
    assert len(slack.requests) == 1


def test_a_window_cancelled_before_it_starts_posts_nothing(slack: SlackStub):
    window = make_window(starts_in=timedelta(minutes=5))
    services.window_cancel(window=window, actor=None)

    sweep(window.starts_at + timedelta(minutes=1))
    sweep(window.ends_at + timedelta(minutes=1))

    assert slack.requests == []
    assert not SlackAnnouncement.objects.filter(window=window).exists()


def test_a_window_cancelled_after_its_start_was_announced_posts_a_notice_once(
    slack: SlackStub,
):
    window = make_window()
    sweep()
    services.window_cancel(window=window, actor=None)

    sweep()
    sweep()
    sweep(window.ends_at + timedelta(minutes=1))

    assert len(slack.requests) == 2
    assert "cancelled" in slack.texts[1]
    assert announcement(window, Phase.CANCELLED).status == AnnouncementStatus.SENT
    assert not SlackAnnouncement.objects.filter(window=window, phase=Phase.ENDED)


def test_a_cancellation_between_claim_and_send_skips_the_start(slack: SlackStub):
    window = make_window()
    (pk,) = services.announcements_sweep()
    services.window_cancel(window=window, actor=None)

    assert services.announcement_send(announcement_id=pk) == AnnouncementStatus.SKIPPED
    assert slack.requests == []


# --- no webhook configured -----------------------------------------------------------


def test_without_a_webhook_announcements_are_recorded_and_logged(settings, caplog):
    settings.SLACK_WEBHOOK_URL = ""
    window = make_window(note="Routine")

    with caplog.at_level(logging.INFO, logger="maintenance.services"):
        assert sweep() == [AnnouncementStatus.NOT_SENT]

    row = announcement(window)
    assert row.last_error == "not sent: no webhook"
    assert "maintenance has started" in row.text
    assert "maintenance has started" in caplog.text
    sweep(window.ends_at + timedelta(seconds=5))
    assert announcement(window, Phase.ENDED).status == AnnouncementStatus.NOT_SENT


def test_an_engineer_can_queue_a_failed_announcement_again(slack: SlackStub):
    slack.answer(Answer(404, "no_service"))
    window = make_window()
    sweep()

    services.announcement_retry(announcement=announcement(window), actor=window_actor())
    sweep()

    assert announcement(window).status == AnnouncementStatus.SENT
    assert len(slack.requests) == 2


def window_actor():
    from tests.factories import StaffFactory

    return StaffFactory()
