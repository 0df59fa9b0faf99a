"""REST API under load: list and create tickets against a trivial DRF view.

Run from the repository root (``make bench`` runs it through run_all.py)::

    python benchmarks/api.py [--tickets 50000] [--duration 15] [--concurrency 8]

It reuses the portal benchmark's data set (``benchmarks/portal.py``: the seeded
``scalr_support_bench`` database, or BENCH_DATABASE_URL), gives one technical
contact an API token, starts gunicorn with the production settings on a loopback
port and measures requests/s and p50/p95/p99 latency of

- ``GET /api/v1/tickets/``: a page of 50 of the organisation's tickets (first and
  second page, by cursor), token-authenticated;
- ``POST /api/v1/tickets/``: a JSON ticket, through ``tickets.services.ticket_create``
  (number, SLA clock, notifications outbox) in its transaction;
- ``GET /__bench__/api-ceiling/``: the same authentication, throttles and JSON
  renderer with no ticket queries: the ceiling.

Throttle rates are raised for the run (the throttles still run, against Redis).
Tickets it creates are deleted afterwards, so the portal benchmark's data set is
left as it found it. The exit status is non-zero if a response had an unexpected
status.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence

import portal
from _common import (
    HOST,
    CpuMeter,
    Gunicorn,
    LoadResult,
    command_line,
    format_table,
    postgres_backend_pids,
    run_main,
    run_requests,
)

NEW_TICKET = {
    "subject": "Benchmark: runs stuck in pending",
    "description": "Opened by benchmarks/api.py.\n\nSteps:\n\n1. Queue a run\n2. Wait",
    "priority": 3,
    "category": "bug",
}


def api_env(database_url: str) -> dict[str, str]:
    """The portal benchmark's environment, with throttles out of the way."""
    env = portal.bench_env(database_url)
    env.update(
        API_THROTTLE_USER="100000000/min",
        API_THROTTLE_ANON="100000000/min",
        # Task messages (notifications of the new tickets) wait in a Redis
        # database of their own that no worker reads (production refuses memory://).
        CELERY_BROKER_URL=env["REDIS_URL"].rsplit("/", 1)[0] + "/12",
    )
    return env


def raw_request(
    port: int, method: str, path: str, token: str, body: bytes = b""
) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {HOST}:{port}",
        "User-Agent: scalr-support-bench",
        "Accept: application/json",
        "Accept-Encoding: identity",
        "Connection: keep-alive",
        f"Authorization: Token {token}",
    ]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _get_json(port: int, path: str, token: str) -> tuple[int, dict]:
    import http.client

    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request("GET", path, headers={"Authorization": f"Token {token}"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args(argv)
    if args.tickets < portal.ORGANIZATIONS or args.rounds < 1:
        parser.error("need --tickets >= 20 and --rounds >= 1")
    return args


def clean_up(ticket_count: int, token_id: int | None) -> int:
    """Delete the tickets the POSTs made and the token; restore the counter."""
    from django.db import transaction

    from scalr_support.accounts.models import ApiToken
    from tickets.models import Ticket, TicketCounter

    with transaction.atomic():
        created = Ticket.objects.filter(number__gt=ticket_count)
        count = created.count()
        created.delete()
        TicketCounter.objects.filter(pk=1).update(value=ticket_count)
        if token_id is not None:
            ApiToken.objects.filter(pk=token_id).delete()
    return count


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    database_url = os.environ.get("BENCH_DATABASE_URL", portal.DEFAULT_DATABASE_URL)
    env = api_env(database_url)
    print(f"command: {command_line()}")
    print(f"database: {database_url}")

    portal.ensure_database(database_url)
    step = time.perf_counter()
    portal.manage("migrate", "--noinput", "-v0", env=env)
    portal.manage("collectstatic", "--noinput", "-v0", env=env)
    print(f"migrate + collectstatic: {time.perf_counter() - step:.1f} s")

    portal.setup_django(env)
    from django.db import connection

    from scalr_support.accounts.services import api_token_create
    from tickets import selectors

    clean_up(args.tickets, None)  # a run that was interrupted left its tickets
    seconds = portal.seed(args.tickets)
    print(
        "seed: already present (skipped)"
        if seconds is None
        else f"seed: {args.tickets:,} tickets in {seconds:.1f} s"
    )
    user, _session = portal.sign_in()
    issued = api_token_create(user=user, name="benchmarks/api.py")
    visible = selectors.tickets_visible_to(user).count()
    connection.close()  # gunicorn's workers open their own connections
    print(f"token for: {user.email} ({visible:,} tickets visible)")

    ok = True
    try:
        with Gunicorn(env, workers=args.workers, ready_path="/accounts/login/") as srv:
            port, key = srv.port, issued.key
            status, first = _get_json(port, "/api/v1/tickets/", key)
            if status != 200 or len(first.get("results", [])) != 50:
                raise RuntimeError(f"GET /api/v1/tickets/ answered {status}")
            second_path = first["next"].split(f"{port}", 1)[1]
            body = json.dumps(NEW_TICKET).encode()
            pages: dict[str, tuple[list[bytes], int]] = {
                "ceiling": (
                    [raw_request(port, "GET", "/__bench__/api-ceiling/", key)],
                    200,
                ),
                "GET tickets": (
                    [
                        raw_request(port, "GET", "/api/v1/tickets/", key),
                        raw_request(port, "GET", second_path, key),
                    ],
                    200,
                ),
                "POST tickets": (
                    [raw_request(port, "POST", "/api/v1/tickets/", key, body)],
                    201,
                ),
            }
            print(f"gunicorn: {args.workers} workers on 127.0.0.1:{port}")
            meter = CpuMeter(
                lambda: [*srv.pids(), *postgres_backend_pids(database_url)]
            )
            merged: dict[str, LoadResult] = {}
            load_before = os.getloadavg()[0]
            for round_index in range(args.rounds):
                for name, (requests, ok_status) in pages.items():
                    before = meter.sample()
                    result = run_requests(
                        name,
                        port,
                        requests,
                        duration=args.duration / args.rounds,
                        warmup=args.warmup if round_index == 0 else 0.5,
                        concurrency=args.concurrency,
                        ok_status=ok_status,
                    )
                    result.server_cpu_seconds = meter.since(before)
                    merged[name] = (
                        merged[name].merge(result) if name in merged else result
                    )
            results = list(merged.values())
    finally:
        removed = clean_up(args.tickets, issued.token.pk)
        connection.close()

    print()
    print(
        f"{args.concurrency} connections, gunicorn {args.workers} sync workers, "
        f"{args.duration:g} s measured per endpoint in {args.rounds} interleaved "
        f"rounds (after {args.warmup:g} s warm-up); host load average "
        f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after, "
        f"{os.cpu_count()} CPUs"
    )
    print("server CPU = gunicorn workers + their PostgreSQL backends")
    print(format_table(results))
    for result in results:
        for error, count in result.errors.most_common():
            print(f"  {result.name}: {count} x {error}")
            ok = False
    ceiling = results[0]
    print()
    for result in results[1:]:
        ratio = result.rps / ceiling.rps if ceiling.rps else 0.0
        print(
            f"{result.name} / ceiling: {result.rps:.1f} / {ceiling.rps:.1f} req/s "
            f"= {ratio:.0%}; p95 {result.p(0.95):.1f} ms"
        )
    print(f"cleaned up: {removed:,} tickets created by the POST run")
    return 0 if ok else 1


if __name__ == "__main__":
    run_main(main)
