"""One backoff policy for mail, Slack and tasks; one requeue sweep for waiting rows."""

from datetime import timedelta

import pytest
from celery.utils.time import get_exponential_backoff_interval

from maintenance.services.announcements import SLACK_BACKOFF
from notifications.services import EMAIL_BACKOFF
from scalr_support.common.retry import TASK_BACKOFF, Backoff
from scalr_support.common.tasks import ProjectTask


@pytest.mark.parametrize(
    ("policy", "attempts", "seconds"),
    [
        (SLACK_BACKOFF, 0, 5),
        (SLACK_BACKOFF, 1, 5),
        (SLACK_BACKOFF, 2, 10),
        (SLACK_BACKOFF, 3, 20),
        (SLACK_BACKOFF, 5, 80),
        (SLACK_BACKOFF, 6, 120),
        (SLACK_BACKOFF, 40, 120),
        (EMAIL_BACKOFF, 1, 30),
        (EMAIL_BACKOFF, 2, 60),
        (EMAIL_BACKOFF, 7, 1920),
        (EMAIL_BACKOFF, 8, 3600),
        (TASK_BACKOFF, 1, 2),
        (TASK_BACKOFF, 5, 32),
        (TASK_BACKOFF, 6, 60),
        (Backoff(first=0.5, cap=4), 3, 2),
        (Backoff(first=0.5, cap=4), 5, 4),
    ],
)
def test_the_wait_doubles_from_the_first_delay_up_to_the_cap(policy, attempts, seconds):
    assert policy.delay(attempts) == timedelta(seconds=seconds)


@pytest.mark.parametrize("retries", range(12))
def test_celery_retries_a_task_on_the_same_policy(retries):
    """Celery counts retries from 0 where the policy counts failures from 1."""
    celery_wait = get_exponential_backoff_interval(
        factor=ProjectTask.retry_backoff,
        retries=retries,
        maximum=ProjectTask.retry_backoff_max,
        full_jitter=False,
    )

    assert timedelta(seconds=celery_wait) == TASK_BACKOFF.delay(retries + 1)
