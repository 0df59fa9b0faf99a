"""The queue's select options as HTML, written in Python like its rows.

Eight selects of the filter and bulk bars loop over priorities, tiers, staff and
states in the template, a few tags per option; one function writing the
``<option>`` elements costs a fraction of that. Values and labels are escaped
with ``html.escape`` (what Django's ``escape`` calls).
"""

from collections.abc import Iterable
from html import escape

from django.utils.safestring import SafeString


def options_html(
    choices: Iterable[tuple[object, object]], selected: str = ""
) -> SafeString:
    """``<option>`` elements of (value, label) pairs; ``selected`` marks one value."""
    parts = []
    for value, label in choices:
        key = str(value)
        mark = " selected" if selected and key == selected else ""
        parts.append(
            f'<option value="{escape(key)}"{mark}>{escape(str(label))}</option>'
        )
    # Every value and label above is escaped.
    return SafeString("".join(parts))
