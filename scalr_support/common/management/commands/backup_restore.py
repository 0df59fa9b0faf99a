"""``manage.py backup_restore ARCHIVE``: into a fresh database, then verified."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from scalr_support.common.backup import (
    BackupError,
    backup_restore,
    configured_database_url,
)


class Command(BaseCommand):
    help = (
        "Restore a backup_create archive into a fresh (empty or new) PostgreSQL "
        "database and media folder, then check the tickets, comments and "
        "attachments against the archive's checksums."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--database-url",
            default=None,
            help="the database to create and fill (default: the configured one, "
            "DATABASE_URL, which must then be empty)",
        )
        parser.add_argument(
            "--media-root",
            type=Path,
            default=None,
            help="where the files go (default: MEDIA_ROOT)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["database_url"] or configured_database_url()
        if not url.startswith(("postgres://", "postgresql://")):
            raise CommandError("Give a PostgreSQL --database-url to restore into.")
        media_root = options["media_root"] or Path(settings.MEDIA_ROOT)
        try:
            result = backup_restore(
                archive=options["archive"], database_url=url, media_root=media_root
            )
        except BackupError as error:
            raise CommandError(error.message) from error
        tables = ", ".join(
            f"{label} {data['rows']}" for label, data in result["tables"].items()
        )
        self.stdout.write(
            f"Restored and verified: {tables}; {result['files']} files, "
            f"{result['attachments']} attachments checked"
        )
