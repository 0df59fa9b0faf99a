"""The hook point through which a lower app tells higher apps what happened.

The core apps (accounts, tickets) may not import the apps that react to them
(sla, notifications): the layers point one way. So the core publishes a typed,
frozen event and the reacting app subscribes a handler in its ``AppConfig.ready``.

Handlers run synchronously, in the publisher's transaction, in a fixed order:
by ``stage`` (state first, then notifications), then in the order they were
subscribed. So the SLA clock is set before the notification that shows its due
time is written, and a handler that raises rolls the publisher's write back, as
a direct call would. A handler with an outside effect (a task, a mail) defers
it with ``transaction.on_commit`` itself.

``batch()`` groups the events of one user action: every registered batch
context (notifications combines mail per recipient) is entered around it.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, is_dataclass
from typing import Any, TypeVar


class Event:
    """Base of every published event; subclasses are frozen dataclasses."""


E = TypeVar("E", bound=Event)
Handler = Callable[[E], None]
BatchContext = Callable[[], contextlib.AbstractContextManager[Any]]


class Stage(enum.IntEnum):
    """When a handler runs relative to the others of the same event."""

    STATE = 10  # keeps derived state current (the SLA clocks)
    NOTIFY = 20  # tells people; reads the state the earlier stage set


@dataclass
class _Subscription:
    stage: Stage
    sequence: int
    handler: Callable[[Any], None] = field(compare=False)


_handlers: dict[type[Event], list[_Subscription]] = {}
_batch_contexts: list[BatchContext] = []
_sequence = iter(range(1_000_000_000))


def subscribe(
    event_type: type[E], handler: Callable[[E], None], *, stage: Stage = Stage.NOTIFY
) -> None:
    """Run ``handler`` for every published ``event_type``.

    Subscribing the same handler to the same event again is ignored, so an
    ``AppConfig.ready`` that runs twice does not make it run twice.
    """
    if not (isinstance(event_type, type) and issubclass(event_type, Event)):
        raise TypeError(f"{event_type!r} is not an Event subclass")
    if not is_dataclass(event_type):
        raise TypeError(f"{event_type.__name__} must be a frozen dataclass")
    subscriptions = _handlers.setdefault(event_type, [])
    if any(s.handler == handler for s in subscriptions):
        return
    subscriptions.append(_Subscription(stage, next(_sequence), handler))
    subscriptions.sort(key=lambda s: (s.stage, s.sequence))


def unsubscribe(event_type: type[E], handler: Callable[[E], None]) -> None:
    """Stop running ``handler`` (for tests that subscribe one for a while)."""
    _handlers[event_type] = [
        s for s in _handlers.get(event_type, []) if s.handler != handler
    ]


def handlers_of(event_type: type[Event]) -> list[Callable[[Any], None]]:
    """The handlers of ``event_type``, in the order ``publish`` runs them."""
    return [s.handler for s in _handlers.get(event_type, [])]


def publish(event: Event) -> None:
    """Run the event's handlers now, in order; an exception propagates."""
    for subscription in list(_handlers.get(type(event), [])):
        subscription.handler(event)


def batch_context_register(context: BatchContext) -> None:
    """Enter ``context()`` around every ``batch()`` (once per registration)."""
    if context not in _batch_contexts:
        _batch_contexts.append(context)


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Mark the events published inside as one action (one mail per recipient)."""
    with contextlib.ExitStack() as stack:
        for context in list(_batch_contexts):
            stack.enter_context(context())
        yield
