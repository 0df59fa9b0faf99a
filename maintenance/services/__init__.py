"""Every write to maintenance schedules, windows and Slack announcements.

``schedule``: the schedule is materialised into concrete rows weeks ahead.
``windows``: ad-hoc windows and hand edits. ``announcements``: one Slack post per
(window, phase), at most once. ``reminders``: the day-before email. See
docs/maintenance.md.
"""

from .announcements import (
    END_GRACE,
    MAX_ATTEMPTS,
    MISSED_LOOKBACK,
    STALE_SENDING,
    announcement_retry,
    announcement_send,
    announcements_sweep,
)
from .reminders import (
    REMINDER_LEAD,
    contact_maintenance_reminders_set,
    reminder_event_key,
    reminders_enqueue,
)
from .schedule import (
    HORIZON,
    HORIZON_MARGIN,
    MaterialiseResult,
    ScheduleInput,
    schedule_input_clean,
    schedule_update,
    windows_materialise,
)
from .windows import (
    LONGEST_WINDOW,
    WindowChange,
    window_cancel,
    window_change,
    window_change_check,
    window_create,
    window_create_check,
    window_times_check,
)

__all__ = [
    "END_GRACE",
    "HORIZON",
    "HORIZON_MARGIN",
    "LONGEST_WINDOW",
    "MAX_ATTEMPTS",
    "MISSED_LOOKBACK",
    "REMINDER_LEAD",
    "STALE_SENDING",
    "MaterialiseResult",
    "ScheduleInput",
    "WindowChange",
    "announcement_retry",
    "announcement_send",
    "announcements_sweep",
    "contact_maintenance_reminders_set",
    "reminder_event_key",
    "reminders_enqueue",
    "schedule_input_clean",
    "schedule_update",
    "window_cancel",
    "window_change",
    "window_change_check",
    "window_create",
    "window_create_check",
    "window_times_check",
    "windows_materialise",
]
