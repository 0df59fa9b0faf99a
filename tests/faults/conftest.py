"""Fixtures of the fault suite: a private cluster per session, a private rig per test.

The session's PostgreSQL cluster is created with ``initdb`` and migrated once into
a template database; each test gets a fresh copy of it (``CREATE DATABASE ...
TEMPLATE``, a fraction of a second), its own Redis, its own mail and Slack stubs and
whichever product processes it starts. Nothing here connects to the machine's own
PostgreSQL or Redis, and nothing is killed but the processes started here.

These tests do not use pytest-django's database: the product runs in other
processes, and the test reads the private database through the driver.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .processes import REPO, PostgresCluster, RedisServer, Rig, free_port
from .stubs import MailStub, SlackStub

TEMPLATE = "faults_template"
SECRET_KEY = "faults-rig-secret-key-not-for-production-6b1d0c9e7a2f4e8d"
WEBHOOK_SECRET = "faults:webhook-pass"
_databases = itertools.count(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here is a fault test, slow, and runs on one xdist worker."""
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.faults)
            item.add_marker(pytest.mark.slow)
            if item.config.pluginmanager.hasplugin("xdist"):
                item.add_marker(pytest.mark.xdist_group("faults"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _base_env() -> dict[str, str]:
    keep = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "PYTEST_", "EMAIL_", "SLACK_")
        )
    }
    keep.update(
        DJANGO_SETTINGS_MODULE="tests.faults.settings",
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",
        SECRET_KEY=SECRET_KEY,
        ANYMAIL_WEBHOOK_SECRET=WEBHOOK_SECRET,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="INFO",
        DATABASE_CONNECT_TIMEOUT="2",
    )
    return keep


@pytest.fixture(scope="session")
def cluster() -> Iterator[PostgresCluster]:
    """A private PostgreSQL cluster with the schema migrated into a template."""
    pg = PostgresCluster()
    try:
        pg.init()
        pg.start()
        pg.admin(f"CREATE DATABASE {TEMPLATE}")
        env = _base_env()
        env.update(
            DATABASE_URL=pg.url(TEMPLATE),
            # Production settings want a real broker and mail service; migrate
            # talks to neither.
            CELERY_BROKER_URL="redis://127.0.0.1:1/0",
            REDIS_URL="redis://127.0.0.1:1/0",
            EMAIL_URL="smtp://127.0.0.1:1",
        )
        result = subprocess.run(
            [sys.executable, str(REPO / "manage.py"), "migrate", "--noinput", "-v0"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"migrate failed:\n{result.stdout}\n{result.stderr}")
        yield pg
    finally:
        pg.destroy()


@pytest.fixture
def mail_stub() -> Iterator[MailStub]:
    stub = MailStub()
    stub.up()
    yield stub
    stub.down()


@pytest.fixture
def slack_stub() -> Iterator[SlackStub]:
    stub = SlackStub()
    stub.up()
    yield stub
    stub.down()


@pytest.fixture
def rig(
    request: pytest.FixtureRequest,
    cluster: PostgresCluster,
    mail_stub: MailStub,
    slack_stub: SlackStub,
) -> Iterator[Rig]:
    """A fresh database, Redis and stubs; the test starts the processes it needs."""
    database = f"faults_{os.getpid()}_{next(_databases)}"
    cluster.admin(f"CREATE DATABASE {database} TEMPLATE {TEMPLATE}")
    root = Path(tempfile.mkdtemp(prefix="scalr-faults-"))
    (root / "media").mkdir()
    (root / "state").mkdir()
    redis = RedisServer(root)
    redis.start()
    web_port, smtp_port = free_port(), free_port()
    env = _base_env()
    env.update(
        DATABASE_URL=cluster.url(database),
        REDIS_URL=redis.url,
        CELERY_BROKER_URL=redis.url,
        EMAIL_URL=f"smtp://127.0.0.1:{mail_stub.port}",
        SLACK_WEBHOOK_URL=slack_stub.url,
        SITE_URL=f"http://127.0.0.1:{web_port}",
        MEDIA_ROOT=str(root / "media"),
        FAULTS_STATE_DIR=str(root / "state"),
        FAULTS_WEB_PORT=str(web_port),
        FAULTS_SMTP_PORT=str(smtp_port),
    )
    rig = Rig(root, env, redis)
    rig.cluster = cluster  # type: ignore[attr-defined]
    rig.driver.start()
    try:
        yield rig
    finally:
        failed = any(
            getattr(getattr(request.node, f"rep_{when}", None), "failed", False)
            for when in ("setup", "call")
        )
        if failed:
            sys.stderr.write(f"\n=== rig logs ({root}) ===\n{rig.logs()}\n")
        rig.teardown()
        cluster.admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        if not failed and not os.environ.get("FAULTS_KEEP"):
            shutil.rmtree(root, ignore_errors=True)
