"""Inbound email end to end: 1,000 replies through SMTP and a webhook into comments.

Run from the repository root (``make bench`` runs it through run_all.py)::

    python benchmarks/email_ingest.py [--messages 1000] [--concurrency 1,2]
                                      [--connections 4]

It uses its own PostgreSQL database (``scalr_support_bench_ingest``, or
INGEST_DATABASE_URL) with 20 Business-tier organisations of 20 contacts, one open
ticket per contact with a public answer from support (seeded through the ticket
services once, then reused), a private ``redis-server`` on a free port as the
broker and a loopback SMTP sink for outgoing mail. Every message is a genuine
reply: from a ticket's requester to the signed ``Reply-To`` of the notification
support's answer sent them (rendered by ``notifications.messages.build_message``),
quoting it the way Gmail, Outlook, Apple Mail and an HTML-only client do, with
signatures, a disclaimer and base64/quoted-printable bodies, so the parser does
its real work. Replies are spread over all 400 contacts, as real ones would be:
the product quarantines a sender of more than 20 messages in 10 minutes.

For each worker size in ``--concurrency`` (one Celery worker, prefork, with that
many pool processes; 1 is the target's "one worker") it runs two phases, each
with a fresh worker:

- **smtp**: ``manage.py receive_mail`` on a free port; ``--connections``
  smtplib sessions deliver the messages, several per session as an MTA relays;
- **webhook**: gunicorn (production settings, 2 workers x 4 threads) serving
  ``/anymail/postmark/inbound/`` with HTTP basic auth (ANYMAIL_WEBHOOK_SECRET),
  ``--connections`` keep-alive clients posting Postmark's JSON with ``RawEmail``.

A phase first sends ``--warmup`` messages and waits for their comments (so the
worker's first-task imports are not measured), then sends ``--messages`` and
polls the database until every one of them is a comment. msg/s is messages
divided by the time from the first send until the last comment exists. The
worker's notifications to support (one per reply) are part of its work and
counted, not awaited. Peak RSS is of the worker's process tree (main process and
pool processes), sampled every 0.1 s; worker CPU ms per message does not depend on
what else the host is doing, but does on the host: the printed host reference
(``_common.host_reference_ms``) is what to compare it with across runs. The
target: at least 100 msg/s with one pool process on both transports, every message
a comment whose text is the reply's new text; the exit status is non-zero
otherwise. What a run adds is deleted at its end.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import html
import http.client
import json
import os
import queue
import random
import shutil
import smtplib
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import portal
from _common import (
    HOST,
    BackgroundProcess,
    CpuMeter,
    Gunicorn,
    MailSink,
    RedisServer,
    command_line,
    free_port,
    host_reference_ms,
    manage,
    rss_kib,
    run_main,
    venv_python,
    venv_tool,
    verdict,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/scalr_support_bench_ingest"
TARGET_MSG_PER_S = 100.0
ORGANIZATIONS = 20
CONTACTS_PER_ORGANIZATION = 20
EMAIL_DOMAIN = "ingest.example.com"  # every seeded customer's address ends with it
ORG_PREFIX = "Ingest "
STAFF_EMAIL = f"engineer@{EMAIL_DOMAIN}"
WEBHOOK_SECRET = "ingest:webhook-pass"  # noqa: S105 - the run's own rig
COMPLETION_TIMEOUT = 600.0  # seconds after the last send before a phase gives up
SEED = 20260305
STYLES = ("gmail", "outlook", "apple", "html_only")


# --- data set -------------------------------------------------------------------------


def seed() -> float | None:
    """Organisations, contacts, one ticket each with support's public answer.

    Through the services, so every ticket has the ``support_replied`` delivery (and
    its Message-ID) a real customer would answer. Runs once per database; the
    deliveries are marked sent, as the seeding process has no broker (memory://).
    Returns the seconds it took, or None when the data set was already there.
    """
    from django.contrib.auth.models import Group
    from django.db import transaction

    from notifications.models import DeliveryStatus, EmailDelivery
    from scalr_support.accounts.groups import SUPPORT_ENGINEER, ensure_staff_groups
    from scalr_support.accounts.models import User
    from tickets import services
    from tickets.choices import Category, Deployment
    from tickets.models import Contact, Organization, SupportTier, Ticket

    expected = ORGANIZATIONS * CONTACTS_PER_ORGANIZATION
    seeded = Ticket.objects.filter(
        organization__name__startswith=ORG_PREFIX, comments__author__is_staff=True
    ).count()
    if seeded == expected:
        return None
    if seeded:
        raise RuntimeError(
            f"the ingest database holds a partial data set ({seeded}/{expected} "
            "tickets): drop it and run again"
        )
    started = time.perf_counter()
    rng = random.Random(SEED)
    ensure_staff_groups()
    staff, _ = User.objects.get_or_create(
        email=STAFF_EMAIL,
        defaults={"first_name": "Erin", "last_name": "Engineer", "is_staff": True},
    )
    staff.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))
    tier = SupportTier.objects.get(slug="business")
    for org_index in range(ORGANIZATIONS):
        with transaction.atomic():
            organization, _ = Organization.objects.get_or_create(
                name=f"{ORG_PREFIX}{portal.COMPANIES[org_index]}",
                defaults={"tier": tier, "deployment": Deployment.SAAS},
            )
            for n in range(CONTACTS_PER_ORGANIZATION):
                user, _ = User.objects.get_or_create(
                    email=f"user{n:02}@org{org_index:02}.{EMAIL_DOMAIN}",
                    defaults={
                        "first_name": rng.choice(portal.FIRST_NAMES),
                        "last_name": rng.choice(portal.LAST_NAMES),
                    },
                )
                # Technical contacts may open tickets; only their own tickets mail
                # them, so one reply is one notification (to support).
                Contact.objects.get_or_create(
                    user=user,
                    defaults={
                        "organization": organization,
                        "is_technical_contact": True,
                        "training_completed": True,
                        "notify_organization_tickets": False,
                    },
                )
        for user in User.objects.filter(contact__organization=organization):
            ticket = services.ticket_create(
                requester=user,
                data=services.TicketInput(
                    subject=portal._fill(rng, rng.choice(portal.SYMPTOMS)),
                    description=portal._fill(
                        rng, rng.choice(portal.DESCRIPTION_TEMPLATES)
                    ),
                    priority=rng.choice([1, 2, 3, 3, 4]),
                    category=Category.BUG,
                    deployment=organization.deployment,
                ),
            )
            services.comment_create(
                ticket=ticket,
                author=staff,
                body=portal._fill(rng, rng.choice(portal.SUPPORT_REPLIES)),
                is_public=True,
            )
    EmailDelivery.objects.update(status=DeliveryStatus.SENT)
    return time.perf_counter() - started


def seeded_at() -> datetime:
    """When seeding ended: rows of a run are the ones younger than this."""
    from tickets.models import Comment

    last = (
        Comment.objects.filter(author__email=STAFF_EMAIL)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is None:
        raise RuntimeError("the ingest data set is missing")
    return last


def clean_up() -> None:
    """Remove what runs added (also an interrupted one's), keeping the seed."""
    from django.db import transaction

    from notifications.models import EmailDelivery, Event, InboundMessage
    from sla.models import ResponseClock
    from tickets.choices import CommentSource
    from tickets.models import Comment

    since = seeded_at()
    with transaction.atomic():
        InboundMessage.objects.all().delete()
        EmailDelivery.objects.filter(event=Event.CUSTOMER_REPLIED).delete()
        ResponseClock.objects.filter(started_at__gt=since).delete()
        Comment.objects.filter(source=CommentSource.EMAIL).delete()


@dataclass(frozen=True)
class Notification:
    """What a customer's mail client shows of support's answer, and replies to."""

    ticket_number: int
    sender_name: str
    sender_email: str
    subject: str
    reply_to: str
    message_id: str
    thread_id: str
    text: str
    html: str
    sent_at: datetime


def notifications() -> list[Notification]:
    """support's answer on every seeded ticket, as rendered for its requester."""
    from notifications.messages import build_message, ticket_thread_id
    from notifications.models import EmailDelivery, Event

    deliveries = (
        EmailDelivery.objects.filter(
            event=Event.SUPPORT_REPLIED,
            ticket__organization__name__startswith=ORG_PREFIX,
        )
        .select_related("recipient", "ticket")
        .order_by("ticket__number")
    )
    found = []
    for delivery in deliveries:
        message = build_message(delivery)
        html_body = next(
            (
                str(content)
                for content, mime in message.alternatives
                if mime == "text/html"
            ),
            "",
        )
        user = delivery.recipient
        found.append(
            Notification(
                ticket_number=delivery.ticket.number,
                sender_name=f"{user.first_name} {user.last_name}",
                sender_email=user.email,
                subject=message.subject,
                reply_to=message.reply_to[0],
                message_id=delivery.message_id,
                thread_id=ticket_thread_id(delivery.ticket),
                text=str(message.body),
                html=html_body,
                sent_at=delivery.created_at,
            )
        )
    return found


# --- replies ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    raw: bytes
    sender: str
    to: str
    message_id: str  # without angle brackets, as comments and inbound rows keep it
    expected: str  # the comment body the reply must produce (whitespace-folded)


def _fold(text: str) -> str:
    return " ".join(text.split())


def _quote(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.splitlines())


def _paragraphs_html(text: str) -> str:
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in block.splitlines()) + "</p>"
        for block in text.split("\n\n")
    )


def build_reply(
    notification: Notification, new_text: str, style: str, rng: random.Random
) -> Reply:
    """One customer reply to ``notification`` in a mail client's ``style``."""
    name, address = notification.sender_name, notification.sender_email
    company = address.split("@")[1].split(".")[0]
    when = notification.sent_at
    message = EmailMessage()
    message["From"] = f"{name} <{address}>"
    message["To"] = f"Scalr Support <{notification.reply_to}>"
    message["Subject"] = f"Re: {notification.subject}"
    message["Date"] = format_datetime(datetime.now(UTC))
    message_id = make_msgid(domain=f"mail.{company}.example.net")
    message["Message-ID"] = message_id
    message["In-Reply-To"] = notification.message_id
    message["References"] = f"{notification.thread_id} {notification.message_id}"
    message["MIME-Version"] = "1.0"
    attribution = (
        f"On {when:%a, %-d %b %Y} at {when:%H:%M}, Scalr Support "
        f"<support@{notification.reply_to.split('@')[1]}> wrote:"
    )
    signature = f"{name}\nPlatform team, {company}\n+1 555 01{rng.randint(10, 99)} 2233"
    if style == "gmail":
        text = f"{new_text}\n\n-- \n{signature}\n\n{attribution}\n\n"
        text += _quote(notification.text) + "\n"
        html_body = (
            f'<div dir="ltr">{_paragraphs_html(new_text)}<br>-- <br>'
            f'<div class="gmail_signature">{_paragraphs_html(signature)}</div></div>'
            f'<br><div class="gmail_quote"><div class="gmail_attr">'
            f"{html.escape(attribution)}<br></div>"
            f'<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;'
            f'border-left:1px #ccc solid;padding-left:1ex">{notification.html}'
            f"</blockquote></div>"
        )
        message.set_content(text)
        # HTML lines are long; clients encode them (SMTP allows 998 characters).
        message.add_alternative(html_body, subtype="html", cte="quoted-printable")
        expected = new_text
    elif style == "outlook":
        header = (
            f"From: Scalr Support <support@{notification.reply_to.split('@')[1]}>\n"
            f"Sent: {when:%A, %B %-d, %Y %-I:%M %p}\n"
            f"To: {name} <{address}>\n"
            f"Subject: {notification.subject}"
        )
        text = (
            f"{new_text}\n\nRegards,\n{name}\n\n"
            f"________________________________\n{header}\n\n{notification.text}\n"
        )
        html_body = (
            f"<html><head><style>p.MsoNormal{{margin:0}}</style></head><body>"
            f'<div class="WordSection1">{_paragraphs_html(new_text)}'
            f"<p>Regards,<br>{html.escape(name)}</p><div style='border:none;"
            f"border-top:solid #E1E1E1 1.0pt'><p>"
            + "<br>".join(html.escape(line) for line in header.splitlines())
            + f"</p></div>{notification.html}</div></body></html>"
        )
        message.set_content(text, charset="utf-8", cte="quoted-printable")
        message.add_alternative(html_body, subtype="html", cte="quoted-printable")
        expected = f"{new_text}\n\nRegards,\n{name}"
    elif style == "apple":
        text = (
            f"{new_text}\n\nSent from my iPhone\n\n> {attribution}\n> \n"
            + _quote(notification.text)
            + "\n"
        )
        message.set_content(text)
        expected = new_text
    else:  # an HTML-only client: new text, contact block, disclaimer, blockquote
        disclaimer = (
            "This e-mail and any attachments are confidential and intended solely "
            "for the addressee. If you are not the intended recipient, please "
            "delete it."
        )
        html_body = (
            f"<html><body>{_paragraphs_html(new_text)}"
            f"<p>{html.escape(name)}<br>+1 555 0100 2233<br>"
            f"https://www.{company}.example.net</p><p><small>{disclaimer}</small></p>"
            f'<hr><blockquote type="cite"><p>{html.escape(attribution)}</p>'
            f"{notification.html}</blockquote></body></html>"
        )
        message.set_content(html_body, subtype="html", cte="base64")
        expected = f"{new_text}\n\n{name}"  # a name is a sign-off, kept
    return Reply(
        raw=message.as_bytes(policy=SMTP_POLICY),  # CRLF, as on the wire
        sender=address,
        to=notification.reply_to,
        message_id=message_id.strip("<>"),
        expected=_fold(expected),
    )


def build_replies(
    pool: list[Notification], count: int, rng: random.Random, label: str
) -> list[Reply]:
    """``count`` replies, round-robin over the tickets (so over the senders)."""
    replies = []
    offset = rng.randrange(len(pool))
    for n in range(count):
        notification = pool[(offset + n) % len(pool)]
        new_text = portal._fill(rng, rng.choice(portal.CUSTOMER_REPLIES))
        new_text += f"\n\n({label} reply {n})"
        replies.append(build_reply(notification, new_text, STYLES[n % 4], rng))
    return replies


# --- transports ---------------------------------------------------------------------


def send_all(
    replies: Sequence[Reply],
    connections: int,
    open_session: Callable[[], Any],
    send: Callable[[Any, Reply], Any],
    close: Callable[[Any], None],
) -> list[str]:
    """Deliver the replies over ``connections`` parallel sessions; return errors.

    Each session takes the next message from a shared queue, so a slow answer holds
    up one connection, not the run.
    """
    pending: queue.SimpleQueue[Reply] = queue.SimpleQueue()
    for reply in replies:
        pending.put(reply)
    errors: list[str] = []
    lock = threading.Lock()

    def session() -> None:
        handle = None
        while True:
            try:
                reply = pending.get_nowait()
            except queue.Empty:
                break
            for attempt in range(3):
                try:
                    if handle is None:
                        handle = open_session()
                    send(handle, reply)
                    break
                except (OSError, smtplib.SMTPException, RuntimeError) as error:
                    if handle is not None:
                        with contextlib.suppress(OSError, smtplib.SMTPException):
                            close(handle)
                    handle = None
                    if attempt == 2:
                        with lock:
                            errors.append(f"{type(error).__name__}: {error}")
        if handle is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                close(handle)

    threads = [threading.Thread(target=session) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def smtp_sender(port: int) -> tuple[Callable[[], Any], Callable[[Any, Reply], Any]]:
    def open_session() -> smtplib.SMTP:
        return smtplib.SMTP(HOST, port, timeout=60)

    def send(client: smtplib.SMTP, reply: Reply) -> None:
        refused = client.sendmail(reply.sender, [reply.to], reply.raw)
        if refused:
            raise RuntimeError(f"refused: {refused}")

    return open_session, send


def webhook_sender(port: int) -> tuple[Callable[[], Any], Callable[[Any, Reply], Any]]:
    auth = base64.b64encode(WEBHOOK_SECRET.encode()).decode()
    headers = {
        "Authorization": f"Basic {auth}",
        "Content-Type": "application/json",
        "Connection": "keep-alive",
    }

    def open_session() -> http.client.HTTPConnection:
        return http.client.HTTPConnection(HOST, port, timeout=60)

    def send(connection: http.client.HTTPConnection, reply: Reply) -> None:
        # Postmark's inbound JSON with "Include raw email content" switched on.
        body = json.dumps(
            {
                "FromFull": {"Email": reply.sender, "Name": ""},
                "ToFull": [{"Email": reply.to, "Name": "Scalr Support"}],
                "OriginalRecipient": reply.to,
                "MessageID": str(uuid.uuid4()),
                "Headers": [{"Name": "Return-Path", "Value": f"<{reply.sender}>"}],
                "RawEmail": reply.raw.decode("ascii"),
            }
        )
        connection.request("POST", "/anymail/postmark/inbound/", body, headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"webhook answered {response.status}")
        if response.getheader("Connection", "").lower() == "close":
            connection.close()  # http.client reconnects on the next request

    return open_session, send


def close_session(handle: Any) -> None:
    if isinstance(handle, smtplib.SMTP):
        handle.quit()
    else:
        handle.close()


# --- a phase ------------------------------------------------------------------------


class PeakRss(threading.Thread):
    """The largest RSS of a process tree seen while running (every 0.1 s)."""

    def __init__(self, pids: Callable[[], list[int]]) -> None:
        super().__init__(daemon=True)
        self._pids = pids
        self.peak_kib = 0
        self.first_kib = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            current = rss_kib(self._pids())
            self.first_kib = self.first_kib or current
            self.peak_kib = max(self.peak_kib, current)
            self._halt.wait(0.1)

    def stop(self) -> None:
        self._halt.set()
        self.join()


@dataclass
class PhaseResult:
    transport: str
    concurrency: int
    messages: int
    send_seconds: float = 0.0
    complete_seconds: float = 0.0
    comments: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    text_matches: int = 0
    worker_cpu_seconds: float | None = None
    peak_rss_kib: int = 0
    idle_rss_kib: int = 0
    notifications_sent: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.comments / self.complete_seconds if self.complete_seconds else 0.0

    @property
    def complete(self) -> bool:
        return self.comments == self.messages and not self.errors


def wait_for_comments(
    replies: Sequence[Reply], deadline: float
) -> tuple[int, dict[str, int]]:
    """Poll until every reply is a comment, or was refused, or the deadline passes.

    Returns (comments, refused reasons). A refused message (quarantined, ignored)
    ends the wait early instead of waiting for a comment that will never come.
    """
    from django.db.models import Count

    from notifications.models import InboundMessage, InboundStatus
    from tickets.models import Comment

    ids = [reply.message_id for reply in replies]
    refused: dict[str, int] = {}
    while True:
        comments = Comment.objects.filter(email_message_id__in=ids).count()
        if comments < len(ids):
            refused = dict(
                InboundMessage.objects.filter(message_id__in=ids)
                .exclude(status__in=[InboundStatus.RECEIVED, InboundStatus.PROCESSED])
                .values_list("reason")
                .annotate(n=Count("pk"))
                .values_list("reason", "n")
            )
        if comments + sum(refused.values()) >= len(ids) or time.monotonic() > deadline:
            return comments, refused
        time.sleep(0.05)


def text_matches(replies: Sequence[Reply]) -> int:
    """How many comments hold exactly the reply's new text (whitespace-folded)."""
    from tickets.models import Comment

    bodies = dict(
        Comment.objects.filter(
            email_message_id__in=[reply.message_id for reply in replies]
        ).values_list("email_message_id", "body")
    )
    return sum(
        1
        for reply in replies
        if _fold(bodies.get(reply.message_id, "")) == reply.expected
    )


def start_worker(env: dict[str, str], concurrency: int, log: Path) -> BackgroundProcess:
    worker = BackgroundProcess(
        f"celery worker (concurrency {concurrency})",
        [
            venv_tool("celery"),
            "-A",
            "scalr_support",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env,
        log,
    )
    worker.wait_for("ready.")
    return worker


def run_phase(
    transport: str,
    concurrency: int,
    env: dict[str, str],
    port: int,
    warmup: list[Reply],
    replies: list[Reply],
    connections: int,
    sink: MailSink,
    work: Path,
) -> PhaseResult:
    """A fresh worker, a warm-up, then the measured messages until all are comments."""
    from django.db import connection

    result = PhaseResult(transport, concurrency, len(replies))
    open_session, send = (smtp_sender if transport == "smtp" else webhook_sender)(port)
    log = work / f"worker-{transport}-{concurrency}.log"
    worker = start_worker(env, concurrency, log)
    try:
        errors = send_all(warmup, connections, open_session, send, close_session)
        done, refused = wait_for_comments(warmup, time.monotonic() + 120)
        if errors or done < len(warmup):
            raise RuntimeError(
                f"warm-up failed: {done}/{len(warmup)} comments, {refused}, "
                f"{errors[:3]}\n{worker.tail()}"
            )
        time.sleep(1)  # the warm-up's notifications leave the queue
        meter = CpuMeter(worker.pids)
        sampler = PeakRss(worker.pids)
        sampler.start()
        sent_before = sink.count
        cpu_before = meter.sample()
        started = time.perf_counter()
        result.errors = send_all(
            replies, connections, open_session, send, close_session
        )
        result.send_seconds = time.perf_counter() - started
        result.comments, result.refused = wait_for_comments(
            replies, time.monotonic() + COMPLETION_TIMEOUT
        )
        result.complete_seconds = time.perf_counter() - started
        result.worker_cpu_seconds = meter.since(cpu_before)
        sampler.stop()
        result.notifications_sent = sink.count - sent_before
        result.peak_rss_kib, result.idle_rss_kib = sampler.peak_kib, sampler.first_kib
        result.text_matches = text_matches(replies)
    finally:
        worker.stop()
        connection.close()
    return result


# --- report -------------------------------------------------------------------------


def format_results(results: Sequence[PhaseResult]) -> str:
    header = (
        f"{'transport':<10}{'worker':<13}{'msgs':>6}{'send s':>8}"
        f"{'all comments s':>16}{'msg/s':>8}{'CPU ms/msg':>12}"
        f"{'peak RSS MiB':>14}{'idle RSS MiB':>14}{'text ok':>11}{'mails out':>11}"
    )
    rows = [header, "-" * len(header)]
    for r in results:
        cpu = (
            "n/a"
            if r.worker_cpu_seconds is None or not r.comments
            else f"{1000 * r.worker_cpu_seconds / r.comments:.1f}"
        )
        rows.append(
            f"{r.transport:<10}{f'prefork x{r.concurrency}':<13}{r.messages:>6}"
            f"{r.send_seconds:>8.1f}{r.complete_seconds:>16.1f}{r.rate:>8.1f}"
            f"{cpu:>12}{r.peak_rss_kib / 1024:>14.0f}{r.idle_rss_kib / 1024:>14.0f}"
            f"{f'{r.text_matches}/{r.messages}':>11}{r.notifications_sent:>11}"
        )
    return "\n".join(rows)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--concurrency",
        default="1,2",
        help="worker pool sizes to run, comma-separated; the target is judged on 1",
    )
    parser.add_argument(
        "--connections", type=int, default=4, help="parallel SMTP/HTTP sessions"
    )
    parser.add_argument(
        "--transports", default="smtp,webhook", help="comma-separated: smtp,webhook"
    )
    args = parser.parse_args(argv)
    args.concurrency = [int(value) for value in args.concurrency.split(",") if value]
    args.transports = [value for value in args.transports.split(",") if value]
    if (
        args.messages < 1
        or args.warmup < 1
        or not args.concurrency
        or min(args.concurrency) < 1
        or set(args.transports) - {"smtp", "webhook"}
    ):
        parser.error("need --messages >= 1, --warmup >= 1, pools >= 1, smtp/webhook")
    senders = ORGANIZATIONS * CONTACTS_PER_ORGANIZATION
    per_sender = (
        (args.messages + args.warmup)
        * len(args.concurrency)
        * len(args.transports)
        / senders
    )
    if per_sender > 18:  # the product's limit is 20 per sender in 10 minutes
        parser.error(
            f"{per_sender:.0f} messages per sender would hit the sender rate limit"
        )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    database_url = os.environ.get("INGEST_DATABASE_URL", DEFAULT_DATABASE_URL)
    print(f"command: {command_line()}")
    print(f"database: {database_url}")
    reference = host_reference_ms()
    print(
        f"host reference: {reference:.0f} ms CPU (a fixed stdlib workload; lower "
        "is faster)"
    )
    work = Path(tempfile.mkdtemp(prefix="scalr-ingest-"))
    redis = RedisServer(work)
    sink = MailSink()
    env = portal.bench_env(database_url)
    env.update(
        REDIS_URL=redis.url,
        CELERY_BROKER_URL=redis.url,
        EMAIL_URL=f"smtp://{HOST}:{sink.port}",
        ANYMAIL_WEBHOOK_SECRET=WEBHOOK_SECRET,
        SUPPORT_EMAIL_DOMAIN="support.example.com",
        MEDIA_ROOT=str(work / "media"),
        LOG_LEVEL="WARNING",
    )
    receiver: BackgroundProcess | None = None
    web: Gunicorn | None = None
    results: list[PhaseResult] = []
    try:
        portal.ensure_database(database_url)
        step = time.perf_counter()
        manage("migrate", "--noinput", "-v0", env=env)
        print(f"migrate: {time.perf_counter() - step:.1f} s")
        # This process only writes rows and renders mail; it publishes nothing.
        portal.setup_django(env)
        from django.db import connection

        seconds = seed()
        tickets = ORGANIZATIONS * CONTACTS_PER_ORGANIZATION
        print(
            f"seed: {ORGANIZATIONS} organisations, {tickets} contacts, {tickets} "
            "tickets answered by support"
            + (" (present)" if seconds is None else f" in {seconds:.1f} s")
        )
        clean_up()
        step = time.perf_counter()
        pool = notifications()
        rng = random.Random(SEED)
        plans: dict[tuple[str, int], tuple[list[Reply], list[Reply]]] = {}
        for concurrency in args.concurrency:
            for transport in args.transports:
                label = f"{transport}-x{concurrency}"
                plans[transport, concurrency] = (
                    build_replies(pool, args.warmup, rng, f"{label} warm-up"),
                    build_replies(pool, args.messages, rng, label),
                )
        sample = plans[args.transports[0], args.concurrency[0]][1]
        size = sum(len(reply.raw) for reply in sample) / len(sample)
        print(
            f"replies: {len(plans)} x ({args.warmup} + {args.messages}) built in "
            f"{time.perf_counter() - step:.1f} s; average {size / 1024:.1f} KB, "
            f"styles {', '.join(STYLES)}"
        )
        connection.close()

        if "smtp" in args.transports:
            smtp_port = free_port()
            receiver = BackgroundProcess(
                "receive_mail",
                [venv_python(), "manage.py", "receive_mail", "--port", str(smtp_port)],
                env,
                work / "receiver.log",
            )
            receiver.wait_for_port(smtp_port)
        if "webhook" in args.transports:
            web = Gunicorn(
                env,
                workers=2,
                extra_args=["--threads", "4", "--keep-alive", "10"],
                ready_path="/healthz",
            )
            web.start()
        print(
            f"receivers: SMTP {'on :' + str(smtp_port) if receiver else 'off'}, "
            f"webhook {'gunicorn 2x4 on :' + str(web.port) if web else 'off'}; "
            f"{args.connections} client connections; {os.cpu_count()} CPUs, load "
            f"average {os.getloadavg()[0]:.2f}"
        )
        for concurrency in args.concurrency:
            for transport in args.transports:
                port = smtp_port if transport == "smtp" else web.port  # type: ignore[union-attr]
                warmup, replies = plans[transport, concurrency]
                result = run_phase(
                    transport,
                    concurrency,
                    env,
                    port,
                    warmup,
                    replies,
                    args.connections,
                    sink,
                    work,
                )
                results.append(result)
                print(
                    f"  {transport} x{concurrency}: {result.comments}/"
                    f"{result.messages} comments in {result.complete_seconds:.1f} s "
                    f"= {result.rate:.1f} msg/s",
                    flush=True,
                )
        clean_up()
        connection.close()
    finally:
        if receiver is not None:
            receiver.stop()
        if web is not None:
            web.stop()
        sink.stop()
        redis.stop()

    print()
    print(
        f"one Celery worker (prefork, N pool processes), {args.connections} client "
        f"connections, {os.cpu_count()} CPUs shared by clients, receivers, worker "
        f"and PostgreSQL; host load average {os.getloadavg()[0]:.2f} after; host "
        f"reference {reference:.0f} ms (compare CPU ms/msg across runs next to it)"
    )
    print(
        "all comments s = first send until the last comment exists; msg/s = "
        "messages / that; CPU ms/msg = worker tree CPU (inbound processing and "
        "the support notification each reply causes)"
    )
    print(format_results(results))
    failures = []
    for result in results:
        name = f"{result.transport} x{result.concurrency}"
        for reason, count in result.refused.items():
            print(f"  {name}: {count} x refused: {reason}")
        for error in result.errors[:5]:
            print(f"  {name}: {error}")
        if not result.complete:
            failures.append(f"{name}: {result.comments}/{result.messages} comments")
        if result.text_matches < result.messages:
            failures.append(
                f"{name}: {result.messages - result.text_matches} comments "
                "differ from the reply's new text"
            )
        if result.concurrency == 1 and result.rate < TARGET_MSG_PER_S:
            failures.append(f"{name}: {result.rate:.1f} msg/s < {TARGET_MSG_PER_S:.0f}")
    shutil.rmtree(work, ignore_errors=True)
    return verdict(failures)


if __name__ == "__main__":
    run_main(main)
