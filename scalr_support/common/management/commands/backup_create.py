"""``manage.py backup_create``: the database and the attachment store, one archive."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from scalr_support.common.backup import (
    BackupError,
    backup_create,
    configured_database_url,
    default_archive_name,
)


class Command(BaseCommand):
    help = (
        "Write pg_dump and every stored file into one .tar.gz with a manifest of "
        "checksums (restore it with backup_restore)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            help="archive path (default: var/backups/scalr-support-<time>.tar.gz)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("Backups need PostgreSQL (DATABASE_URL).")
        output = options["output"] or (
            Path(settings.BASE_DIR) / "var" / "backups" / default_archive_name()
        )
        url = configured_database_url()
        try:
            with connection.cursor() as cursor:
                manifest = backup_create(
                    database_url=url,
                    media_root=Path(settings.MEDIA_ROOT),
                    output=output,
                    cursor=cursor,
                )
        except BackupError as error:
            raise CommandError(error.message) from error
        tables = ", ".join(
            f"{label} {data['rows']}" for label, data in manifest["tables"].items()
        )
        self.stdout.write(f"Wrote {output} ({tables}; {len(manifest['files'])} files)")
