"""Backup and restore drill: a small data set comes back identical."""

import hashlib
import io
import tarfile
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from scalr_support.common.backup import configured_database_url, table_checksums
from tests.factories import CommentFactory, TicketFactory
from tickets import services
from tickets.models import Attachment

pytestmark = pytest.mark.django_db(transaction=True)


def _small_data_set(alice, engineer) -> list[Attachment]:
    files = []
    for n in range(3):
        ticket = TicketFactory(organization=alice.organization, requester=alice.user)
        CommentFactory(ticket=ticket, author=engineer, body=f"Answer {n} with **bold**")
        CommentFactory(ticket=ticket, author=alice.user, body="Ünïcode réply ✓")
        files += services.attachment_add(
            ticket=ticket,
            uploader=alice.user,
            files=[SimpleUploadedFile(f"log-{n}.txt", f"line {n}\n".encode() * 500)],
        )
    return files


@pytest.fixture
def fresh_database_url():
    name = f"restore_drill_{uuid.uuid4().hex[:8]}"
    base = configured_database_url()
    url = base.rsplit("/", 1)[0] + f"/{name}"
    yield url
    admin = psycopg2.connect(base.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_restore_into_a_fresh_database_gives_identical_tickets_comments_and_files(
    alice, engineer, settings, tmp_path, fresh_database_url
):
    attachments = _small_data_set(alice, engineer)
    with connection.cursor() as cursor:
        before = table_checksums(cursor)
    archive = tmp_path / "backup.tar.gz"

    call_command("backup_create", output=archive)
    restored_media = tmp_path / "restored-media"
    call_command(
        "backup_restore",
        str(archive),
        database_url=fresh_database_url,
        media_root=restored_media,
    )

    restored = psycopg2.connect(fresh_database_url)
    with restored.cursor() as cursor:
        after = table_checksums(cursor)
    restored.close()
    assert after == before
    assert before["tickets"]["rows"] == 3
    assert before["comments"]["rows"] == 6
    assert before["attachments"]["rows"] == 3
    for attachment in attachments:
        original = Path(settings.MEDIA_ROOT) / attachment.file.name
        copy = restored_media / attachment.file.name
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == attachment.sha256
        assert copy.read_bytes() == original.read_bytes()


def test_restore_refuses_a_database_that_is_not_empty(alice, engineer, tmp_path):
    _small_data_set(alice, engineer)
    archive = tmp_path / "backup.tar.gz"
    call_command("backup_create", output=archive)

    with pytest.raises(CommandError, match="not empty"):
        call_command(
            "backup_restore",
            str(archive),
            database_url=configured_database_url(),
            media_root=tmp_path / "elsewhere",
        )


def test_a_damaged_archive_is_refused(alice, engineer, tmp_path, fresh_database_url):
    _small_data_set(alice, engineer)
    archive = tmp_path / "backup.tar.gz"
    call_command("backup_create", output=archive)
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name.startswith("media/"):
                data = data.replace(b"line", b"LINE")
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))

    with pytest.raises(CommandError, match="damaged"):
        call_command(
            "backup_restore",
            str(damaged),
            database_url=fresh_database_url,
            media_root=tmp_path / "restored",
        )
