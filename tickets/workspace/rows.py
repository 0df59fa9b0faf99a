"""The queue's rows as HTML, written in Python for speed.

Fifty rows through the template engine cost more than everything else on the
queue page together (tags, filters and an include per row); the same markup
from f-strings of escaped values costs a small fraction. Every value from the
database goes through ``html.escape`` (what Django's ``escape`` calls).
"""

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from html import escape
from typing import NamedTuple, cast
from urllib.parse import quote

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from scalr_support.common.language_memo import LanguageMemo
from tickets import sla_state as sla_rules

from ..admin_policy import _flags as policy_flags
from ..choices import Priority, Status
from ..models import Ticket
from .queues import LiveRow, QueueRow

DUE_ATTRIBUTES = 4096  # due times' attributes kept per process (_due_attributes)
BADGES = 4096  # countdown badges kept per process (_countdown_badge)
# What strftime's %a and %b write in the C locale (Python never sets LC_TIME).
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_NAMES = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip


def absolute_time(value: datetime, zone: tzinfo | None = None) -> str:
    """'Thu 3 Dec 2026, 14:05 EST' in ``zone`` (default: the active zone).

    Written from the fields rather than with ``strftime`` (``%a %b %Y, %H:%M``):
    the queue writes some fifty a page, and ``strftime`` cost most of its badges.
    """
    local = value.astimezone(zone or timezone.get_current_timezone())
    return (
        f"{DAY_NAMES[local.weekday()]} {local.day} {MONTH_NAMES[local.month - 1]}"
        f" {local.year}, {local.hour:02d}:{local.minute:02d} {local.tzname()}"
    )


def duration_text(value: timedelta) -> str:
    """'2d 4h', '3h 5m', '12m': what the countdown shows (and the page's JS too)."""
    minutes = int(abs(value.total_seconds()) // 60)
    days, hours, mins = minutes // 1440, (minutes % 1440) // 60, minutes % 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins}m"
    return f"{mins}m"


class _SlaLabels(NamedTuple):
    """The badge's texts in a language: the escaped labels and titles, and the
    countdown's formats (escaped once formatted)."""

    met: str
    breached: str
    best_effort: str
    late: str
    left: str
    soft_title: str
    due_title: str


def _sla_labels() -> _SlaLabels:
    return _SlaLabels(
        met=escape(_("met")),
        breached=escape(_("breached")),
        best_effort=escape(_("best effort")),
        late=_("%(t)s late"),
        left=_("%(t)s left"),
        soft_title=escape(_("Soft target")),
        due_title=escape(_("Due")),
    )


# The badge's texts, looked up once per process and language (seven
# translations and escapes a page otherwise).
_SLA_LABELS: LanguageMemo[_SlaLabels] = LanguageMemo()


def sla_cell_renderer(
    now: datetime, zone: tzinfo
) -> Callable[[str | None, datetime | None, bool], str]:
    """A function that writes the SLA badge, with the language's labels.

    The badge is a live countdown with the absolute due time on hover; labels and
    the due time's text are escaped (they are translations and our own format).
    """
    texts = _SLA_LABELS.get("sla", _sla_labels)
    labels = {sla_rules.MET: texts.met, sla_rules.BREACHED: texts.breached}
    none = escape("—")
    # The badge's opening tag per state (our own slugs, escaped once a page).
    opening: dict[str, str] = {}

    def cell(state: str | None, due: datetime | None, best_effort: bool) -> str:
        if state is None:
            return none
        tag = opening.get(state)
        if tag is None:
            tag = opening[state] = f'<span class="sla-state sla-{escape(state)}"'
        if state == sla_rules.MET or due is None:
            label = labels.get(state, texts.best_effort)
            return f"{tag}>{label}</span>"
        remaining = due - now
        overdue = state == sla_rules.BREACHED or remaining < timedelta(0)
        minutes = int(abs(remaining.total_seconds()) // 60)
        return _countdown_badge(
            tag, due, due.tzinfo, overdue, minutes, best_effort, zone, texts
        )

    return cell


@functools.lru_cache(maxsize=BADGES)
def _countdown_badge(
    tag: str,
    due: datetime,
    due_zone: tzinfo | None,
    overdue: bool,
    minutes: int,
    best_effort: bool,
    zone: tzinfo,
    texts: _SlaLabels,
) -> str:
    """A countdown badge: ``tag`` (its escaped opening) with the due time's
    attributes and the text of ``minutes`` late or left.

    Kept per process, a function of its arguments only (the badge's texts in
    the language are one of them): a page writes fifty, and within a minute the
    next request writes most of them again. The countdown is still that of the
    request's time, which ``minutes`` and ``overdue`` come from. ``due_zone`` is
    ``due``'s own tzinfo: datetimes of one instant compare equal whatever their
    zone, and with it the key decides the ISO text written (without formatting
    it on every call, which cost as much as the rest of the badge).
    """
    text = (texts.late if overdue else texts.left) % {
        "t": duration_text(timedelta(minutes=minutes))
    }
    title = texts.soft_title if best_effort else texts.due_title
    return (
        f"{tag}{_due_attributes(due.isoformat(), zone, title)}>"
        f"<span data-ws-countdown>{escape(text)}</span></span>"
    )


@functools.lru_cache(maxsize=DUE_ATTRIBUTES)
def _due_attributes(due: str, zone: tzinfo, title: str) -> str:
    """A badge's due time attributes (``due`` in ISO format, ``title`` the
    escaped label): what of the badge does not change with the time.

    Kept per process, a function of its arguments only: a page writes fifty, and
    most of its due times are on the page again on the next request.
    """
    # isoformat() and absolute_time() write no character that escape changes.
    shown = escape(absolute_time(datetime.fromisoformat(due), zone))
    return f' data-ws-due="{due}" title="{title} {shown}"'


def _flags_html(ticket: QueueRow) -> str:
    """The escaped policy-flag badges after a row's subject."""
    # _flags reads only the category, version and scope, which rows carry.
    return "".join(
        f' <span class="ws-flag policy-flag-{escape(slug)}">{escape(label)}</span>'
        for slug, label in policy_flags(cast(Ticket, ticket))
    )


class RowParts(NamedTuple):
    """A row's HTML around what each request adds: ``head + suffix + link +
    suffix + middle + badge + tail``, where the suffix is the escaped view the
    row's link carries (``?view=…``) and the badge is the live SLA cell.

    What is here depends on the ticket's own columns, its organisation's and
    tier's names, its assignee's name, its last customer update, the time zone,
    the language and the day (the version flag); never on the viewer otherwise,
    nor on the current time, so it can be cached and shared (``queue_page``).
    """

    head: str
    link: str
    middle: str
    tail: str


def row_parts_renderer(zone: tzinfo) -> Callable[[QueueRow], RowParts]:
    """A function that writes a row's ``RowParts``, labels looked up once.

    Every value goes through ``html.escape`` (what Django's ``escape`` calls)
    into an f-string: ``format_html`` per cell (a lazy-aware escape per argument)
    cost most of the page's rendering. The flags are built escaped.
    """
    change = reverse("admin:tickets_ticket_change", args=[0])
    # Labels once per page: get_FOO_display() rebuilds its choices on every call.
    priorities = {value: escape(str(label)) for value, label in Priority.choices}
    statuses = {value: escape(str(label)) for value, label in Status.choices}
    select = _("Select #%(n)d")
    unassigned = f'<span class="quiet">{escape(_("Unassigned"))}</span>'

    def parts(ticket: QueueRow) -> RowParts:
        pk = int(ticket.pk)
        href = escape(change.replace("/0/", f"/{pk}/"))
        tier_name, tier_slug = escape(ticket.tier_name), escape(ticket.tier_slug)
        org_name = escape(ticket.organization_name)
        subject = escape(ticket.subject)
        flags = _flags_html(ticket)
        assignee = (
            escape(ticket.assignee_name)
            if ticket.assignee_id is not None
            else unassigned
        )
        updated = ticket.last_customer_at.astimezone(zone)
        short = escape(f"{updated:%d %b, %H:%M}".lstrip("0"))
        status = escape(ticket.status)
        priority = int(ticket.priority)
        label = escape(select % {"n": ticket.number})
        return RowParts(
            f'<tr data-ws-row data-id="{pk}" data-href="{href}',
            f'"><td><input type="checkbox" name="tickets" value="{pk}"'
            f' aria-label="{label}"></td>'
            f'<td class="ws-num">{escape(str(ticket.number))}</td>'
            f'<td class="ws-subject"><a href="{href}',
            f'" title="{subject}">{subject}</a>'
            f"{flags}</td>"
            f'<td class="ws-org" title="{org_name} · {tier_name}">'
            f'<div class="ws-org-cell"><span class="ws-org-name">{org_name}</span> '
            f'<span class="ws-tier ws-tier-{tier_slug}">{tier_name}</span></div></td>'
            f'<td><span class="priority priority-{priority}">'
            f"{priorities[priority]}</span></td>"
            f'<td class="ws-sla">',
            f"</td>"
            f'<td class="ws-status"><span class="ws-status-{status}">'
            f"{statuses[ticket.status]}</span></td>"
            f'<td class="ws-assignee">{assignee}</td>'
            f'<td class="ws-updated" title="{escape(absolute_time(updated, zone))}">'
            f"{short}</td></tr>",
        )

    return parts


def rows_html(
    rows: Iterable[LiveRow],
    parts: Mapping[int, Sequence[str]],
    *,
    now: datetime,
    zone: tzinfo,
    view: str,
) -> SafeString:
    """The ``<tr>`` of each ticket: its ``RowParts`` joined with the link's view
    suffix and the SLA badge, which counts down from ``now`` (never cached).
    """
    suffix = escape(f"?view={quote(view)}") if view else ""
    sla_cell = sla_cell_renderer(now, zone)
    state = sla_rules.sla_state
    html = []
    for row in rows:
        row_parts = parts.get(row.pk)
        if row_parts is None:
            continue  # deleted since the page was read
        head, link, middle, tail = row_parts
        due = row.sla_due_at
        badge = sla_cell(
            state(
                now=now,
                has_clock=row.has_clock,
                best_effort=row.sla_best_effort,
                breached=row.sla_breached,
                due_at=due,
                at_risk_at=row.sla_at_risk_at,
            ),
            due,
            row.sla_best_effort,
        )
        html.append(f"{head}{suffix}{link}{suffix}{middle}{badge}{tail}")
    # The parts, the suffix and the badge are all escaped or built from escaped parts.
    return SafeString("\n".join(html))
