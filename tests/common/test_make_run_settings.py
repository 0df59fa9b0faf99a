"""The embedded default of `make run`: what its several processes share."""

import uuid

import pytest

from tests.processes import run_python

pytestmark = pytest.mark.slow

LOCAL = {"DJANGO_SETTINGS_MODULE": "scalr_support.settings.local"}


def test_the_processes_of_make_run_share_one_cache():
    """A write in one process (a worker bumping a page's version) reaches the others.

    With a per-process cache, two web workers served a reply that vanished and
    reappeared from one reload to the next.
    """
    key = f"probe-{uuid.uuid4().hex}"
    setup = "import django; django.setup(); from django.core.cache import cache; "
    drop = ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL")

    writer = run_python(setup + f"cache.set({key!r}, 'seen', 60)", LOCAL, drop=drop)
    reader = run_python(
        setup + f"print(cache.get({key!r})); cache.delete({key!r})", LOCAL, drop=drop
    )

    assert writer.returncode == 0, writer.stderr
    assert reader.stdout.strip() == "seen", reader.stderr


def test_links_point_at_the_port_make_run_serves():
    """With PORT=8300, mail and /maintenance.ics linked to port 8000."""
    result = run_python(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SITE_URL)",
        {**LOCAL, "PORT": "8300"},
        drop=("SITE_URL",),
    )

    assert result.stdout.strip() == "http://127.0.0.1:8300", result.stderr


def test_make_run_hands_its_port_to_every_process():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]

    assert "SITE_URL=$(SITE_URL)" in run
    assert "SITE_URL ?= http://127.0.0.1:$(PORT)" in makefile
