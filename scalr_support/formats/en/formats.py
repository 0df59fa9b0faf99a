"""Date formats for English pages: every time says its zone (the viewer's).

Django's English default ("Dec. 3, 2026, 2:07 p.m.") leaves the zone out, so the
admin's columns and read-only fields read as if every time were local to anyone.
"""

DATETIME_FORMAT = "j M Y, H:i T"
SHORT_DATETIME_FORMAT = "j M Y, H:i T"
