"""The whole product under load: 50 customers and a burst of 1,000 inbound emails.

Run from the repository root (``make bench`` runs it through run_all.py)::

    python benchmarks/load.py [--duration 300] [--users 50] [--emails 1000]

It seeds its own PostgreSQL database (``scalr_support_load``, or
LOAD_DATABASE_URL) with 20 organisations, 400 contacts, 20,000 tickets and
200,000 comments (``portal.py``'s generator, ten comments a ticket; skipped when
already there), starts a private Redis, gunicorn (production settings, 3
workers), one Celery worker (2 pool processes), beat, the SMTP receiver and a
loopback SMTP sink for outgoing mail, then runs a headless locust on loopback:
``--users`` customers (60% reading lists and tickets, 20% API reads, 10%
comments, 5% new tickets with a 200 kB attachment, 5% searches, ``--think``
1-4 s between two actions) for ``--duration`` seconds. ``--email-start`` seconds in,
``--emails`` replies arrive at ``--email-rate`` per second, alternately through
the Postmark webhook and SMTP; 20% are duplicates of earlier ones and 5%
auto-replies.

It prints throughput, p50/p95/p99 and errors per request type, the webhook's and
SMTP's answer times, the time from the last email until every reply is a comment,
and the memory (RSS) of the web and worker processes at the start, peak and end.
Targets: no errors, webhook p95 under 200 ms, every reply a comment within 120 s
of the last email; the exit status is non-zero when one is missed. What the run
added (tickets, comments, mail) is deleted afterwards, so the data set stays as
seeded.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import random
import shutil
import smtplib
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import portal
from _common import (
    BENCH_DIR,
    HOST,
    REPO_ROOT,
    BackgroundProcess,
    Gunicorn,
    MailSink,
    RedisServer,
    command_line,
    free_port,
    manage,
    percentile,
    rss_kib,
    run_main,
    venv_python,
    venv_tool,
    verdict,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/scalr_support_load"
TICKETS = 20_000
COMMENTS_PER_TICKET = 10
WEBHOOK_SECRET = "load:webhook-pass"  # noqa: S105 - the run's own rig
FOLLOWERS_PER_ORGANIZATION = 3  # contacts who follow all of their org's tickets
TARGET_WEBHOOK_P95_MS = 200.0
TARGET_COMMENTS_AFTER_S = 120.0
SEARCH_NAMES = (
    "portal list",
    "portal ticket",
    "api list",
    "api ticket",
    "comment",
    "new ticket",
    "search",
)


# --- the rig: Redis, a mail sink, the product's processes -----------------------------


class MemorySampler(threading.Thread):
    """RSS of the web and worker process trees every two seconds."""

    def __init__(self, groups: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.groups = groups
        self.samples: dict[str, list[int]] = {name: [] for name in groups}
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            for name, pids in self.groups.items():
                self.samples[name].append(rss_kib(pids()))
            self.halt.wait(2)

    def summary(self) -> dict[str, tuple[float, float, float]]:
        return {
            name: (s[0] / 1024, max(s) / 1024, s[-1] / 1024)
            for name, s in self.samples.items()
            if s
        }


# --- data -----------------------------------------------------------------------------


def prepare_people(count: int) -> list[dict[str, Any]]:
    """Signed-in customers: a session, an API token and open tickets of their org."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from scalr_support.accounts.backends import BACKEND_PATH
    from scalr_support.accounts.models import User
    from scalr_support.accounts.services import api_token_create
    from tickets.choices import Status
    from tickets.models import Ticket

    people = []
    for n in range(count):
        org, member = n % portal.ORGANIZATIONS, n // portal.ORGANIZATIONS
        user = User.objects.select_related("contact").get(
            email=f"user{member:02}@org{org:02}.{portal.EMAIL_DOMAIN}"
        )
        store = import_module(settings.SESSION_ENGINE).SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = BACKEND_PATH
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.save()
        tickets = list(
            Ticket.objects.filter(organization_id=user.contact.organization_id)
            .exclude(status=Status.CLOSED)
            .order_by("-last_activity_at")
            .values_list("number", flat=True)[:200]
        )
        people.append(
            {
                "email": user.email,
                "id": user.pk,
                "session": store.session_key,
                "token": api_token_create(user=user, name="load test").key,
                "tickets": tickets,
            }
        )
    return people


def prepare_senders() -> list[dict[str, Any]]:
    """Every seeded contact, with open tickets of their organisation to reply to.

    The burst spreads over all 400 of them, as real replies would: the product
    quarantines a sender of more than 20 messages in 10 minutes (mail loops).
    """
    from scalr_support.accounts.models import User
    from tickets.choices import Status
    from tickets.models import Ticket

    open_tickets: dict[int, list[int]] = {}
    for org_id, number in (
        Ticket.objects.exclude(status=Status.CLOSED)
        .order_by("-last_activity_at")
        .values_list("organization_id", "number")
    ):
        tickets = open_tickets.setdefault(org_id, [])
        if len(tickets) < 50:
            tickets.append(number)
    return [
        {"email": email, "id": pk, "tickets": open_tickets[org_id]}
        for pk, email, org_id in User.objects.filter(
            email__endswith=f".{portal.EMAIL_DOMAIN}", contact__isnull=False
        ).values_list("pk", "email", "contact__organization_id")
    ]


def limit_followers() -> None:
    """A few contacts per organisation follow all its tickets; the rest their own."""
    from tickets.models import Contact

    Contact.objects.update(notify_organization_tickets=False)
    for org in range(portal.ORGANIZATIONS):
        emails = [
            f"user{n:02}@org{org:02}.{portal.EMAIL_DOMAIN}"
            for n in range(FOLLOWERS_PER_ORGANIZATION)
        ]
        Contact.objects.filter(user__email__in=emails).update(
            notify_organization_tickets=True
        )


def clean_up(ticket_count: int, started: datetime) -> None:
    """Remove what the run added, so the seeded data set stays as it was."""
    from notifications.models import EmailDelivery, InboundMessage
    from scalr_support.accounts.models import ApiToken
    from sla.models import ResponseClock
    from tickets.models import Comment, Ticket, TicketCounter

    EmailDelivery.objects.filter(created_at__gte=started).delete()
    InboundMessage.objects.filter(received_at__gte=started).delete()
    ResponseClock.objects.filter(started_at__gte=started).delete()
    Comment.objects.filter(created_at__gte=started).delete()
    Ticket.objects.filter(number__gt=ticket_count).delete()
    TicketCounter.objects.filter(pk=1).update(value=ticket_count)
    ApiToken.objects.filter(name="load test").delete()


# --- the email burst ------------------------------------------------------------------


def reply_message(sender: str, to: str, body: str, *, auto: bool) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = ("Out of office: " if auto else "") + "Re: your ticket"
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="customer.example.com")
    if auto:
        message["Auto-Submitted"] = "auto-replied"
    message.set_content(body)
    return message.as_bytes(policy=SMTP_POLICY)  # CRLF, as an MTA sends it


class EmailBurst(threading.Thread):
    """``count`` emails at ``rate``/s: 20% duplicates, 5% auto-replies."""

    def __init__(
        self,
        people: list[dict[str, Any]],
        web_port: int,
        smtp_port: int,
        count: int,
        rate: float,
        delay: float,
    ) -> None:
        super().__init__(daemon=True)
        self.people, self.web_port, self.smtp_port = people, web_port, smtp_port
        self.count, self.rate, self.delay = count, rate, delay
        self.latencies: dict[str, list[float]] = {"webhook": [], "smtp": []}
        self.errors: list[str] = []
        self.unique_replies = 0
        self.finished_at = 0.0
        self.lock = threading.Lock()

    def plan(self) -> list[tuple[str, bytes, tuple[str, str]]]:
        from notifications.tokens import reply_address

        rng = random.Random(2026)
        sent: list[tuple[bytes, tuple[str, str]]] = []
        plan = []
        for n in range(self.count):
            transport = "webhook" if n % 2 == 0 else "smtp"
            roll = rng.random()
            if roll < 0.20 and sent:
                plan.append((transport, *rng.choice(sent)))  # a duplicate
                continue
            person = rng.choice(self.people)
            number = rng.choice(person["tickets"])
            to = reply_address(ticket_number=number, user_id=person["id"])
            auto = roll < 0.25
            raw = reply_message(person["email"], to, f"Email reply {n}.", auto=auto)
            if not auto:
                self.unique_replies += 1
                sent.append((raw, (person["email"], to)))
            plan.append((transport, raw, (person["email"], to)))
        return plan

    def send(self, transport: str, raw: bytes, envelope: tuple[str, str]) -> None:
        import http.client

        started = time.perf_counter()
        try:
            if transport == "webhook":
                connection = http.client.HTTPConnection(HOST, self.web_port, timeout=30)
                auth = base64.b64encode(WEBHOOK_SECRET.encode()).decode()
                body = json.dumps({"RawEmail": raw.decode(), "MessageID": "load"})
                connection.request(
                    "POST",
                    "/anymail/postmark/inbound/",
                    body=body,
                    headers={
                        "Authorization": f"Basic {auth}",
                        "Content-Type": "application/json",
                    },
                )
                status = connection.getresponse().status
                connection.close()
                ok = status == 200
            else:
                sender, to = envelope
                with smtplib.SMTP(HOST, self.smtp_port, timeout=30) as client:
                    client.sendmail(sender, [to], raw)
                status, ok = 250, True
        except (OSError, smtplib.SMTPException) as error:
            status, ok = 0, False
            with self.lock:
                self.errors.append(f"{transport}: {error}")
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies[transport].append(elapsed)
            if not ok:
                self.errors.append(f"{transport}: status {status}")

    def run(self) -> None:
        plan = self.plan()
        time.sleep(self.delay)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=16) as pool:
            for n, (transport, raw, envelope) in enumerate(plan):
                due = started + n / self.rate
                time.sleep(max(0.0, due - time.perf_counter()))
                pool.submit(self.send, transport, raw, envelope)
        self.finished_at = time.monotonic()


# --- locust ---------------------------------------------------------------------------


class CommentWatcher(threading.Thread):
    """Notes when the last distinct reply of the burst became a comment.

    It watches while the customers' load still runs: the target is the delay after
    the last email, not after the load test ends.
    """

    def __init__(self, burst: EmailBurst, since: datetime, limit: float = 600) -> None:
        super().__init__(daemon=True)
        self.burst, self.since, self.limit = burst, since, limit
        self.made = 0
        self.done_at = 0.0

    def run(self) -> None:
        from django.db import connection

        from tickets.models import Comment

        try:
            self.burst.join()
            deadline = self.burst.finished_at + self.limit
            while True:
                self.made = Comment.objects.filter(
                    source="email", created_at__gte=self.since
                ).count()
                self.done_at = time.monotonic()
                if self.made >= self.burst.unique_replies or self.done_at > deadline:
                    return
                time.sleep(0.5)
        finally:
            connection.close()


def run_locust(
    port: int,
    users: int,
    duration: int,
    people_file: Path,
    work: Path,
    env: dict,
    think: str,
) -> list[dict[str, str]]:
    prefix = work / "locust"
    argv = [
        venv_tool("locust"),
        "-f",
        str(BENCH_DIR / "_locustfile.py"),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(max(1, users // 5)),
        "-t",
        f"{duration}s",
        "--host",
        f"http://{HOST}:{port}",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "10",
    ]
    subprocess.run(
        argv,
        cwd=REPO_ROOT,
        env={**env, "LOAD_USERS_FILE": str(people_file), "LOAD_THINK": think},
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=(work / "locust.log").open("w"),
    )
    failures = work / "locust_failures.csv"
    if failures.exists():
        with failures.open() as stream:
            for row in csv.DictReader(stream):
                print(f"  failed {row['Occurrences']} x {row['Name']}: {row['Error']}")
    with (work / "locust_stats.csv").open() as stream:
        return list(csv.DictReader(stream))


def report_requests(rows: list[dict[str, str]], duration: float) -> tuple[str, int]:
    lines = [
        "| request | count | req/s | p50 ms | p95 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    errors = 0
    for row in sorted(rows, key=lambda r: (r["Name"] == "Aggregated", r["Name"])):
        failures = int(row["Failure Count"])
        if row["Name"] != "Aggregated":
            errors += failures
        count = int(row["Request Count"])
        lines.append(
            f"| {row['Name']} | {count} | {count / duration:.1f} | {row['50%']} | "
            f"{row['95%']} | {row['99%']} | {failures} |"
        )
    return "\n".join(lines), errors


# --- main -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=300, help="seconds of load")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--email-rate", type=float, default=25.0, help="per second")
    parser.add_argument(
        "--email-start", type=float, default=15.0, help="seconds into the run"
    )
    parser.add_argument("--tickets", type=int, default=TICKETS)
    parser.add_argument(
        "--think",
        default="1,4",
        help="seconds a customer waits between two actions: min,max (uniform)",
    )
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument(
        "--webhook-workers",
        type=int,
        default=1,
        help="gunicorn workers serving only the inbound webhooks (0: the main ones)",
    )
    parser.add_argument(
        "--web-threads", type=int, default=4, help="gunicorn threads per worker"
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=10,
        help="the Celery worker's niceness: background work yields the CPU to "
        "requests when web and worker share a host (0: same priority)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    database_url = os.environ.get("LOAD_DATABASE_URL", DEFAULT_DATABASE_URL)
    print(f"command: {command_line()}")
    work = Path(tempfile.mkdtemp(prefix="scalr-load-"))
    redis = RedisServer(work)
    sink = MailSink()
    smtp_port = free_port()
    redis_url = redis.url
    env = portal.bench_env(database_url)
    env.update(
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        EMAIL_URL=f"smtp://{HOST}:{sink.port}",
        ANYMAIL_WEBHOOK_SECRET=WEBHOOK_SECRET,
        API_THROTTLE_USER="100000/min",
        MEDIA_ROOT=str(work / "media"),
        LOG_LEVEL="WARNING",
    )
    processes: list[BackgroundProcess] = []
    try:
        portal.ensure_database(database_url)
        manage("migrate", "--noinput", "-v0", env=env)
        manage("collectstatic", "--noinput", "-v0", env=env)
        portal.setup_django(env)
        portal.COMMENTS_PER_TICKET = COMMENTS_PER_TICKET
        seconds = portal.seed(args.tickets)
        data_set = (
            f"{portal.ORGANIZATIONS} organisations, "
            f"{portal.ORGANIZATIONS * portal.CONTACTS_PER_ORGANIZATION} contacts, "
            f"{args.tickets:,} tickets, {args.tickets * COMMENTS_PER_TICKET:,} comments"
        )
        print(
            f"seed: {data_set}"
            + (" (present)" if seconds is None else f" in {seconds:.0f} s")
        )
        from django.db import connection

        limit_followers()
        people = prepare_people(args.users)
        senders = prepare_senders()
        people_file = work / "people.json"
        people_file.write_text(json.dumps(people))
        started_at = datetime.now(UTC)
        connection.close()

        celery = venv_tool("celery")
        worker = BackgroundProcess(
            "worker",
            [
                *(["nice", "-n", str(args.worker_nice)] if args.worker_nice else []),
                celery,
                "-A",
                "scalr_support",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--without-gossip",
                "--without-mingle",
            ],
            env,
            work / "worker.log",
        )
        beat = BackgroundProcess(
            "beat",
            [
                celery,
                "-A",
                "scalr_support",
                "beat",
                "--loglevel",
                "INFO",
                "-s",
                str(work / "beat"),
            ],
            env,
            work / "beat.log",
        )
        receiver = BackgroundProcess(
            "receiver",
            [venv_python(), "manage.py", "receive_mail", "--port", str(smtp_port)],
            env,
            work / "receiver.log",
        )
        processes += [worker, beat, receiver]
        web = Gunicorn(
            env,
            workers=args.web_workers,
            # Keep-alive longer than a customer's pause: the server must not close
            # a connection the client is about to reuse.
            extra_args=["--threads", str(args.web_threads), "--keep-alive", "10"],
            ready_path="/healthz",
        )
        web.start()
        hooks = web
        if args.webhook_workers:
            # The providers' webhooks on their own processes (a separate upstream
            # for /anymail/ in front): customers' pages never queue them.
            hooks = Gunicorn(
                env,
                workers=args.webhook_workers,
                extra_args=["--threads", "4", "--keep-alive", "10"],
                ready_path="/healthz",
            )
            hooks.start()
        worker.wait_for("ready")
        beat.wait_for("beat: Starting")
        print(
            f"gunicorn: {args.web_workers} workers x {args.web_threads} threads on "
            f":{web.port}"
            + (
                f", webhooks {args.webhook_workers} on :{hooks.port}"
                if hooks is not web
                else ""
            )
            + f"; celery worker (2 processes, nice {args.worker_nice}), beat, "
            f"SMTP receiver on :{smtp_port}"
        )

        sampler = MemorySampler(
            {
                "web": lambda: [
                    *web.pids(),
                    *(hooks.pids() if hooks is not web else []),
                ],
                "worker": worker.pids,
            }
        )
        sampler.start()
        burst = EmailBurst(
            senders,
            hooks.port,
            smtp_port,
            args.emails,
            args.email_rate,
            args.email_start,
        )
        burst.start()
        watcher = CommentWatcher(burst, started_at)
        watcher.start()
        load_started = time.monotonic()
        rows = run_locust(
            web.port, args.users, args.duration, people_file, work, env, args.think
        )
        if any(int(row["Failure Count"]) for row in rows):
            print("gunicorn log (tail):\n" + web.log()[-3000:])
        load_seconds = time.monotonic() - load_started
        burst.join()
        watcher.join()
        comments_after = watcher.done_at - burst.finished_at
        made = watcher.made
        sampler.halt.set()
        sampler.join()
        memory = sampler.summary()
        for process in processes:
            process.stop()
        try:
            clean_up(args.tickets, started_at)
        except Exception as error:  # the figures stand; the next run reseeds
            print(f"clean-up failed: {error}")
        connection.close()
    finally:
        for process in processes:
            process.stop()
        if "web" in locals():
            web.stop()
        if "hooks" in locals():
            hooks.stop()
        sink.stop()
        redis.stop()
    table, errors = report_requests(rows, load_seconds)
    hook = sorted(burst.latencies["webhook"])
    smtp = sorted(burst.latencies["smtp"])
    total = next((r for r in rows if r["Name"] == "Aggregated"), None)
    print()
    print(
        f"{args.users} users for {load_seconds:.0f} s on {os.cpu_count()} CPUs; "
        f"{data_set}"
    )
    if total:
        print(f"throughput: {int(total['Request Count']) / load_seconds:.1f} req/s")
    print(table)
    print(
        f"\nemails: {args.emails} at {args.email_rate:g}/s ({burst.unique_replies} "
        f"distinct replies, the rest duplicates and auto-replies), "
        f"{len(burst.errors)} errors\n"
        f"webhook: p50 {percentile(hook, 0.5) * 1000:.0f} ms, p95 "
        f"{percentile(hook, 0.95) * 1000:.0f} ms, p99 "
        f"{percentile(hook, 0.99) * 1000:.0f} ms ({len(hook)} requests)\n"
        f"smtp: p50 {percentile(smtp, 0.5) * 1000:.0f} ms, p95 "
        f"{percentile(smtp, 0.95) * 1000:.0f} ms ({len(smtp)} messages)\n"
        f"every reply a comment {comments_after:.1f} s after the last email "
        f"({made}/{burst.unique_replies})\n"
        f"outgoing mail sent: {sink.count}"
    )
    for name, (first, peak, last) in memory.items():
        print(
            f"memory {name}: {first:.0f} MiB at start, peak {peak:.0f} MiB, "
            f"{last:.0f} MiB at the end ({last - first:+.0f} MiB)"
        )
    for error in burst.errors[:10]:
        print(f"  {error}")

    missed = []
    if errors or burst.errors:
        missed.append(f"{errors + len(burst.errors)} errors (target 0)")
    if percentile(hook, 0.95) * 1000 > TARGET_WEBHOOK_P95_MS:
        missed.append(f"webhook p95 over {TARGET_WEBHOOK_P95_MS:.0f} ms")
    if made < burst.unique_replies or comments_after > TARGET_COMMENTS_AFTER_S:
        missed.append(
            f"replies not all comments within {TARGET_COMMENTS_AFTER_S:.0f} s"
        )
    shutil.rmtree(work, ignore_errors=True)
    return verdict(missed)


if __name__ == "__main__":
    run_main(main)
