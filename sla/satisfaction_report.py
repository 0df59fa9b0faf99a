"""Satisfaction beside SLA attainment in the manager's report: rows and chart."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.utils.translation import gettext

from tickets.satisfaction import SatisfactionSummary, satisfaction_total

from . import charts
from .selectors import AttainmentRow


def satisfaction_report_context(
    rows: Sequence[AttainmentRow],
    ratings: dict[tuple[str, int], SatisfactionSummary],
    first: date,
    last: date,
) -> dict[str, Any]:
    """Each attainment row's ratings, the period's total, and a good/bad chart.

    The chart reuses the attainment chart's geometry (share good, then bad, with
    the percentage and counts as text), so it reads without colour.
    """
    empty = SatisfactionSummary(good=0, bad=0)
    return {
        "rated_rows": [
            (row, ratings.get((row.tier, row.priority), empty)) for row in rows
        ],
        "satisfaction": satisfaction_total(ratings),
        "satisfaction_chart": charts.attainment_chart(
            [
                charts.ChartRow(label=f"{tier} P{priority}", met=s.good, missed=s.bad)
                for (tier, priority), s in ratings.items()
            ],
            title=gettext("Share of good ratings, %(start)s to %(end)s")
            % {"start": first.isoformat(), "end": last.isoformat()},
        ),
    }
