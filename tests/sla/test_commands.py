"""``manage.py sla_target TIER PRIORITY DURATION``."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sla.models import ResponseTarget
from tests.factories import tier
from tickets.choices import Priority

from .conftest import open_ticket, running

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("sla_target", *args, stdout=out)
    return out.getvalue()


def target(slug: str, priority: int) -> ResponseTarget:
    return ResponseTarget.objects.get(tier=tier(slug), priority=priority)


def test_sets_business_days_on_the_business_calendar():
    output = run("business", "3", "2bd")

    p3 = target("business", 3)
    assert (p3.amount, p3.unit, p3.clock, p3.guaranteed) == (2, "bd", "business", True)
    assert "Business P3: 2 business days" in output
    assert "was 1 business day" in output


def test_hours_keep_the_24x7_clock_and_running_clocks_follow(alice):
    ticket = open_ticket(alice, Priority.BLOCKER)

    output = run("Business", "0", "90m")

    p0 = target("business", 0)
    assert (p0.amount, p0.unit, p0.clock) == (90, "m", "24x7")
    clock = running(ticket)
    assert clock.due_at == clock.started_at + timedelta(minutes=90)
    assert "1 running clock(s) recomputed" in output


def test_free_tier_stays_best_effort():
    run("free", "4", "8h")

    p4 = target("free", 4)
    assert (p4.amount, p4.unit, p4.clock, p4.guaranteed) == (8, "h", "business", False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("gold", "0", "2h"), "No tier"),
        (("business", "7", "2h"), "0 to 4"),
        (("business", "0", "2 days"), "not a duration"),
        (("business", "0", "0h"), "zero"),
        (("business", "3", "1bd", "--clock", "24x7"), "business calendar"),
    ],
)
def test_bad_input_is_refused_with_a_reason(args, message):
    before = list(ResponseTarget.objects.values_list("amount", "unit"))

    with pytest.raises(CommandError, match=message):
        run(*args)

    assert list(ResponseTarget.objects.values_list("amount", "unit")) == before


def test_a_target_set_from_the_command_line_is_recorded_without_an_actor():
    from sla.models import SlaChangeEntry

    run("business", "3", "2bd")
    run("business", "3", "2bd")  # the same again changes nothing

    entry = SlaChangeEntry.objects.get(target=target("business", 3))
    assert entry.actor is None
    assert entry.changes == {"target": ["1 business day", "2 business days"]}
