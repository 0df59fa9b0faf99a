"""Scripted faults inside the rig's own processes (installed by ``settings.py``).

Everything here is off unless an environment variable of the process turns it on:

- ``FAULTS_STATE_DIR``: where the hooks leave their marks (required by the rest).
- Poison: an inbound message carrying the header ``X-Faults-Poison: kill`` makes the
  worker process that parses it SIGKILL itself, every time (a message that kills
  its worker).
- Provider retries: the first delivery of a webhook message carrying
  ``X-Faults-Fail-First: <key>`` fails inside our handler, after the message was
  stored (the worst place: the provider retries something we already have).
- ``FAULTS_PHASE_DELAY``: seconds to linger in each phase of the task the test
  aims at (``FAULTS_STATE_DIR/target.json``: a task name, and its arguments or
  null for any), so that a kill can be aimed at a phase: *before* the side effect
  (task started, nothing written), *during* it (inside the transaction that writes
  it, or the SMTP conversation) and *after* it (committed, message not yet
  acknowledged). Each phase is announced in ``FAULTS_STATE_DIR/phases.jsonl`` as
  it starts. Other tasks run at full speed.
- ``FAULTS_SLACK_BACKOFF``: the first Slack retry delay in seconds (5 in the
  product), doubling up to 8 times that: time scaled for the Slack scenario.
"""

import functools
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from django.apps import AppConfig

POISON = b"X-Faults-Poison: kill"
FAIL_FIRST = "X-Faults-Fail-First"


class InjectedFailure(RuntimeError):
    """Raised where the script says our own code fails."""


def _state_dir() -> Path | None:
    value = os.environ.get("FAULTS_STATE_DIR")
    return Path(value) if value else None


def _phase_delay() -> float:
    return float(os.environ.get("FAULTS_PHASE_DELAY", "0") or 0)


def _targeted(task: str, args: list[Any]) -> bool:
    state = _state_dir()
    if state is None or not _phase_delay():
        return False
    try:
        target = json.loads((state / "target.json").read_text() or "{}")
    except (OSError, ValueError):
        return False
    return target.get("task") == task and target.get("args") in (None, args)


_current: dict[str, Any] = {}


def mark(phase: str, **detail: Any) -> None:
    """Announce a phase (one JSON line) and linger in it."""
    state = _state_dir()
    delay = _phase_delay()
    if state is None or not _current:
        return
    line = json.dumps(
        {"phase": phase, "pid": os.getpid(), "t": time.time(), **_current, **detail}
    )
    fd = os.open(state / "phases.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)
    if delay:
        time.sleep(delay)


def _task_prerun(sender: Any = None, task_id: str = "", **kwargs: Any) -> None:
    _current.clear()
    args = list(kwargs.get("args") or [])
    if sender is not None and _targeted(sender.name, args):
        _current.update(task=sender.name, id=task_id, args=args)
        mark("before")


def _task_postrun(**kwargs: Any) -> None:
    if _current:
        mark("after")
    _current.clear()


def _poisonous(raw: bytes) -> bool:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    return POISON in head


def _wrap_parse(original: Any) -> Any:
    @functools.wraps(original)
    def parse_message(raw: bytes, *args: Any, **kwargs: Any) -> Any:
        if _poisonous(raw):
            os.kill(os.getpid(), signal.SIGKILL)
        mark("during")
        return original(raw, *args, **kwargs)

    return parse_message


def _wrap_mark_recorded(original: Any) -> Any:
    @functools.wraps(original)
    def mark_recorded(rows: Any, *args: Any, **kwargs: Any) -> Any:
        if rows:
            mark("during")
        return original(rows, *args, **kwargs)

    return mark_recorded


def _wrap_send(original: Any) -> Any:
    """Mail's side effect is the SMTP conversation: 'during' starts before it."""

    @functools.wraps(original)
    def send_messages(self: Any, messages: Any) -> Any:
        mark("during")
        return original(self, messages)

    return send_messages


def _fail_first_delivery(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    """Runs after the product's own receiver (which stored the message)."""
    message = event.message
    state = _state_dir()
    if message is None or state is None:
        return
    key = message.get(FAIL_FIRST)
    if not key:
        return
    try:
        fd = os.open(state / f"fail-first-{key}", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        return
    os.close(fd)
    raise InjectedFailure(f"injected failure for the first delivery of {key}")


class FaultInjectorConfig(AppConfig):
    name = "tests.faults"
    label = "faults_injector"
    verbose_name = "Fault injection (test rig only)"

    def ready(self) -> None:
        from anymail.signals import inbound
        from celery.signals import task_postrun, task_prerun
        from django.core.mail.backends import smtp

        import notifications.parsing
        import sla.services.sweep

        if backoff := os.environ.get("FAULTS_SLACK_BACKOFF"):
            # Time, scaled: Slack retries 5 s, 10 s, 20 s ... apart become this.
            import maintenance.services.announcements
            from scalr_support.common.retry import Backoff

            maintenance.services.announcements.SLACK_BACKOFF = Backoff(
                first=float(backoff), cap=8 * float(backoff)
            )
        notifications.parsing.parse_message = _wrap_parse(
            notifications.parsing.parse_message
        )
        sla.services.sweep._mark_recorded = _wrap_mark_recorded(
            sla.services.sweep._mark_recorded
        )
        smtp.EmailBackend.send_messages = _wrap_send(smtp.EmailBackend.send_messages)
        task_prerun.connect(_task_prerun, weak=False)
        task_postrun.connect(_task_postrun, weak=False)
        inbound.connect(_fail_first_delivery, weak=False, dispatch_uid="faults.fail")
