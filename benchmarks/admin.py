"""The engineer's workspace under load: the queue and the ticket page against a ceiling.

Run from the repository root (``make bench`` runs it through run_all.py)::

    python benchmarks/admin.py [--tickets 20000] [--duration 15] [--concurrency 4]

It seeds the same database as ``benchmarks/portal.py`` (``scalr_support_bench``, or
BENCH_DATABASE_URL; skipped when already there), gives the open tickets SLA due
times, signs one Support Engineer in, starts gunicorn with the production settings
and measures requests/s and p50/p95 latency of the queue (rotating over its tabs,
pages and filters) and of the ticket page (rotating over ``--detail-tickets`` open
tickets, so that no single entry is warm), and of ``/__bench__/ceiling/``: the same
middleware and signed-in session with a minimal template and no other queries. The
target is that each workspace page reaches at least 50% of the ceiling's
throughput; the exit status is non-zero when it does not or a response is not 200.

``--writes-per-second N`` adds a writer: internal notes on random open tickets
during the whole load (every page, the ceiling included), so that what the
workspace caches is invalidated as a busy team's work would invalidate it.

django-helpdesk is not compared here: it is not a dependency of this project.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import portal
from _common import (
    Gunicorn,
    command_line,
    http_get,
    manage,
    run_main,
)

DETAIL_TICKETS = 300


def sla_due_times_seed() -> int:
    """Give open tickets without a clock a due time, as the SLA engine would.

    The portal's seed writes tickets with COPY, without response clocks; the queue
    orders and colours by these fields, so they must be there. One UPDATE.
    """
    from django.db import connection

    from tickets.models import Ticket

    table = connection.ops.quote_name(Ticket._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET "  # noqa: S608 - the table name is the model's
            "first_response_due_at = created_at + (priority + 1) * interval '6 hours',"
            " sla_due_at = now() + ((id % 97) - 10) * interval '1 hour',"
            " sla_at_risk_at = now() + ((id % 97) - 14) * interval '1 hour' "
            "WHERE status NOT IN ('solved', 'closed') AND sla_due_at IS NULL"
        )
        updated = int(cursor.rowcount)
        # Fresh statistics, as autovacuum would keep them: the planner otherwise
        # believes no ticket has a due time and picks nested loops.
        cursor.execute(f"ANALYZE {table}")
        return updated


def sign_in_engineer() -> tuple[Any, str]:
    """A seeded staff user in the Support Engineer group, and a session key."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group

    from scalr_support.accounts.backends import BACKEND_PATH
    from scalr_support.accounts.groups import SUPPORT_ENGINEER, ensure_staff_groups
    from scalr_support.accounts.models import User

    ensure_staff_groups()
    user = User.objects.get(email=f"engineer0@support.{portal.EMAIL_DOMAIN}")
    user.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = BACKEND_PATH
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return user, store.session_key


class NoteWriter(threading.Thread):
    """Internal notes on random open tickets at a steady rate, as a busy team writes.

    Every note goes through ``comment_create`` and so moves the ticket's
    ``updated_at`` and its organisation's cache version: what the workspace
    caches is invalidated as it would be in use, not kept warm by a quiet server.
    """

    def __init__(self, author: Any, ticket_ids: list[int], per_second: float) -> None:
        super().__init__(daemon=True)
        self.author, self.ticket_ids = author, ticket_ids
        self.interval = 1 / per_second
        self.stopping = threading.Event()
        self.written = 0

    def run(self) -> None:
        from django.db import connection

        from tickets.models import Ticket
        from tickets.services import comment_create

        pick = random.Random(17)
        try:
            while not self.stopping.wait(self.interval):
                ticket = Ticket.objects.get(pk=pick.choice(self.ticket_ids))
                comment_create(
                    ticket=ticket,
                    author=self.author,
                    body=f"Benchmark note {self.written}",
                    is_public=False,
                )
                self.written += 1
        finally:
            connection.close()


@contextlib.contextmanager
def notes_written(
    author: Any, ticket_ids: list[int], per_second: float
) -> Iterator[NoteWriter | None]:
    if per_second <= 0:
        yield None
        return
    writer = NoteWriter(author, ticket_ids, per_second)
    writer.start()
    try:
        yield writer
    finally:
        writer.stopping.set()
        writer.join()


def queue_paths() -> list[str]:
    base = "/admin/tickets/ticket/"
    return [
        base,
        f"{base}?view=open&page=2",
        f"{base}?view=open&page=3",
        f"{base}?view=mine",
        f"{base}?view=unassigned",
        f"{base}?view=breaching",
        f"{base}?view=breached",
        f"{base}?view=waiting",
        f"{base}?view=open&priority=1",
        f"{base}?view=open&page=5",
        f"{base}?view=done",
        f"{base}?view=open&tier=business&page=2",
    ]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=4, help="connections")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--detail-tickets", type=int, default=DETAIL_TICKETS)
    parser.add_argument(
        "--writes-per-second",
        type=float,
        default=0.0,
        help="internal notes written on random open tickets during the load",
    )
    args = parser.parse_args(argv)
    if args.tickets < portal.ORGANIZATIONS or args.rounds < 1:
        parser.error("need --tickets >= 20 and --rounds >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    database_url = os.environ.get("BENCH_DATABASE_URL", portal.DEFAULT_DATABASE_URL)
    env = portal.bench_env(database_url)
    print(f"command: {command_line()}")
    print(f"database: {database_url}")

    portal.ensure_database(database_url)
    step = time.perf_counter()
    manage("migrate", "--noinput", "-v0", env=env)
    manage("collectstatic", "--noinput", "-v0", env=env)
    print(f"migrate + collectstatic: {time.perf_counter() - step:.1f} s")

    portal.setup_django(env)
    from django.db import connection
    from django.utils.html import escape

    from tickets.choices import ACTIVE_STATUSES
    from tickets.models import Ticket

    seconds = portal.seed(args.tickets)
    print(
        f"seed: {args.tickets:,} tickets, "
        f"{args.tickets * portal.COMMENTS_PER_TICKET:,} comments"
        + (" already present (skipped)" if seconds is None else f" in {seconds:.1f} s")
    )
    print(f"SLA due times given to {sla_due_times_seed():,} open tickets")
    user, session_key = sign_in_engineer()
    open_tickets = Ticket.objects.filter(status__in=ACTIVE_STATUSES)
    detail_ids = list(
        open_tickets.order_by("?").values_list("pk", flat=True)[: args.detail_tickets]
    )
    open_ids = list(open_tickets.values_list("pk", flat=True))
    sample = Ticket.objects.get(pk=detail_ids[0])
    print(f"signed in: {user.email} ({open_tickets.count():,} open tickets)")
    connection.close()

    pages = {
        "ceiling": ["/__bench__/ceiling/"],
        "queue": queue_paths(),
        "ticket page": [f"/admin/tickets/ticket/{pk}/change/" for pk in detail_ids],
    }
    with Gunicorn(env, workers=args.workers, ready_path="/accounts/login/") as server:
        print(f"gunicorn: {args.workers} workers on 127.0.0.1:{server.port}")
        headers = {"Cookie": f"sessionid={session_key}"}
        status, _, _ = http_get(server.port, "/admin/tickets/ticket/")
        if status != 302:
            raise RuntimeError(f"anonymous queue answered {status}, not 302")
        cookies = portal._check(server.port, pages["queue"][0], headers, "All open")
        if "csrftoken" in cookies:
            headers["Cookie"] += f"; csrftoken={cookies['csrftoken']}"
        portal._check(server.port, "/__bench__/ceiling/", headers, escape(user.email))
        portal._check(
            server.port, pages["ticket page"][0], headers, escape(sample.subject)
        )
        for path in pages["queue"]:
            portal._check(server.port, path, headers, "ws-tabs")

        load_before = os.getloadavg()[0]
        with notes_written(user, open_ids, args.writes_per_second) as writer:
            results = portal.interleaved_rounds(
                server, database_url, pages, headers, args
            )
        if writer is not None:
            print(f"notes written during the load: {writer.written:,}")

    print()
    print(
        f"{args.concurrency} connections, gunicorn {args.workers} sync workers, "
        f"{args.duration:g} s measured per page in {args.rounds} interleaved rounds; "
        f"host load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} "
        f"after, {os.cpu_count()} CPUs"
    )
    return portal.ceiling_report(results)


if __name__ == "__main__":
    run_main(main)
