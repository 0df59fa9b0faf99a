"""The inbound email pipeline: store first, then process once.

Both transports (SMTP and the ESP webhooks) call ``inbound_store`` (``store``) and
answer the sender only after it returns, so an accepted message is always in
PostgreSQL. ``inbound_process`` (``processing``) runs in a task; a message is
processed in one transaction with its row locked, so a killed worker leaves it
untouched for the next try, and the unique Message-ID on comments makes duplicate
deliveries one comment. ``screening`` holds the rules that read other rows, for a
message alone and for a batch (``notifications.inbound_batches``); ``apply``
writes the comment or ticket; ``requeue`` puts messages back in the queue.
"""

from .apply import REOPEN_WINDOW, message_apply
from .processing import MAX_ATTEMPTS, evidence_of, inbound_process
from .requeue import inbound_reprocess, inbound_sweep
from .screening import (
    SENDER_RATE_LIMIT,
    SENDER_RATE_WINDOW,
    Screening,
    messages_screen,
)
from .store import QUEUED_MARK, MessageTooLarge, inbound_store

__all__ = [
    "MAX_ATTEMPTS",
    "QUEUED_MARK",
    "REOPEN_WINDOW",
    "SENDER_RATE_LIMIT",
    "SENDER_RATE_WINDOW",
    "MessageTooLarge",
    "Screening",
    "evidence_of",
    "inbound_process",
    "inbound_reprocess",
    "inbound_store",
    "inbound_sweep",
    "message_apply",
    "messages_screen",
]
