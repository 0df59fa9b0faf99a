"""SLA engine: due-time computations per second, and one sweep over a million tickets.

Run from the repository root (``make bench`` runs it through run_all.py)::

    python benchmarks/sla.py [--tickets 1000000] [--running 100000] [--due 100]

1. Due-time computations per second on one core: Monday-Friday 09:00-17:00 New York
   with US federal holidays, a 2-business-day target from Thursday 2 July 2026 that
   spans the Independence Day weekend. Target: at least 50,000/s. Also shown: the
   full clock deadline (due and at-risk time) and the same through the per-process
   calendar cache that the services use.
2. One sweep (``sla.services.sla_transitions_record``) in its own PostgreSQL
   database, ``scalr_support_bench_sla`` (or BENCH_SLA_DATABASE_URL), seeded with
   ``--tickets`` tickets, one response clock each: ``--running`` of them running,
   ``--due`` of those past a threshold (half at risk, half breached), the rest
   answered. The sweep records the transitions and sends the notification task on
   commit, exactly as in production; the recorded state is reset between rounds.
   Target: under 100 ms, with EXPLAIN showing index scans on the sweep's partial
   indexes. The notification task's time for the same transitions is shown too.

The exit status is non-zero when a target is missed or the plan is not an index
scan. Seeding is skipped when the database already holds the same data set.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time as clock
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from _common import command_line, manage, run_main

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/scalr_support_bench_sla"
COMPUTATIONS_TARGET = 50_000
SWEEP_TARGET_MS = 100.0
CALLS = 200_000
ROUNDS = 3
SWEEP_ROUNDS = 7
ORGANIZATIONS = 100
ENGINEERS = 6
MANAGERS = 2
EMAIL_DOMAIN = "bench-sla.example.com"
# Every seeded time is relative to this instant, so a re-run months later sweeps
# the same data set.
NOW = datetime(2030, 1, 7, 12, tzinfo=UTC)


# --- 1. due-time computations ------------------------------------------------------


def best_rate(call: Callable[[], object], calls: int, rounds: int) -> float:
    """Return the best calls-per-second over ``rounds`` timed loops of ``calls``."""
    best = float("inf")
    for _ in range(rounds):
        started = clock.perf_counter()
        for _ in range(calls):
            call()
        best = min(best, clock.perf_counter() - started)
    return calls / best


def measure_computations(calls: int, rounds: int) -> float:
    """Print due_at and deadline rates on a holiday calendar; return due_at's."""
    import holidays

    from sla import calculations, rules

    nine_to_five = tuple(
        calculations.WorkingInterval(day, time(9), time(17)) for day in range(5)
    )
    calendar = calculations.BusinessCalendar(
        "America/New_York", nine_to_five, holidays.country_holidays("US")
    )
    start = datetime(2026, 7, 2, 14, tzinfo=calendar.zone)
    target = calculations.Target.business_days(2, calendar)
    due = calculations.due_at(start, target, calendar)
    # Thursday 14:00 + 16 business hours, Friday 3 July closed: Tuesday 14:00.
    assert due == datetime(2026, 7, 7, 14, tzinfo=calendar.zone), due
    rate = best_rate(
        lambda: calculations.due_at(start, target, calendar), calls, rounds
    )
    print(
        "due_at, 2 business days across the July 4th weekend (US holidays): "
        f"{rate:,.0f} computations/s (target >= {COMPUTATIONS_TARGET:,})"
    )
    spec = rules.TargetSpec(2, "bd", "business")
    deadline_rate = best_rate(
        lambda: rules.deadline(start, spec, calendar), calls, rounds
    )
    print(
        "rules.deadline (due + at-risk time, what starting a clock computes): "
        f"{deadline_rate:,.0f}/s"
    )
    return rate


def measure_cached_calendar(calls: int, rounds: int) -> None:
    """Time the services' path: calendar from its row via the process cache."""
    from sla import calculations, calendars
    from sla.models import BusinessCalendar

    row = BusinessCalendar.objects.get(name="Bench New York")
    start = datetime(2026, 7, 2, 14, tzinfo=UTC)

    def compute() -> object:
        calendar = calendars.business_calendar(row)
        return calculations.due_at(
            start, calculations.Target.business_days(2, calendar), calendar
        )

    rate = best_rate(compute, calls, rounds)
    print(f"due_at through the cached calendar of a database row: {rate:,.0f}/s")


# --- 2. the sweep --------------------------------------------------------------------


def bench_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="scalr_support.settings.local",
        DATABASE_URL=database_url,
        CELERY_BROKER_URL="memory://",  # notifications are queued, never sent
        DEBUG="false",
    )
    return env


def ensure_database(database_url: str) -> None:
    """Create the benchmark database on its server if it does not exist."""
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    connection = psycopg2.connect(parts._replace(path="/postgres").geturl())
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
                )
                print(f"created database {name}")
    finally:
        connection.close()


def insert_select(model: Any, expressions: dict[str, str], count: int) -> None:
    """``INSERT INTO <table> SELECT <expressions> FROM generate_series(1, count) g``.

    Columns come from the model, so the real schema is used: fields without an
    expression get their Python default (or NULL), and a field with neither stops
    the seed with a clear message instead of guessing.
    """
    from django.db import connection

    quote = connection.ops.quote_name
    columns, values, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(quote(field.column))
        if field.name in expressions:
            values.append(expressions[field.name].replace("%", "%%"))
        elif field.null and not field.has_default():
            values.append("NULL")
        elif field.has_default() or field.get_default() is not None:
            # A declared default, or the empty string of a text field.
            values.append("%s")
            params.append(field.get_db_prep_value(field.get_default(), connection))
        else:
            raise RuntimeError(f"{model._meta.label}.{field.name} needs a value")
    # Identifiers come from the model, expressions from this script, values are
    # parameters: nothing here comes from outside.
    statement = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM generate_series(1, {int(count)}) AS g"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def seeded(tickets: int, running: int, due: int) -> bool:
    from sla.models import ResponseClock
    from tickets.models import Ticket

    return (
        Ticket.objects.count() == tickets
        and ResponseClock.objects.filter(responded_at__isnull=True).count() == running
        and ResponseClock.objects.filter(started_at=NOW - timedelta(minutes=100))
        .filter(responded_at__isnull=True)
        .count()
        == due // 2
    )


def seed(tickets: int, running: int, due: int) -> float:
    """Replace the ticket and clock tables with the benchmark's data set."""
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from scalr_support.accounts.groups import SUPPORT_ENGINEER, SUPPORT_MANAGER
    from scalr_support.accounts.models import User
    from sla.models import BusinessCalendar, ResponseClock, SlaTransition
    from tickets.models import Contact, Organization, SupportTier, Ticket

    started = clock.perf_counter()
    tables = ", ".join(
        connection.ops.quote_name(model._meta.db_table)
        for model in (SlaTransition, ResponseClock, Ticket, Contact, Organization)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    User.objects.filter(email__endswith=EMAIL_DOMAIN).delete()

    with transaction.atomic():
        business = SupportTier.objects.get(slug="business")
        default_calendar = BusinessCalendar.objects.get(is_default=True)
        organizations = Organization.objects.bulk_create(
            Organization(name=f"Bench SLA {n:03d}", tier=business)
            for n in range(ORGANIZATIONS)
        )
        requester = User.objects.create_user(f"requester@{EMAIL_DOMAIN}")
        Contact.objects.create(
            user=requester, organization=organizations[0], is_technical_contact=True
        )
        for name, count in ((SUPPORT_ENGINEER, ENGINEERS), (SUPPORT_MANAGER, MANAGERS)):
            group = Group.objects.get(name=name)
            for n in range(count):
                user = User.objects.create_user(
                    f"{name.split()[-1].lower()}{n}@{EMAIL_DOMAIN}", is_staff=True
                )
                user.groups.add(group)
    first_org = organizations[0].pk
    answered = tickets - running
    now = f"'{NOW.isoformat()}'::timestamptz"
    insert_select(
        Ticket,
        {
            "number": "g",
            "organization": f"{first_org} + (g % {ORGANIZATIONS})",
            "requester": str(requester.pk),
            "subject": "'Runs fail in workspace ' || g",
            "description": "'Runs fail with exit code 1 since this morning.'",
            "description_html": "'<p>Runs fail with exit code 1.</p>'",
            "priority": "g % 5",
            "status": f"CASE WHEN g <= {answered} THEN 'closed' ELSE 'open' END",
            "category": "'bug'",
            "deployment": "'saas'",
            "created_at": f"{now} - (g || ' seconds')::interval",
            "updated_at": now,
            "last_activity_at": now,
        },
        tickets,
    )
    at_risk_due = answered + due // 2  # at-risk crossing, not yet recorded
    breach_due = answered + due  # past due, at risk already recorded
    # Running clocks not yet due: due in 1h to about 3.5 days; every 10th is Free.
    future_due = f"{now} + (((g % 5000) + 60) || ' minutes')::interval"
    started_case = (
        f"CASE WHEN g <= {answered} THEN {now} - interval '30 days' "
        f"WHEN g <= {at_risk_due} THEN {now} - interval '100 minutes' "
        f"WHEN g <= {breach_due} THEN {now} - interval '3 hours' "
        f"ELSE {future_due} - interval '2 hours' END"
    )
    best_effort = f"(g > {breach_due} AND g % 10 = 0)"
    insert_select(
        ResponseClock,
        {
            "ticket": "g",
            "kind": "'first_response'",
            "started_at": started_case,
            "tier": str(business.pk),
            "priority": "g % 5",
            "target_amount": "2",
            "target_unit": "'h'",
            "target_clock": "'24x7'",
            "guaranteed": f"NOT {best_effort}",
            "calendar": str(default_calendar.pk),
            "due_at": f"({started_case}) + interval '2 hours'",
            "at_risk_at": (
                f"CASE WHEN {best_effort} THEN NULL "
                f"ELSE ({started_case}) + interval '90 minutes' END"
            ),
            "at_risk_recorded_at": (
                f"CASE WHEN g > {at_risk_due} AND g <= {breach_due} "
                f"THEN ({started_case}) + interval '90 minutes' END"
            ),
            "responded_at": (
                f"CASE WHEN g <= {answered} "
                f"THEN ({started_case}) + interval '1 hour' END"
            ),
            "created_at": started_case,
        },
        tickets,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sla_slatransition "
            "(clock_id, kind, occurred_at, recorded_at, notify, notified_at) "
            "SELECT id, 'at_risk', at_risk_recorded_at, at_risk_recorded_at, true, "
            "at_risk_recorded_at FROM sla_responseclock "
            "WHERE at_risk_recorded_at IS NOT NULL"
        )
    return clock.perf_counter() - started


def reset_due(answered: int, due: int) -> None:
    """Undo what a sweep recorded, so that every round does the same work."""
    from django.db import connection

    from notifications.models import EmailDelivery
    from sla.models import ResponseClock, SlaTransition

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM sla_slatransition WHERE recorded_at = %s", [NOW])
    ResponseClock.objects.filter(
        ticket_id__gt=answered, ticket_id__lte=answered + due // 2
    ).update(at_risk_recorded_at=None)
    ResponseClock.objects.filter(
        ticket_id__gt=answered + due // 2, ticket_id__lte=answered + due
    ).update(breached_at=None)
    EmailDelivery.objects.filter(event_key__startswith="sla_transition:").delete()
    assert not SlaTransition.objects.filter(recorded_at=NOW).exists()


def seed_calendar() -> None:
    from sla.models import BusinessCalendar

    calendar, created = BusinessCalendar.objects.get_or_create(
        name="Bench New York",
        defaults={"timezone": "America/New_York", "holiday_country": "US"},
    )
    if created:
        for weekday in range(5):
            calendar.intervals.create(weekday=weekday, start=time(9), end=time(17))


def explain_sweep() -> tuple[str, str]:
    """EXPLAIN ANALYZE the sweep's two reads (rolled back: they lock rows)."""
    from django.db import transaction

    from sla import services
    from sla.models import ResponseClock

    pending = ResponseClock.objects.select_for_update(skip_locked=True, of=("self",))
    with transaction.atomic():
        at_risk = (
            pending.filter(services.AT_RISK_PENDING, at_risk_at__lte=NOW)
            .order_by("at_risk_at")[: services.SWEEP_BATCH]
            .explain(analyze=True)
        )
        breach = (
            pending.filter(services.BREACH_PENDING, due_at__lte=NOW)
            .order_by("due_at")[: services.SWEEP_BATCH]
            .explain(analyze=True)
        )
        transaction.set_rollback(True)
    return at_risk, breach


def measure_sweep(args: argparse.Namespace) -> tuple[float, bool]:
    """Seed (if needed), time the sweep, print its plan; return (median ms, plan ok)."""
    from django.db import connection

    from sla import services
    from sla.models import SlaTransition
    from tickets.models import Ticket

    answered = args.tickets - args.running
    if seeded(args.tickets, args.running, args.due):
        print(
            f"seed: {args.tickets:,} tickets, {args.running:,} running clocks "
            "already present (skipped)"
        )
    else:
        seconds = seed(args.tickets, args.running, args.due)
        print(
            f"seed: {args.tickets:,} tickets and clocks ({args.running:,} running, "
            f"{args.due} due) in {seconds:.1f} s"
        )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE sla_responseclock")
            cursor.execute("VACUUM ANALYZE tickets_ticket")
    reset_due(answered, args.due)
    print(
        f"tickets: {Ticket.objects.count():,}; running clocks: "
        f"{args.running:,}; due now: {args.due}"
    )

    timings = []
    for _ in range(args.sweep_rounds):
        started = clock.perf_counter()
        recorded = services.sla_transitions_record(now=NOW)
        timings.append((clock.perf_counter() - started) * 1000)
        if recorded != args.due:
            raise RuntimeError(f"the sweep recorded {recorded}, not {args.due}")
        assert SlaTransition.objects.filter(recorded_at=NOW).count() == args.due
        reset_due(answered, args.due)
    started = clock.perf_counter()
    services.sla_transitions_record(now=NOW - timedelta(days=1))
    idle_ms = (clock.perf_counter() - started) * 1000

    median = statistics.median(timings)
    print(
        f"sweep recording {args.due} transitions: "
        f"median {median:.1f} ms, best {min(timings):.1f} ms, "
        f"worst {max(timings):.1f} ms over {len(timings)} rounds "
        f"(target < {SWEEP_TARGET_MS:.0f} ms)"
    )
    print(f"sweep with nothing due: {idle_ms:.1f} ms", flush=True)

    services.sla_transitions_record(now=NOW)
    started = clock.perf_counter()
    notified = services.sla_notifications_queue(now=NOW)
    notify_ms = (clock.perf_counter() - started) * 1000
    reset_due(answered, args.due)
    print(
        f"then the sla_notify task: {notified} transitions to email deliveries "
        f"({ENGINEERS + MANAGERS} support staff, unassigned tickets) in "
        f"{notify_ms:.1f} ms"
    )

    at_risk_plan, breach_plan = explain_sweep()
    print("\nEXPLAIN ANALYZE, at-risk read:\n" + _indent(at_risk_plan))
    print("EXPLAIN ANALYZE, breach read:\n" + _indent(breach_plan))
    plan_ok = (
        "Index Scan using sla_clock_at_risk_pending" in at_risk_plan
        and "Index Scan using sla_clock_breach_pending" in breach_plan
        and "Seq Scan" not in at_risk_plan + breach_plan
    )
    print(f"plan uses the partial indexes: {'yes' if plan_ok else 'NO'}")
    return median, plan_ok


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines()) + "\n"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--running", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--calls", type=int, default=CALLS)
    parser.add_argument("--sweep-rounds", type=int, default=SWEEP_ROUNDS)
    args = parser.parse_args(argv)
    if not (0 < args.due <= args.running <= args.tickets) or args.due % 2:
        parser.error("need 0 < due <= running <= tickets, and an even --due")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"command: {command_line()}")

    rate = measure_computations(args.calls, ROUNDS)

    database_url = os.environ.get("BENCH_SLA_DATABASE_URL", DEFAULT_DATABASE_URL)
    env = bench_env(database_url)
    print(f"\ndatabase: {database_url}")
    ensure_database(database_url)
    manage("migrate", "--noinput", "-v0", env=env)
    os.environ.update(env)
    import django

    django.setup()
    # One INFO line per sweep and kombu's memory-broker notice would bury the figures.
    logging.getLogger("sla").setLevel(logging.WARNING)
    logging.getLogger("kombu").setLevel(logging.ERROR)
    seed_calendar()
    measure_cached_calendar(args.calls, ROUNDS)
    median, plan_ok = measure_sweep(args)

    failures = []
    if rate < COMPUTATIONS_TARGET:
        failures.append(f"due_at {rate:,.0f}/s < {COMPUTATIONS_TARGET:,}/s")
    if median >= SWEEP_TARGET_MS:
        failures.append(f"sweep {median:.1f} ms >= {SWEEP_TARGET_MS:.0f} ms")
    if not plan_ok:
        failures.append("the sweep's plan is not an index scan")
    print("\nresult: " + ("all targets met" if not failures else "; ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    run_main(main)
