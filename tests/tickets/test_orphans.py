"""The orphan sweeper: stored files no row names go after a day; named ones stay."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.factories import TicketFactory
from tickets import services
from tickets.models import Attachment
from tickets.tasks import attachment_orphans_sweep

pytestmark = pytest.mark.django_db

DAY = 24 * 60 * 60


def _age(name: str, seconds: float) -> None:
    path = Path(settings.MEDIA_ROOT) / name
    moment = timezone.now().timestamp() - seconds
    os.utime(path, (moment, moment))


def _stray(name: str, *, age: float) -> str:
    stored = default_storage.save(name, SimpleUploadedFile("x", b"stray"))
    _age(stored, age)
    return stored


@pytest.fixture
def attachment(alice) -> Attachment:
    ticket = TicketFactory(organization=alice.organization, requester=alice.user)
    [added] = services.attachment_add(
        ticket=ticket,
        uploader=alice.user,
        files=[SimpleUploadedFile("trace.log", b"referenced")],
    )
    return added


def test_day_old_unreferenced_files_are_deleted_referenced_and_recent_ones_kept(
    attachment,
):
    _age(attachment.file.name, 30 * DAY)  # old, but a row names it
    orphan = _stray("attachments/ab/orphan.log", age=DAY + 60)
    recent = _stray("attachments/cd/recent.log", age=DAY - 60)  # its row may be coming

    assert services.attachment_orphans_sweep() == 1

    assert not default_storage.exists(orphan)
    assert default_storage.exists(recent)
    assert default_storage.exists(attachment.file.name)
    assert attachment.file.read() == b"referenced"


def test_the_sweep_delivered_twice_deletes_once(attachment):
    _stray("attachments/ef/orphan.log", age=2 * DAY)

    assert attachment_orphans_sweep.apply().get() == 1
    assert attachment_orphans_sweep.apply().get() == 0
    assert default_storage.exists(attachment.file.name)


def test_a_file_becomes_an_orphan_only_a_day_after_it_was_written(attachment):
    orphan = _stray("attachments/01/late.log", age=60)

    assert services.attachment_orphans_sweep() == 0
    later = timezone.now() + timedelta(days=1, minutes=2)
    assert services.attachment_orphans_sweep(now=later) == 1
    assert not default_storage.exists(orphan)
    assert default_storage.exists(attachment.file.name)


def test_nothing_stored_yet_is_nothing_to_do(db):
    assert services.attachment_orphans_sweep() == 0
