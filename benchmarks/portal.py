"""Portal pages under load: the ticket list and ticket detail against a ceiling page.

Run from the repository root (``make bench`` runs it through run_all.py)::

    python benchmarks/portal.py [--tickets 50000] [--duration 15] [--concurrency 8]

It seeds its own PostgreSQL database (``scalr_support_bench``, or BENCH_DATABASE_URL)
with 20 Business-tier organisations, 400 contacts and ``--tickets`` tickets of five
comments each (skipped when already there), signs one customer in, starts gunicorn
with the production settings on a loopback port and measures requests/s and p50/p95
latency of ``/tickets/`` and ``/tickets/<n>/``, and of ``/__bench__/ceiling/``: the
same middleware and signed-in session with a minimal template and no ticket
queries. The target is that each portal page reaches at least 50% of the ceiling's
throughput; the exit status is non-zero when it does not or a response is not 200.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from _common import (
    CpuMeter,
    Gunicorn,
    LoadResult,
    command_line,
    format_table,
    http_get,
    manage,
    postgres_backend_pids,
    run_load,
    run_main,
)

# Signs the benchmark's own sessions in its own database; nothing else.
BENCH_SECRET_KEY = "bench-only-secret-key-not-for-production-4f1c9a7e2b6d8c3e5a0f"  # noqa: S105
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/scalr_support_bench"
TARGET_RATIO = 0.50
ORGANIZATIONS = 20
CONTACTS_PER_ORGANIZATION = 20
STAFF_USERS = 8
COMMENTS_PER_TICKET = 5
BATCH = 5_000
EMAIL_DOMAIN = "bench.example.com"  # every seeded user's address ends with it
ORG_PREFIX = "Bench "
DETAIL_TICKETS = 300  # detail requests rotate over this many of the org's tickets
SEED = 20260101

# --- realistic text -----------------------------------------------------------------

COMPANIES = [
    "Acme Cloud", "Globex Systems", "Initech", "Umbrella Digital", "Stark Platforms",
    "Wayne Infrastructure", "Hooli", "Vandelay Industries", "Soylent Data",
    "Cyberdyne Ops", "Tyrell Compute", "Wonka Logistics", "Aperture DevOps",
    "Massive Dynamic", "Oscorp Networks", "Nakatomi Trading", "Gringotts Fintech",
    "Monarch Media", "Pied Piper", "Dunder Mifflin IT",
]  # fmt: skip
FIRST_NAMES = [
    "Alice", "Bob", "Carla", "Deepak", "Elena", "Farid", "Grace", "Hiro", "Ines",
    "Jonas", "Kemi", "Liam", "Mei", "Nadia", "Omar", "Priya", "Quentin", "Rosa",
    "Sven", "Tanya", "Umar", "Valeria", "Wei", "Yusuf", "Zofia",
]  # fmt: skip
LAST_NAMES = [
    "Anderson", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "García",
    "Haddad", "Ivanova", "Jensen", "Kowalski", "López", "Müller", "Nakamura",
    "Okafor", "Petrov", "Rossi", "Schmidt", "Tanaka", "Varga", "Wójcik", "Yilmaz",
]  # fmt: skip
COMPONENTS = [
    "VCS provider", "GitHub App integration", "agent pool", "self-hosted agent",
    "workspace run", "Terraform plan", "OPA policy check", "cost estimation",
    "module registry", "provider configuration", "SAML SSO", "SCIM provisioning",
    "API token", "remote state", "run triggers", "environment variables",
    "drift detection", "custom hooks", "Slack notifications", "audit log export",
    "workspace dependencies", "private module", "Kubernetes agent", "webhooks",
]  # fmt: skip
SYMPTOMS = [
    "{c} fails with a timeout", "{c} stuck in pending", "Cannot configure {c}",
    "{c} returns 500 after upgrade", "Intermittent errors in {c}",
    "{c} ignores the configured value", "How do I set up {c}?",
    "{c} is slow since this morning", "Question about {c} permissions",
    "{c} shows the wrong status", "Feature request: better {c} filtering",
    "{c} broke after migrating to 9.x", "Unexpected {c} behaviour on on-prem",
    "Clarification on {c} limits", "{c}: unclear error message",
]  # fmt: skip
VERSIONS = ["", "8.12.0", "9.0.3", "9.1.1", "9.2.0", "9.3.4", "9.4.1"]
ERRORS = [
    "Error: context deadline exceeded",
    "Error: 502 Bad Gateway from upstream",
    'Error: invalid value for "region": must be one of us-east-1, eu-west-1',
    "Error: state lock held by run-8f2c1a (acquired 2h ago)",
    "Error: permission denied: workspaces:update",
    "Error: x509: certificate signed by unknown authority",
]
DESCRIPTION_TEMPLATES = [
    "Since **{when}** every run in `{ws}` stops at the plan stage.\n\n"
    "Steps to reproduce:\n\n1. Queue a run in `{ws}`\n2. Wait for the plan\n"
    "3. The run ends with:\n\n```\n{error}\n```\n\n"
    "Expected: the plan finishes as it did last week. Nothing changed on our side.",
    "Hello,\n\nwe are evaluating {component} for our platform team and have a few "
    "questions:\n\n- Can it be scoped to a single environment?\n"
    "- Does it work with *{other}*?\n- Is there an API for it?\n\n"
    "Our setup: {deployment}, about {count} workspaces.\n\nThanks!",
    "After upgrading to {version} the {component} page shows an error and the "
    "logs contain:\n\n```\n{error}\n```\n\nWe rolled back one node and it works "
    "there. See the table below:\n\n| node | version | status |\n|---|---|---|\n"
    "| web-1 | {version} | failing |\n| web-2 | 9.0.3 | ok |",
    "Our {component} stopped working around {when}. Workspaces affected: "
    "`{ws}` and roughly {count} others. This blocks our releases, so please treat "
    "it as urgent.\n\nWe already tried:\n\n* restarting the agent\n"
    "* re-issuing the token\n* checking [the docs](https://docs.scalr.io/)",
    "Would it be possible to add an option to {component} so that it "
    "{wish}? Right now we work around it with a custom hook, which is fragile.",
]
WISHES = [
    "skips workspaces that are locked",
    "sends a summary instead of one message per run",
    "can be configured per environment",
    "exposes its state through the API",
]
CUSTOMER_REPLIES = [
    "Thanks, that worked for `{ws}`. We still see it on one other workspace though.",
    "Attached the logs you asked for. The error appears right after:\n\n```\n"
    "{error}\n```",
    "We tried the suggested setting but nothing changed. Could we have a call?",
    "It happened again tonight at {when}. Same symptoms.",
    "Confirmed: after the restart the {component} is back to normal. Thank you!",
    "Can you tell us whether this is fixed in {version}? We plan to upgrade soon.",
    "Not yet - our change window is on **Thursday**. I will report back then.",
]
SUPPORT_REPLIES = [
    "Thanks for the details. Could you send us the output of `scalr-server-ctl "
    "status` and the run ID of a failed run?",
    "This looks like a known issue with the {component} in {version}. The fix is "
    "in the next release; meanwhile please set:\n\n```\nSCALR_RUN_TIMEOUT=3600\n```",
    "We could reproduce it. Engineering is working on a fix; we will update this "
    "ticket as soon as we know more.",
    "The behaviour is expected: {component} only applies to workspaces with "
    "auto-apply enabled. See [the documentation](https://docs.scalr.io/).",
    "Glad it works now. I will mark this ticket as solved; reply here if it "
    "comes back.",
    "Could you check whether the agent can reach `{ws}.scalr.io` on port 443? "
    "The error suggests a proxy is in the way.",
]
INTERNAL_NOTES = [
    "Customer is on {version}; same root cause as the ticket from last month.",
    "Escalated to engineering, see the internal issue tracker.",
    "Checked their logs: {error}",
]


def _fill(rng: random.Random, template: str) -> str:
    return template.format(
        c=rng.choice(COMPONENTS),
        component=rng.choice(COMPONENTS),
        other=rng.choice(COMPONENTS),
        ws=f"{rng.choice(['prod', 'staging', 'dev', 'shared'])}-"
        f"{rng.choice(['network', 'eks', 'billing', 'iam', 'dns', 'data'])}",
        error=rng.choice(ERRORS),
        when=f"{rng.randint(1, 28)} {rng.choice(['Jan', 'Feb', 'Mar', 'Apr'])} "
        f"{rng.randint(0, 23):02}:{rng.randint(0, 59):02} UTC",
        version=rng.choice(VERSIONS[1:]),
        deployment=rng.choice(["scalr.io", "on-prem (Kubernetes)", "on-prem (VM)"]),
        count=rng.randint(5, 900),
        wish=rng.choice(WISHES),
    )


def _pool(rng: random.Random, templates: Sequence[str], size: int) -> list[str]:
    return list(dict.fromkeys(_fill(rng, rng.choice(templates)) for _ in range(size)))


# --- environment and database -------------------------------------------------------


def bench_env(database_url: str) -> dict[str, str]:
    """The environment of every process of the run: production settings, bench DB."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="scalr_support.settings.production",
        SECRET_KEY=BENCH_SECRET_KEY,
        DATABASE_URL=database_url,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        BENCHMARK_ENDPOINTS="true",
        DEBUG="false",
        # Production settings refuse to start without it; no webhook is called here.
        ANYMAIL_WEBHOOK_SECRET="bench:not-a-secret",  # noqa: S106
    )
    # ... nor without a real broker and mail service; no worker runs here, so
    # queued messages wait in Redis and no mail leaves.
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    env.setdefault("EMAIL_URL", "smtp://127.0.0.1:1")
    return env


def ensure_database(database_url: str) -> None:
    """Create the benchmark database on its server if it does not exist."""
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    connection = psycopg2.connect(admin_url)
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


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


# --- seeding ------------------------------------------------------------------------


def _csv_value(value: Any) -> Any:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def copy_rows(
    model: Any, field_names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """COPY rows into the model's table; other concrete fields get their defaults.

    Column names come from the model's fields, so the real schema is used; rows are
    streamed through psycopg's ``Cursor.copy`` in CSV format.
    """
    from django.db import connection

    opts = model._meta
    named = [opts.get_field(name) for name in field_names]
    extra = [
        f
        for f in opts.concrete_fields
        if not f.primary_key and f.name not in field_names
    ]
    # What Django itself would insert: the default, "" for blank text, else NULL.
    suffix = []
    for f in extra:
        value = f.get_default()
        if value is None and not f.null:
            raise RuntimeError(f"{opts.label}.{f.name} needs a value to seed")
        suffix.append(_csv_value(value))
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in (*named, *extra))
    statement = (
        f"COPY {quote(opts.db_table)} ({columns}) FROM STDIN WITH (FORMAT csv, "
        r"NULL '\N')"
    )
    count = 0
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def flush(cursor: Any) -> None:
        with cursor.copy(statement) as copy:
            copy.write(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()

    with connection.cursor() as cursor:
        for row in rows:
            writer.writerow([*(_csv_value(v) for v in row), *suffix])
            count += 1
            if count % BATCH == 0:
                flush(cursor)
        if buffer.tell():
            flush(cursor)
    return count


def seeded_counts() -> tuple[int, int, int, int]:
    from tickets.models import Comment, Organization, Ticket, TicketCounter

    counter = TicketCounter.objects.filter(pk=1).values_list("value", flat=True).first()
    return (
        Organization.objects.filter(name__startswith=ORG_PREFIX).count(),
        Ticket.objects.count(),
        Comment.objects.count(),
        counter or 0,
    )


def reset_seed() -> None:
    """Empty the ticket tables and remove the seeded people (bench database only)."""
    from django.db import connection

    from scalr_support.accounts.models import User
    from tickets.models import (
        Attachment,
        Comment,
        Contact,
        Organization,
        PriorityChange,
        Ticket,
    )

    tables = [
        m._meta.db_table
        for m in (Attachment, PriorityChange, Comment, Ticket, Contact, Organization)
    ]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(map(quote, tables))} CASCADE")
    User.objects.filter(email__endswith=EMAIL_DOMAIN).delete()


def seed(ticket_count: int) -> float | None:
    """Seed organisations, people, tickets and comments; None when already there."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from scalr_support.accounts.models import User
    from tickets.choices import Category, CommentSource, Priority, Status
    from tickets.markdown import render_markdown
    from tickets.models import (
        Comment,
        Contact,
        Organization,
        SupportTier,
        Ticket,
        TicketCounter,
    )

    expected = (
        ORGANIZATIONS,
        ticket_count,
        ticket_count * COMMENTS_PER_TICKET,
        ticket_count,
    )
    if seeded_counts() == expected:
        return None

    started = time.perf_counter()
    rng = random.Random(SEED)
    now = datetime.now(UTC).replace(microsecond=0)
    password = make_password("bench-password-not-used")  # hashed once, shared
    business = SupportTier.objects.get(slug="business")

    with transaction.atomic():
        reset_seed()
        organizations = Organization.objects.bulk_create(
            Organization(
                name=f"{ORG_PREFIX}{COMPANIES[i]}",
                tier=business,
                deployment=rng.choice(["saas", "on_prem"]),
                scalr_version=rng.choice(VERSIONS[1:]),
                timezone=rng.choice(
                    ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]
                ),
            )
            for i in range(ORGANIZATIONS)
        )
        people = []
        for org_index in range(ORGANIZATIONS):
            for n in range(CONTACTS_PER_ORGANIZATION):
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                people.append(
                    User(
                        email=f"user{n:02}@org{org_index:02}.{EMAIL_DOMAIN}",
                        first_name=first,
                        last_name=last,
                        password=password,
                        date_joined=now - timedelta(days=800),
                    )
                )
        staff = [
            User(
                email=f"engineer{n}@support.{EMAIL_DOMAIN}",
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                password=password,
                is_staff=True,
                date_joined=now - timedelta(days=900),
            )
            for n in range(STAFF_USERS)
        ]
        people = User.objects.bulk_create(people, batch_size=BATCH)
        staff_ids = [u.pk for u in User.objects.bulk_create(staff)]
        Contact.objects.bulk_create(
            Contact(
                user=user,
                organization=organizations[i // CONTACTS_PER_ORGANIZATION],
                is_technical_contact=True,
                training_completed=rng.random() < 0.7,
            )
            for i, user in enumerate(people)
        )
        contact_ids = [
            [u.pk for u in people[i : i + CONTACTS_PER_ORGANIZATION]]
            for i in range(0, len(people), CONTACTS_PER_ORGANIZATION)
        ]

        # Distinct texts, each rendered to HTML once.
        subjects = list(
            dict.fromkeys(_fill(rng, rng.choice(SYMPTOMS)) for _ in range(2000))
        )
        descriptions = [
            (t, render_markdown(t)) for t in _pool(rng, DESCRIPTION_TEMPLATES, 300)
        ]
        customer = [(t, render_markdown(t)) for t in _pool(rng, CUSTOMER_REPLIES, 200)]
        support = [(t, render_markdown(t)) for t in _pool(rng, SUPPORT_REPLIES, 200)]
        notes = [(t, render_markdown(t)) for t in _pool(rng, INTERNAL_NOTES, 60)]

        priorities = [p.value for p in Priority]
        priority_weights = [2, 8, 25, 45, 20]
        statuses = [s.value for s in Status]
        categories = [c.value for c in Category]
        recent_status_weights = [15, 35, 20, 10, 15, 5]  # active in the last 3 weeks
        old_status_weights = [1, 3, 2, 2, 7, 85]

        ticket_fields = [
            "number", "organization", "requester", "subject", "description",
            "description_html", "priority", "status", "category", "deployment",
            "version_reported", "assignee", "created_at", "updated_at",
            "last_activity_at", "solved_at", "closed_at",
        ]  # fmt: skip
        plan: list[tuple[int, int, int, datetime, datetime]] = []

        def ticket_rows() -> Iterable[tuple[Any, ...]]:
            for number in range(1, ticket_count + 1):
                org_index = rng.randrange(ORGANIZATIONS)
                org = organizations[org_index]
                requester = rng.choice(contact_ids[org_index])
                age = timedelta(minutes=int(rng.expovariate(1 / (200 * 24 * 60))))
                last_activity = now - min(age, timedelta(days=1000))
                created = last_activity - timedelta(
                    minutes=rng.randint(30, 60 * 24 * 30)
                )
                weights = (
                    recent_status_weights
                    if now - last_activity < timedelta(days=21)
                    else old_status_weights
                )
                status = rng.choices(statuses, weights)[0]
                description, description_html = rng.choice(descriptions)
                plan.append((number, org_index, requester, created, last_activity))
                yield (
                    number,
                    org.pk,
                    requester,
                    rng.choice(subjects),
                    description,
                    description_html,
                    rng.choices(priorities, priority_weights)[0],
                    status,
                    rng.choice(categories),
                    org.deployment,
                    rng.choice(VERSIONS),
                    rng.choice(staff_ids) if rng.random() < 0.8 else None,
                    created,
                    last_activity,
                    last_activity,
                    last_activity if status in ("solved", "closed") else None,
                    last_activity if status == "closed" else None,
                )

        copy_rows(Ticket, ticket_fields, ticket_rows())
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT number, id FROM {Ticket._meta.db_table}")  # noqa: S608
            ticket_ids = dict(cursor.fetchall())

        comment_fields = [
            "ticket", "author", "body", "body_html", "is_public", "source",
            "created_at",
        ]  # fmt: skip

        def comment_rows() -> Iterable[tuple[Any, ...]]:
            for number, org_index, requester, created, last_activity in plan:
                span = (last_activity - created).total_seconds()
                offsets = sorted(rng.random() for _ in range(COMMENTS_PER_TICKET - 1))
                times = [created + timedelta(seconds=span * o) for o in offsets]
                times.append(last_activity)
                for k, when in enumerate(times):
                    if k % 2 == 0:  # support answers first, then the customer
                        if rng.random() < 0.1:
                            body, html = rng.choice(notes)
                            public = False
                        else:
                            body, html = rng.choice(support)
                            public = True
                        author = rng.choice(staff_ids)
                        source = CommentSource.ADMIN.value
                    else:
                        body, html = rng.choice(customer)
                        public = True
                        author = (
                            requester
                            if rng.random() < 0.7
                            else rng.choice(contact_ids[org_index])
                        )
                        source = (
                            CommentSource.EMAIL.value
                            if rng.random() < 0.3
                            else CommentSource.PORTAL.value
                        )
                    yield (ticket_ids[number], author, body, html, public, source, when)

        copy_rows(Comment, comment_fields, comment_rows())
        TicketCounter.objects.update_or_create(pk=1, defaults={"value": ticket_count})

    # Statistics for the planner and a visibility map, as autovacuum would leave a
    # settled production table: COUNT(*) can then use an index-only scan, and the
    # figures do not change when autovacuum happens to run between two benchmarks.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    return time.perf_counter() - started


# --- the signed-in customer ---------------------------------------------------------


def sign_in(org_index: int = 0) -> tuple[Any, str]:
    """A customer contact of one organisation and a session key signed in as them."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from scalr_support.accounts.backends import BACKEND_PATH
    from scalr_support.accounts.models import User

    user = User.objects.select_related("contact__organization").get(
        email=f"user00@org{org_index:02}.{EMAIL_DOMAIN}"
    )
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = BACKEND_PATH
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return user, store.session_key


def _check(
    port: int, path: str, headers: dict[str, str], *needles: str
) -> dict[str, str]:
    """GET path; require 200 and every needle in the page. Return cookies it sets."""
    status, response_headers, body = http_get(port, path, headers)
    if status != 200:
        location = response_headers.get("Location", "")
        raise RuntimeError(f"GET {path} answered {status} {location}".rstrip())
    missing = [needle for needle in needles if needle not in body]
    if missing:
        raise RuntimeError(f"GET {path} does not contain {missing}")
    cookies = {}
    for header in response_headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        cookies[name.strip()] = rest.split(";", 1)[0]
    return cookies


# --- main ---------------------------------------------------------------------------


def interleaved_rounds(
    server: Gunicorn,
    database_url: str,
    pages: dict[str, list[str]],
    headers: dict[str, str],
    args: argparse.Namespace,
) -> list[LoadResult]:
    """Load each page in turn for ``args.rounds`` rounds, so drift hits all alike.

    Server CPU is the gunicorn workers' plus their PostgreSQL backends'.
    """
    meter = CpuMeter(lambda: [*server.pids(), *postgres_backend_pids(database_url)])
    merged: dict[str, LoadResult] = {}
    for round_index in range(args.rounds):
        this_round: list[LoadResult] = []
        for name, paths in pages.items():
            before = meter.sample()
            result = run_load(
                name,
                server.port,
                paths,
                headers=headers,
                duration=args.duration / args.rounds,
                # The first round warms up workers, connections and caches.
                warmup=args.warmup if round_index == 0 else min(args.warmup, 0.5),
                concurrency=args.concurrency,
            )
            result.server_cpu_seconds = meter.since(before)
            this_round.append(result)
            merged[name] = merged[name].merge(result) if name in merged else result
        print(_round_line(round_index, this_round))
    return list(merged.values())


def _round_line(round_index: int, results: list[LoadResult]) -> str:
    """One round's throughputs and each page's share of that round's ceiling (the
    first page): how far the host's noise moves a ratio between rounds. The
    verdict is the pooled one (``ceiling_report``)."""
    ceiling = results[0]
    shown = [f"{ceiling.name} {ceiling.rps:.1f} req/s"]
    for result in results[1:]:
        share = result.rps / ceiling.rps if ceiling.rps else 0.0
        shown.append(f"{result.name} {result.rps:.1f} ({share:.0%})")
    return f"round {round_index + 1}: " + " · ".join(shown)


def ceiling_report(results: list[LoadResult]) -> int:
    """Print the table and each page's share of the ceiling (the first result).

    Returns the exit code: 0 when no response failed and every page reaches
    ``TARGET_RATIO`` of the ceiling's requests per second.
    """
    print("server CPU = gunicorn workers + their PostgreSQL backends")
    print(format_table(results))
    for result in results:
        for error, count in result.errors.most_common():
            print(f"  {result.name}: {count} x {error}")

    ceiling = results[0]
    ok = all(r.error_count == 0 for r in results)
    print()
    for result in results[1:]:
        ratio = result.rps / ceiling.rps if ceiling.rps else 0.0
        verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
        ok = ok and ratio >= TARGET_RATIO
        cpu_note = ""
        page_cpu = result.server_cpu_ms_per_request
        ceiling_cpu = ceiling.server_cpu_ms_per_request
        if page_cpu and ceiling_cpu:
            cpu_note = f"; by server CPU per request {ceiling_cpu / page_cpu:.0%}"
        print(
            f"{result.name} / ceiling: {result.rps:.1f} / {ceiling.rps:.1f} req/s = "
            f"{ratio:.0%}  {verdict} (target >= {TARGET_RATIO:.0%}){cpu_note}"
        )
    if not all(r.error_count == 0 for r in results):
        print("FAIL: some responses were not 200 (see above)")
    return 0 if ok else 1


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument(
        "--duration", type=float, default=15.0, help="measured seconds per page"
    )
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="warm-up seconds per page"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="connections")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="split each page's duration into this many rounds, interleaving the "
        "pages, so a burst of other load on the host does not hit only one page",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args(argv)
    if args.tickets < ORGANIZATIONS or args.rounds < 1 or args.concurrency < 1:
        parser.error("need --tickets >= 20, --rounds >= 1 and --concurrency >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    env = bench_env(database_url)
    print(f"command: {command_line()}")
    print(f"database: {database_url}")

    ensure_database(database_url)
    step = time.perf_counter()
    manage("migrate", "--noinput", "-v0", env=env)
    manage("collectstatic", "--noinput", "-v0", env=env)  # the manifest storage
    print(f"migrate + collectstatic: {time.perf_counter() - step:.1f} s")

    setup_django(env)
    from django.db import connection
    from django.utils.html import escape

    from tickets import selectors
    from tickets.ticket_list import OPEN_STATUSES

    seconds = seed(args.tickets)
    total = (
        f"{ORGANIZATIONS} organisations, {ORGANIZATIONS * CONTACTS_PER_ORGANIZATION} "
        f"contacts, {args.tickets:,} tickets, "
        f"{args.tickets * COMMENTS_PER_TICKET:,} comments"
    )
    if seconds is None:
        print(f"seed: {total} already present (skipped)")
    else:
        print(f"seed: {total} in {seconds:.1f} s")

    user, session_key = sign_in()
    organization = user.contact.organization
    visible = selectors.tickets_visible_to(user).order_by(
        "-last_activity_at", "-number"
    )
    org_tickets = visible.count()
    newest = visible.filter(status__in=OPEN_STATUSES).first()  # the list's default
    detail_numbers = list(
        visible.order_by("?").values_list("number", flat=True)[:DETAIL_TICKETS]
    )
    sample = visible.get(number=detail_numbers[0])
    connection.close()  # gunicorn's workers open their own connections
    print(f"signed in: {user.email} of {organization.name} ({org_tickets:,} tickets)")

    ceiling_paths = ["/__bench__/ceiling/"]
    list_paths = [
        "/tickets/",
        "/tickets/?page=2",
        "/tickets/?page=3",
        "/tickets/?status=open",
        "/tickets/?page=4",
        "/tickets/?page=5",
        "/tickets/?status=open&page=2",
        "/tickets/?page=2",
        "/tickets/",
        "/tickets/?priority=1",
    ]
    detail_paths = [f"/tickets/{number}/" for number in detail_numbers]

    with Gunicorn(env, workers=args.workers, ready_path="/accounts/login/") as server:
        print(f"gunicorn: {args.workers} workers on 127.0.0.1:{server.port}")
        headers = {"Cookie": f"sessionid={session_key}"}
        status, _, _ = http_get(server.port, "/tickets/")
        if status != 302:
            raise RuntimeError(f"anonymous /tickets/ answered {status}, not 302")
        cookies = _check(
            server.port,
            "/tickets/",
            headers,
            escape(organization.name),
            f"#{newest.number}",
        )
        # Keep the CSRF cookie the pages set, as a browser would.
        if "csrftoken" in cookies:
            headers["Cookie"] += f"; csrftoken={cookies['csrftoken']}"
        _check(server.port, "/__bench__/ceiling/", headers, escape(user.email))
        _check(
            server.port, f"/tickets/{sample.number}/", headers, escape(sample.subject)
        )

        pages = {
            "ceiling": ceiling_paths,
            "ticket list": list_paths,
            "ticket detail": detail_paths,
        }
        load_before = os.getloadavg()[0]
        results = interleaved_rounds(server, database_url, pages, headers, args)

    print()
    print(
        f"{args.concurrency} connections, gunicorn {args.workers} sync workers, "
        f"{args.duration:g} s measured per page in {args.rounds} interleaved rounds "
        f"(after {args.warmup:g} s warm-up); host load average "
        f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after, "
        f"{os.cpu_count()} CPUs"
    )
    return ceiling_report(results)


if __name__ == "__main__":
    run_main(main)
