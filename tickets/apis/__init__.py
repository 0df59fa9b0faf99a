"""The REST API for tickets, comments, attachments, tiers and priorities.

One view class per operation, each with its own nested input serializer; views parse,
call one selector or service, and shape the output. Every ticket is fetched through
the selector gate (``selectors.ticket_get_for_user``), so another organisation's
ticket answers 404 here exactly as in the portal. Where CONTRACT.md puts two
operations on one URL (``GET, POST /tickets/``), a small class joins the two
operation classes for the router.

Errors are mapped once, in ``scalr_support.common.api``.
"""

from .attachments import AttachmentCollectionApi, AttachmentDownloadApi
from .comments import CommentCollectionApi
from .policy import PriorityListApi, TierListApi
from .tickets import TicketCollectionApi, TicketResourceApi

__all__ = [
    "AttachmentCollectionApi",
    "AttachmentDownloadApi",
    "CommentCollectionApi",
    "PriorityListApi",
    "TicketCollectionApi",
    "TicketResourceApi",
    "TierListApi",
]
