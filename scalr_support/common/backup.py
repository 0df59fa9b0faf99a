"""Backup and restore: the database and the attachment store in one archive.

``backup_create`` writes a ``.tar.gz`` holding ``database.dump`` (``pg_dump``,
custom format), ``media/`` (every stored file) and ``manifest.json`` (when, from
which schema, every file's SHA-256, and checksums of the tickets, comments and
attachments tables). ``backup_restore`` loads it into a fresh, empty database and
media folder and proves the restore: the same table checksums, and every
attachment row's file present with the recorded SHA-256.

The archive contains customer data: store it like the database itself.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from scalr_support.common.errors import ServiceError

FORMAT_VERSION = 1
MEDIA_FOLDERS = ("attachments",)  # what the product stores under MEDIA_ROOT
# The tables whose content must survive a restore unchanged. Each row's text form
# (every column), in primary-key order, hashed: equal checksums, equal rows.
CHECKED_TABLES = {
    "tickets": "tickets_ticket",
    "comments": "tickets_comment",
    "attachments": "tickets_attachment",
}


class BackupError(ServiceError):
    """The backup or the restore could not be made, or does not check out."""


@dataclass(frozen=True)
class Database:
    """What pg_dump and pg_restore need to know, from a ``postgres://`` URL."""

    url: str

    @property
    def name(self) -> str:
        return urlsplit(self.url).path.lstrip("/")

    def server_url(self, database: str = "postgres") -> str:
        return urlsplit(self.url)._replace(path=f"/{database}").geturl()


def _tool(name: str) -> str:
    """A PostgreSQL client program: on PATH, else the newest server install."""
    found = shutil.which(name)
    if found:
        return found
    installed = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if installed:
        return installed[-1]
    raise BackupError(f"{name} is not installed (PostgreSQL client programs).")


def _run(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed: {result.stderr.strip()}")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def table_checksums(cursor: Any) -> dict[str, dict[str, Any]]:
    """Row count and MD5 of every checked table's rows (a DB-API cursor)."""
    sums = {}
    for label, table in CHECKED_TABLES.items():
        cursor.execute(
            f"SELECT count(*), coalesce(md5(string_agg(t::text, E'\\n' "  # noqa: S608
            f"ORDER BY t.id)), '') FROM {table} t"
        )
        count, digest = cursor.fetchone()
        sums[label] = {"rows": count, "md5": digest}
    return sums


def attachment_files(cursor: Any) -> list[tuple[str, str]]:
    """(stored name, recorded SHA-256) of every attachment row."""
    cursor.execute("SELECT file, sha256 FROM tickets_attachment ORDER BY id")
    return [(name, sha) for name, sha in cursor.fetchall()]


def _media_files(media_root: Path) -> Iterable[Path]:
    for folder in MEDIA_FOLDERS:
        base = media_root / folder
        if base.is_dir():
            yield from sorted(p for p in base.rglob("*") if p.is_file())


def backup_create(
    *, database_url: str, media_root: Path, output: Path, cursor: Any
) -> dict[str, Any]:
    """Write the archive; return its manifest.

    ``pg_dump`` takes a consistent snapshot; the files are copied after it, so
    every attachment the dump knows is in the archive (a file written after the
    snapshot may be too: harmless, the orphan sweeper removes it after a restore).
    """
    database = Database(database_url)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="scalr-backup-") as work:
        dump = Path(work) / "database.dump"
        dump_command = [_tool("pg_dump"), "--format=custom", "--no-owner"]
        _run([*dump_command, f"--file={dump}", f"--dbname={database.url}"])
        manifest: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(),
            "database": database.name,
            "tables": table_checksums(cursor),
            "database_sha256": sha256_file(dump),
            "files": {},
        }
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(dump, arcname="database.dump")
            for path in _media_files(media_root):
                name = path.relative_to(media_root).as_posix()
                manifest["files"][name] = sha256_file(path)
                archive.add(path, arcname=f"media/{name}")
            payload = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
        partial.replace(output)
    return manifest


def _safe_member(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise BackupError(f"Refusing a path outside the archive: {name}")
    return path


def _database_is_empty(cursor: Any) -> bool:
    cursor.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
    )
    return cursor.fetchone()[0] == 0


def _archive_extract(archive: Path, work: str, media_root: Path) -> tuple[dict, Path]:
    """Check the archive against its manifest while writing its media files out.

    Returns the manifest and the extracted dump; nothing touches the database
    until every checksum in the archive has been confirmed.
    """
    with tarfile.open(archive, "r:gz") as tar:
        members = {str(_safe_member(m.name)): m for m in tar.getmembers()}
        if "manifest.json" not in members or "database.dump" not in members:
            raise BackupError("Not a backup archive: manifest or dump missing.")
        manifest = json.load(tar.extractfile(members["manifest.json"]))  # type: ignore[arg-type]
        if manifest.get("format") != FORMAT_VERSION:
            raise BackupError(f"Unknown archive format {manifest.get('format')}.")
        tar.extract(members["database.dump"], work, filter="data")
        dump = Path(work) / "database.dump"
        if sha256_file(dump) != manifest["database_sha256"]:
            raise BackupError("The database dump is damaged (checksum differs).")
        for name, expected in manifest["files"].items():
            member = members.get(f"media/{name}")
            if member is None:
                raise BackupError(f"File missing from the archive: {name}")
            target = media_root / _safe_member(name)
            content = tar.extractfile(member).read()  # type: ignore[union-attr]
            if hashlib.sha256(content).hexdigest() != expected:
                raise BackupError(f"File damaged in the archive: {name}")
            if target.exists() and sha256_file(target) != expected:
                raise BackupError(f"A different file is already at {target}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
    return manifest, dump


def _database_create_if_missing(database: Database) -> None:
    """Create the target database; CREATE DATABASE cannot run in a transaction."""
    import psycopg2
    from psycopg2 import sql

    admin = psycopg2.connect(database.server_url())
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [database.name]
            )
            if cursor.fetchone() is None:
                cursor.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database.name))
                )
    finally:
        admin.close()


def _dump_restore(
    database: Database, dump: Path
) -> tuple[dict[str, dict[str, Any]], list[tuple[str, str]]]:
    """Load the dump into an empty database; return its table checksums and files.

    Refuses a database that already holds tables, so a restore never merges
    into live data.
    """
    import psycopg2

    connection = psycopg2.connect(database.url)
    try:
        with connection.cursor() as cursor:
            if not _database_is_empty(cursor):
                raise BackupError(
                    f"Database {database.name} is not empty; restore into a fresh one."
                )
        restore = [_tool("pg_restore"), "--no-owner", "--no-privileges"]
        _run([*restore, "--exit-on-error", f"--dbname={database.url}", str(dump)])
        with connection.cursor() as cursor:
            return table_checksums(cursor), attachment_files(cursor)
    finally:
        connection.close()


def backup_restore(*, archive: Path, database_url: str, media_root: Path) -> dict:
    """Restore an archive into a fresh database and media folder, then verify it.

    The database is created if it does not exist and must be empty if it does;
    files already in the media folder are refused unless identical. Raises
    ``BackupError`` when anything differs from the manifest.
    """
    database = Database(database_url)
    with tempfile.TemporaryDirectory(prefix="scalr-restore-") as work:
        manifest, dump = _archive_extract(archive, work, media_root)
        _database_create_if_missing(database)
        restored, files = _dump_restore(database, dump)

    if restored != manifest["tables"]:
        raise BackupError(
            f"Restored tables differ from the backup: {restored} != "
            f"{manifest['tables']}"
        )
    for name, sha in files:
        path = media_root / _safe_member(name)
        if not path.is_file() or sha256_file(path) != sha:
            raise BackupError(f"Attachment file missing or different: {name}")
    return {
        "tables": restored,
        "files": len(manifest["files"]),
        "attachments": len(files),
    }


def configured_database_url() -> str:
    """The URL of Django's default database, rebuilt from its settings."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        return ""
    credentials = db.get("USER") or ""
    if db.get("PASSWORD"):
        credentials += f":{db['PASSWORD']}"
    host = db.get("HOST") or "localhost"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    at = "@" if credentials else ""
    return f"postgresql://{credentials}{at}{host}{port}/{db['NAME']}"


def default_archive_name(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"scalr-support-{stamp}.tar.gz"


__all__ = [
    "BackupError",
    "backup_create",
    "backup_restore",
    "configured_database_url",
    "default_archive_name",
    "table_checksums",
]
