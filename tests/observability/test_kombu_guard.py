"""The private kombu patch in scalr_support/celery.py runs only where it was checked."""

import logging
from importlib.metadata import version

from kombu.transport import redis as kombu_redis

from scalr_support import celery as project_celery


def test_the_installed_kombu_is_the_release_the_guard_was_checked_on():
    """Fails when the lock moves kombu past the range: re-check the guard then.

    Run the fault suite's Redis scenario (tests/faults/test_redis_down.py) on the
    new release without the guard; widen KOMBU_GUARDED if the worker still dies,
    delete the guard if it survives.
    """
    low, high = project_celery.KOMBU_GUARDED

    assert low <= project_celery.kombu_release(version("kombu")) < high


def test_the_guard_is_in_place_on_the_installed_kombu():
    assert project_celery._survive_broker_loss() is True
    assert getattr(kombu_redis.QoS.restore_unacked, "guarded", False)


def test_another_kombu_release_is_left_alone_with_a_warning(caplog, monkeypatch):
    original = kombu_redis.QoS.restore_unacked
    with caplog.at_level(logging.WARNING, logger="scalr_support.celery"):
        applied = project_celery._survive_broker_loss("5.8.0")

    assert applied is False
    assert kombu_redis.QoS.restore_unacked is original
    assert "kombu 5.8.0 is outside 5.7-5.8" in caplog.text


def test_release_numbers_are_read_from_version_strings():
    assert project_celery.kombu_release("5.7.0") == (5, 7)
    assert project_celery.kombu_release("5.8.0rc1") == (5, 8)
    assert project_celery.kombu_release("6.0") == (6, 0)
