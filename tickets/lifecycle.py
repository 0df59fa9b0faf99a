"""The support lifecycle: which Scalr versions are supported, computed from releases.

The policy: "Scalr will provide comprehensive support services for the current
major release version of Scalr, and the preceding major release version for up to
12 months following the date of the most current major release version."

Read as (CONTRACT.md): the current major is the highest major already released;
a major's release date is the date of its first release; the previous major is
supported up to and including the day 12 months after the current major's release
date. The arithmetic is pure; the releases are read once and cached.
"""

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scalr_support.common.soft_cache import cache_delete, cache_get, cache_set

from .models import Release, Ticket

SUPPORT_MONTHS = 12
UPGRADE_ADVICE = _(
    "In order to realize the full benefit of the Software, Scalr encourages all "
    "customers to regularly update their deployments to the latest version of the "
    "Software. Scalr will provide comprehensive support services for the current "
    "major release version of Scalr, and the preceding major release version for up "
    "to 12 months following the date of the most current major release version."
)

_MAJOR = re.compile(r"^\s*[vV]?(\d{1,6})(?:[.\s_-]|$)")

CURRENT = "current"
PREVIOUS = "previous"
UNSUPPORTED = "unsupported"


def major_of(version: str) -> int | None:
    """The major release number a version string starts with ('9.4.1' -> 9)."""
    match = _MAJOR.match(version or "")
    return int(match.group(1)) if match else None


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day if it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class ReleaseRow:
    version: str
    major: int
    released_on: date


@dataclass(frozen=True)
class MajorLifecycle:
    """One major release line and where it stands today."""

    major: int
    released_on: date
    latest_version: str
    status: str  # CURRENT, PREVIOUS or UNSUPPORTED
    supported_until: date | None  # the last supported day; None: no end known

    @property
    def supported(self) -> bool:
        return self.status in (CURRENT, PREVIOUS)


def _first_releases(releases: Iterable[ReleaseRow]) -> dict[int, date]:
    first: dict[int, date] = {}
    for row in releases:
        first[row.major] = min(first.get(row.major, row.released_on), row.released_on)
    return first


def support_ends(releases: Iterable[ReleaseRow]) -> dict[int, date | None]:
    """The last supported day of every recorded major (None: no successor yet).

    A major is supported until 12 months after its successor's first release, and
    never beyond the day before the major after that is released. Independent of
    today, so it can be stored: ``today > end`` is "unsupported" at any later date.
    """
    first = _first_releases(releases)
    majors = sorted(first, reverse=True)
    ends: dict[int, date | None] = {}
    for index, major in enumerate(majors):
        end: date | None = None
        if index > 0:
            end = add_months(first[majors[index - 1]], SUPPORT_MONTHS)
            if index > 1:
                end = min(end, first[majors[index - 2]] - timedelta(days=1))
        ends[major] = end
    return ends


def lifecycle(releases: Iterable[ReleaseRow], today: date) -> list[MajorLifecycle]:
    """Every released major, newest first, with its support status on ``today``."""
    rows = list(releases)
    ends = support_ends(rows)
    first = _first_releases(rows)
    latest: dict[int, ReleaseRow] = {}
    for row in rows:
        if row.released_on > today:
            continue
        best = latest.get(row.major)
        if best is None or (row.released_on, row.version) > (
            best.released_on,
            best.version,
        ):
            latest[row.major] = row
    released = sorted((major for major in first if first[major] <= today), reverse=True)
    table = []
    for major in released:
        until = ends[major]
        if major == released[0]:
            status = CURRENT
        elif until is None or today <= until:
            status = PREVIOUS
        else:
            status = UNSUPPORTED
        table.append(
            MajorLifecycle(
                major=major,
                released_on=first[major],
                latest_version=latest[major].version,
                status=status,
                supported_until=until,
            )
        )
    return table


def support_end_for(version: str, releases: Iterable[ReleaseRow]) -> date | None:
    """The last supported day of the version's major (None: current or unknown).

    A major older than every recorded one ends no later than the oldest recorded
    major does, nor later than 12 months after that major's release.
    """
    major = major_of(version)
    if major is None:
        return None
    rows = list(releases)
    ends = support_ends(rows)
    if major in ends:
        return ends[major]
    if not ends or major > min(ends):
        return None
    oldest = min(ends)
    bound = add_months(_first_releases(rows)[oldest], SUPPORT_MONTHS)
    oldest_end = ends[oldest]
    return bound if oldest_end is None else min(bound, oldest_end)


def is_unsupported(ends_on: date | None, today: date) -> bool:
    return ends_on is not None and today > ends_on


@dataclass(frozen=True)
class VersionSupport:
    """Whether one reported version is supported (None: not known to the lifecycle)."""

    version: str
    major: int | None
    supported: bool | None
    ends_on: date | None = None


def version_support(
    version: str, releases: Iterable[ReleaseRow], today: date
) -> VersionSupport:
    rows = list(releases)
    major = major_of(version)
    known = major is not None and (
        major in _first_releases(rows) or support_end_for(version, rows) is not None
    )
    if not known:
        return VersionSupport(version=version, major=major, supported=None)
    ends_on = support_end_for(version, rows)
    return VersionSupport(
        version=version,
        major=major,
        supported=not is_unsupported(ends_on, today),
        ends_on=ends_on,
    )


# --- reads --------------------------------------------------------------------------

_CACHE_KEY = "tickets:releases:v1"
_CACHE_SECONDS = 300


def release_rows() -> list[ReleaseRow]:
    """Every recorded release (one query, then cached until a release changes)."""
    rows = cache_get(_CACHE_KEY)
    if rows is None:
        rows = [
            ReleaseRow(version=version, major=major, released_on=released_on)
            for version, major, released_on in Release.objects.values_list(
                "version", "major", "released_on"
            )
        ]
        cache_set(_CACHE_KEY, rows, _CACHE_SECONDS)
    return rows


def lifecycle_table(today: date | None = None) -> list[MajorLifecycle]:
    """The lifecycle today (UTC), from the releases."""
    return lifecycle(release_rows(), today or timezone.now().date())


def version_support_today(version: str) -> VersionSupport:
    return version_support(version, release_rows(), timezone.now().date())


def version_support_ends_on(version: str) -> date | None:
    """What a new ticket reporting ``version`` stores (see Ticket)."""
    return support_end_for(version, release_rows())


# --- writes -------------------------------------------------------------------------


def tickets_version_support_refresh() -> int:
    """Recompute every ticket's ``version_support_ends_on`` from the releases.

    Runs in the caller's transaction when releases change; one UPDATE per distinct
    end date. Returns how many tickets changed.
    """
    rows = [
        ReleaseRow(version=version, major=major, released_on=released_on)
        for version, major, released_on in Release.objects.values_list(
            "version", "major", "released_on"
        )
    ]
    by_end: dict[date | None, list[str]] = {}
    for version in (
        Ticket.objects.order_by().values_list("version_reported", flat=True).distinct()
    ):
        by_end.setdefault(support_end_for(version, rows), []).append(version)
    changed = 0
    # updated_at too: the workspace queue's cached rows show the version's flag
    # and are valid only while their ticket's updated_at is the one they read.
    now = timezone.now()
    for end, versions in by_end.items():
        changed += (
            Ticket.objects.filter(version_reported__in=versions)
            .exclude(version_support_ends_on=end)
            .update(version_support_ends_on=end, updated_at=now)
        )
    return changed


def release_save(*, release: Release) -> Release:
    """Record (or correct) a release and re-date the tickets' version support."""
    release.version = release.version.strip()
    release.full_clean()
    with transaction.atomic():
        if release.pk is None:
            release.save()
        else:
            release.save(update_fields=["version", "major", "released_on"])
        tickets_version_support_refresh()
        transaction.on_commit(lambda: cache_delete(_CACHE_KEY))
    return release


def release_delete(*, release: Release) -> None:
    with transaction.atomic():
        release.delete()
        tickets_version_support_refresh()
        transaction.on_commit(lambda: cache_delete(_CACHE_KEY))
