"""The SLA rules on top of the calculator: targets, at-risk times, states, parsing."""

from datetime import UTC, date, datetime, time, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla import calculations, rules
from sla.calculations import BusinessCalendar, WorkingInterval
from sla.charts import ChartRow, attainment_chart
from sla.selectors import format_duration, percentile

DEFAULT = BusinessCalendar.default()
US = BusinessCalendar(
    "America/New_York",
    tuple(WorkingInterval(day, time(9), time(17)) for day in range(5)),
    holidays.country_holidays("US"),
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def spec(amount: int, unit: str, clock: str = "24x7", guaranteed: bool = True):
    return rules.TargetSpec(amount, unit, clock, guaranteed)


@pytest.mark.parametrize(
    ("target", "start", "due", "at_risk"),
    [
        # Business P0-P2: 24x7, at risk with 25% (or 30 minutes) left.
        (spec(2, "h"), utc(2026, 3, 6, 23), utc(2026, 3, 7, 1), utc(2026, 3, 7, 0, 30)),
        (spec(4, "h"), utc(2026, 3, 6, 23), utc(2026, 3, 7, 3), utc(2026, 3, 7, 2)),
        (spec(12, "h"), utc(2026, 3, 6, 12), utc(2026, 3, 7, 0), utc(2026, 3, 6, 21)),
        # Under 30 minutes left beats 25% for short targets.
        (
            spec(1, "h"),
            utc(2026, 3, 2, 10),
            utc(2026, 3, 2, 11),
            utc(2026, 3, 2, 10, 30),
        ),
        # A target of 30 minutes or less is at risk from its start.
        (
            spec(20, "m"),
            utc(2026, 3, 2, 10),
            utc(2026, 3, 2, 10, 20),
            utc(2026, 3, 2, 10),
        ),
        # P3 1 business day from Friday 16:00: 1h on Friday, 7h on Monday; at risk
        # after 6 business hours (2h = 25% of 8h left).
        (
            spec(1, "bd", "business"),
            utc(2026, 3, 6, 16),
            utc(2026, 3, 9, 16),
            utc(2026, 3, 9, 14),
        ),
        # P4 2 business days from Monday 09:00.
        (
            spec(2, "bd", "business"),
            utc(2026, 3, 2, 9),
            utc(2026, 3, 3, 17),
            utc(2026, 3, 3, 13),
        ),
        # Business-hours minutes: 4 business hours from Friday 15:00.
        (
            spec(4, "h", "business"),
            utc(2026, 3, 6, 15),
            utc(2026, 3, 9, 11),
            utc(2026, 3, 9, 10),
        ),
    ],
)
def test_deadline_table(target, start, due, at_risk):
    deadline = rules.deadline(start, target, DEFAULT)

    assert deadline.due_at == due
    assert deadline.at_risk_at == at_risk


def test_best_effort_is_the_end_of_the_business_day_and_never_at_risk():
    free = spec(1, "eod", "business", guaranteed=False)

    during = rules.deadline(utc(2026, 3, 2, 10), free, DEFAULT)
    after_hours = rules.deadline(utc(2026, 3, 6, 18), free, DEFAULT)

    assert during == rules.Deadline(utc(2026, 3, 2, 17), None)
    assert after_hours == rules.Deadline(utc(2026, 3, 9, 17), None)


def test_guaranteed_end_of_day_target_is_at_risk_in_its_last_quarter():
    deadline = rules.deadline(utc(2026, 3, 2, 9), spec(1, "eod", "business"), DEFAULT)

    assert deadline == rules.Deadline(utc(2026, 3, 2, 17), utc(2026, 3, 2, 15))


def test_one_business_day_across_a_us_holiday_weekend():
    # Friday 2026-07-03 is Independence Day (observed); 14:00 New York is closed.
    start = datetime(2026, 7, 2, 14, tzinfo=US.zone)
    deadline = rules.deadline(start, spec(1, "bd", "business"), US)

    assert deadline.due_at == datetime(2026, 7, 6, 14, tzinfo=US.zone)
    assert rules.closed_dates_between(start, deadline.due_at, US) == [date(2026, 7, 3)]
    # Thursday 14-17 and Monday 9-14 are the 8 working hours; the rest is skipped.
    assert rules.skipped_time(
        start, deadline.due_at, spec(1, "bd", "business"), US
    ) == timedelta(days=4) - timedelta(hours=8)


def test_a_24x7_target_skips_nothing():
    start = utc(2026, 3, 6, 23)
    assert rules.skipped_time(start, start + timedelta(hours=2), spec(2, "h"), US) == (
        timedelta(0)
    )


NOW = utc(2026, 3, 2, 12)


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        ({"has_clock": False}, None),
        ({"best_effort": True, "due_at": NOW - timedelta(hours=1)}, rules.BEST_EFFORT),
        ({"due_at": NOW + timedelta(hours=2)}, rules.ON_TRACK),
        (
            {
                "due_at": NOW + timedelta(minutes=20),
                "at_risk_at": NOW - timedelta(minutes=10),
            },
            rules.AT_RISK,
        ),
        ({"due_at": NOW, "at_risk_at": NOW - timedelta(minutes=30)}, rules.BREACHED),
        ({"due_at": NOW + timedelta(hours=5), "breached": True}, rules.BREACHED),
        ({}, rules.MET),
        ({"breached": True}, rules.BREACHED),
    ],
)
def test_sla_state_table(fields, state):
    values = {
        "now": NOW,
        "has_clock": True,
        "best_effort": False,
        "breached": False,
        "due_at": None,
        "at_risk_at": None,
        **fields,
    }
    assert rules.sla_state(**values) == state


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("2h", (2, "h")),
        ("30m", (30, "m")),
        ("1bd", (1, "bd")),
        (" 12 H ", (12, "h")),
        ("eod", (1, "eod")),
    ],
)
def test_parse_duration(text, parsed):
    assert rules.parse_duration(text) == parsed


@pytest.mark.parametrize("text", ["", "2", "h", "0h", "1.5h", "2d", "-1h", "2 hours"])
def test_parse_duration_refuses_anything_else(text):
    with pytest.raises(ValueError, match=r"duration|zero"):
        rules.parse_duration(text)


def test_target_spec_refuses_unknown_units():
    with pytest.raises(ValueError, match="unit"):
        rules.TargetSpec(1, "d", "24x7")


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([], 0.5, None),
        ([1], 0.95, 1),
        ([1, 2, 3, 4], 0.5, 2),
        (list(range(1, 101)), 0.95, 95),
        (list(range(1, 21)), 0.95, 19),
    ],
)
def test_percentile_is_nearest_rank(values, fraction, expected):
    minutes = [timedelta(minutes=v) for v in values]
    result = percentile(minutes, fraction)
    assert result == (None if expected is None else timedelta(minutes=expected))


def test_format_duration():
    assert format_duration(timedelta(days=2, hours=4, minutes=30)) == "2d 4h 30m"
    assert format_duration(timedelta(seconds=20)) == "0m"
    assert format_duration(None) == "—"


def test_chart_bars_are_proportional_and_sum_to_full_width():
    chart = attainment_chart(
        [ChartRow("Business P0", met=3, missed=1), ChartRow("Free P4", 0, 0)],
        title="t",
    )

    full, empty = chart.bars
    assert full.met_width == pytest.approx(315.0)
    assert full.met_width + full.missed_width == pytest.approx(420.0)
    assert full.value == "75.0% (3/4)"
    assert empty.met_width == empty.missed_width == 0
    assert chart.height > empty.y


@settings(max_examples=150, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - bounds; tz below
        max_value=datetime(2028, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    amount=st.integers(min_value=1, max_value=48),
    unit=st.sampled_from(["m", "h", "bd"]),
    clock=st.sampled_from(["24x7", "business"]),
)
def test_at_risk_lies_between_start_and_due_with_the_lead_left(
    start, amount, unit, clock
):
    target = spec(amount * (15 if unit == "m" else 1), unit, clock)
    calendar = US

    deadline = rules.deadline(start, target, calendar)

    assert start <= deadline.at_risk_at <= deadline.due_at
    length = rules.target_for(target, calendar).amount
    lead = min(length, max(length / 4, timedelta(minutes=30)))
    if target.uses_calendar:
        left = calculations.business_time_between(
            deadline.at_risk_at, deadline.due_at, calendar
        )
    else:
        left = deadline.due_at - deadline.at_risk_at
    assert left == lead
