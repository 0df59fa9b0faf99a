"""Scenario 4: Slack misbehaves while two beats run; each post still happens once.

Two beat schedulers run at once (both send the announcement sweep every few
seconds) against a worker with two pool children. A window's start is announced
through a 500, a 429 with Retry-After (honoured), a request that hangs past the
client's timeout and a refused connection, then posted; its end through a 500.
A window that started 10 minutes before the beats came up (beat stopped from
before its start) gets its late start posted once, because it still runs; one that
ended before they came up gets nothing. Slack's channel (the stub's accepted
posts) shows each announcement exactly once.
"""

from __future__ import annotations

import time

import pytest

from .processes import wait_until
from .stubs import Reply, SlackStub

RETRY_AFTER = 3
HANG = 1.6  # the client gives up after SLACK_WEBHOOK_TIMEOUT (1 s in the rig)
WINDOW_SECONDS = 20
ENDED = "*Scalr maintenance is complete.*"

pytestmark = pytest.mark.timeout(240)


def _started(texts: list[str], ends_at: int) -> int:
    return sum("has started" in t and f"<!date^{ends_at}^" in t for t in texts)


def test_each_announcement_is_posted_once_through_failures_and_two_beats(
    rig, slack_stub: SlackStub
):
    rig.driver("seed", contacts=1)
    rig.driver("maintenance_reset")
    ended = rig.driver("maintenance_window", start_in=-40 * 60, seconds=30 * 60)
    late = rig.driver("maintenance_window", start_in=-10 * 60, seconds=30 * 60)
    slack_stub.answer(Reply(status=500, body="oops"))  # the late start's first try
    worker = rig.worker(concurrency=2, FAULTS_SLACK_BACKOFF="0.5")
    beats = [rig.beat(), rig.beat()]
    for service in (worker, *beats):
        service.wait_ready()

    wait_until(
        lambda: _started(slack_stub.posted_texts(), late["ends_at"]),
        timeout=30,
        interval=0.2,
        what="the late start",
    )

    slack_stub.answer(
        Reply(status=500, body="server_error"),
        Reply(
            status=429, body="rate_limited", headers={"Retry-After": str(RETRY_AFTER)}
        ),
        Reply(hang=HANG),
    )
    window = rig.driver("maintenance_window", start_in=3, seconds=WINDOW_SECONDS)
    # The fourth attempt finds nobody listening: refused.
    wait_until(
        lambda: len(slack_stub.requests) >= 5,
        timeout=40,
        interval=0.05,
        what="the hanging attempt",
    )
    slack_stub.down()
    down_since = time.time()
    wait_until(
        lambda: (
            rig.driver(
                "scalar",
                query="SELECT attempts FROM maintenance_slackannouncement "
                "WHERE window_id = %s AND phase = 'started'",
                params=[window["id"]],
            )
            >= 4
        ),
        timeout=30,
        interval=0.2,
        what="an attempt while Slack refuses",
    )
    refused_for = time.time() - down_since
    slack_stub.up()
    wait_until(
        lambda: _started(slack_stub.posted_texts(), window["ends_at"]),
        timeout=40,
        interval=0.2,
        what="the start, at last",
    )
    slack_stub.answer(Reply(status=500, body="server_error"))
    wait_until(
        lambda: any(ENDED in t for t in slack_stub.posted_texts()),
        timeout=WINDOW_SECONDS + 40,
        interval=0.2,
        what="the end",
    )
    time.sleep(4)  # two more sweeps of each beat: nothing else may be posted

    posted = slack_stub.posted_texts()
    assert _started(posted, late["ends_at"]) == 1
    assert _started(posted, window["ends_at"]) == 1
    assert sum(ENDED in t for t in posted) == 1
    assert len(posted) == 3, posted
    # Retry-After honoured: the attempt after the 429 waited at least that long.
    # Requests: late start 500, 200; start 500, 429, hang, (refused), 200; end ...
    times = [t for t, _text in slack_stub.requests]
    assert times[4] - times[3] >= RETRY_AFTER
    rows = rig.driver(
        "sql",
        query="SELECT window_id, phase, status, attempts "
        "FROM maintenance_slackannouncement ORDER BY window_id, phase",
    )
    assert sorted(map(tuple, rows)) == sorted(
        [
            (ended["id"], "started", "skipped", 0),
            (late["id"], "started", "sent", 2),
            (window["id"], "ended", "sent", 2),
            (window["id"], "started", "sent", 5),
        ]
    )
    print(f"\nslack refused for {refused_for:.1f} s; {len(times)} requests in all")
