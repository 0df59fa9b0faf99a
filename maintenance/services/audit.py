"""The audit trail of maintenance changes: who changed what, from what to what.

Every service that changes a window or the schedule on someone's behalf writes one
entry in its own transaction, so a change and its entry commit or roll back
together.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime, time

from django.db import models

from scalr_support.accounts.models import User

from ..models import MaintenanceSchedule, MaintenanceWindow, WindowAuditEntry


def _as_text(value: object) -> str | None:
    """A value as the audit shows it: ISO 8601 for times, text otherwise."""
    if value is None:
        return None
    if isinstance(value, datetime | time):
        return value.isoformat()
    return str(value)


def fields_of(row: models.Model, names: Iterable[str]) -> dict[str, object]:
    """The current values of ``names`` on ``row``, to compare after a change."""
    return {name: getattr(row, name) for name in names}


def changes_between(
    before: Mapping[str, object], after: Mapping[str, object]
) -> dict[str, list[str | None]]:
    """``{field: [old, new]}`` for each field whose value differs."""
    return {
        name: [_as_text(before.get(name)), _as_text(value)]
        for name, value in after.items()
        if before.get(name) != value
    }


def window_audit_record(
    *,
    action: str,
    actor: User | None,
    changes: dict[str, list[str | None]],
    window: MaintenanceWindow | None = None,
    schedule: MaintenanceSchedule | None = None,
) -> WindowAuditEntry:
    """Write one audit entry; call inside the change's transaction."""
    return WindowAuditEntry.objects.create(
        window=window, schedule=schedule, actor=actor, action=action, changes=changes
    )
