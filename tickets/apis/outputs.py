"""Output serializers shared by the ticket, comment and attachment endpoints."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import parsers, serializers
from rest_framework.request import Request

from scalr_support.common.api import SafeJSONParser
from tickets import selectors
from tickets.choices import (  # noqa: F401  (the limits, for the API modules)
    REASON_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    Category,
    CommentSource,
    Deployment,
)
from tickets.choices import Priority as PriorityChoice
from tickets.choices import Status as StatusChoice
from tickets.models import Attachment, Ticket

SLA_STATES = ("on_track", "at_risk", "breached", "met", "best_effort")
JSON_AND_FILES = (SafeJSONParser, parsers.MultiPartParser)


def _scratch(context: Mapping[str, Any]) -> dict[str, Any]:
    """The serializer context as the per-response cache it is (a dict)."""
    return cast(dict[str, Any], context)


@dataclass(frozen=True)
class SlaSnapshot:
    """A ticket's SLA as the API reports it, read in one place.

    The SLA engine (``sla/``) owns these fields and the state rules; the API only
    reads them here, so a change there touches this function, not the serializers.
    """

    first_response_due_at: datetime | None
    first_responded_at: datetime | None
    sla_state: str | None


def sla_snapshot(ticket: Ticket, now: datetime) -> SlaSnapshot:
    return SlaSnapshot(
        first_response_due_at=ticket.first_response_due_at,
        first_responded_at=ticket.first_responded_at,
        sla_state=ticket.sla_state_at(now),
    )


NULLABLE_DATETIME = {"type": "string", "format": "date-time", "nullable": True}


def _datetime(value: datetime | None) -> str | None:
    """Format like every other datetime field of the API."""
    return (
        None if value is None else serializers.DateTimeField().to_representation(value)
    )


@extend_schema_serializer(component_name="Person")
class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="display_name", read_only=True)
    email = serializers.EmailField(read_only=True)


@extend_schema_serializer(component_name="Author")
class AuthorSerializer(serializers.Serializer):
    """Who wrote a comment; support staff are named, their addresses are not."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="display_name", read_only=True)
    is_support = serializers.BooleanField(source="is_staff", read_only=True)


@extend_schema_serializer(component_name="OrganizationRef")
class OrganizationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


@extend_schema_serializer(component_name="Attachment")
class AttachmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    filename = serializers.CharField(
        read_only=True, help_text=_("The name the uploader gave (display only).")
    )
    content_type = serializers.CharField(
        read_only=True, help_text=_("Guessed from the name; active types are bytes.")
    )
    size = serializers.IntegerField(read_only=True, help_text=_("Bytes."))
    sha256 = serializers.CharField(read_only=True)
    comment = serializers.IntegerField(
        source="comment_id",
        read_only=True,
        allow_null=True,
        help_text=_("The comment it belongs to; null for the ticket's own files."),
    )
    created_at = serializers.DateTimeField(read_only=True)
    download_url = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, attachment: Attachment) -> str:
        request = self.context["request"]
        return request.build_absolute_uri(
            reverse(
                "api:attachment",
                args=[self.context["ticket_number"], attachment.pk],
            )
        )


@extend_schema_serializer(component_name="PriorityChange")
class PriorityChangeOutputSerializer(serializers.Serializer):
    from_priority = serializers.IntegerField(read_only=True)
    to_priority = serializers.IntegerField(read_only=True)
    reason = serializers.CharField(
        read_only=True, help_text=_("Why support changed it; the customer sees it.")
    )
    changed_by = AuthorSerializer(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


@extend_schema_serializer(component_name="Ticket")
class TicketOutputSerializer(serializers.Serializer):
    """A ticket as its reader may see it; ``assignee`` is sent to staff only."""

    number = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField()
    portal_url = serializers.SerializerMethodField()
    subject = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True, help_text=_("Markdown."))
    description_html = serializers.CharField(
        read_only=True, help_text=_("The description rendered and sanitised.")
    )
    priority = serializers.IntegerField(
        read_only=True, help_text=_("0 (P0 Blocker, most urgent) to 4 (P4 Trivial).")
    )
    priority_label = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=StatusChoice.choices, read_only=True)
    status_label = serializers.SerializerMethodField()
    category = serializers.ChoiceField(choices=Category.choices, read_only=True)
    deployment = serializers.ChoiceField(choices=Deployment.choices, read_only=True)
    version_reported = serializers.CharField(read_only=True)
    organization = OrganizationRefSerializer(read_only=True)
    requester = PersonSerializer(read_only=True)
    # Not read_only: an output-only serializer, and read-only fields are documented
    # as always present, which this one is not (customers never receive it).
    assignee = PersonSerializer(
        allow_null=True,
        required=False,
        help_text=_("Staff only: the support engineer working on it."),
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(
        read_only=True,
        help_text=_(
            "The last change. Customers see the last change they can see (as "
            "`last_activity_at`): internal notes and assignments do not move it."
        ),
    )
    last_activity_at = serializers.DateTimeField(
        read_only=True, help_text=_("The last public change; lists sort by it.")
    )
    solved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    first_response_due_at = serializers.SerializerMethodField(
        help_text=_(
            "When support's first response is due under the ticket's target "
            "(recomputed when the priority changes); null until a clock starts."
        )
    )
    first_responded_at = serializers.SerializerMethodField(
        help_text=_("When support first answered publicly; null until then.")
    )
    sla_state = serializers.SerializerMethodField(
        help_text=_(
            "on_track, at_risk, breached or met against the current response "
            "target; best_effort for tiers without guaranteed targets (never "
            "reported as breached); null when no clock runs."
        )
    )

    def _sla(self, ticket: Ticket) -> SlaSnapshot:
        # One "now" per response, so every ticket in a page is judged alike.
        now = _scratch(self.context).setdefault("now", timezone.now())
        cache = _scratch(self.context).setdefault("sla", {})
        if ticket.pk not in cache:
            cache[ticket.pk] = sla_snapshot(ticket, now)
        return cache[ticket.pk]

    @extend_schema_field(NULLABLE_DATETIME)
    def get_first_response_due_at(self, ticket: Ticket) -> str | None:
        return _datetime(self._sla(ticket).first_response_due_at)

    @extend_schema_field(NULLABLE_DATETIME)
    def get_first_responded_at(self, ticket: Ticket) -> str | None:
        return _datetime(self._sla(ticket).first_responded_at)

    @extend_schema_field({"type": "string", "enum": list(SLA_STATES), "nullable": True})
    def get_sla_state(self, ticket: Ticket) -> str | None:
        return self._sla(ticket).sla_state

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, ticket: Ticket) -> str:
        return self._url("api:ticket", ticket.number)

    @extend_schema_field(OpenApiTypes.URI)
    def get_portal_url(self, ticket: Ticket) -> str:
        return self._url("tickets:detail", ticket.number)

    @extend_schema_field(OpenApiTypes.STR)
    def get_priority_label(self, ticket: Ticket) -> str:
        return self._label(PriorityChoice, ticket.priority)

    @extend_schema_field(OpenApiTypes.STR)
    def get_status_label(self, ticket: Ticket) -> str:
        return self._label(StatusChoice, ticket.status)

    # A page renders 50 tickets: resolve each URL pattern and translate each label
    # once per response (get_FOO_display hashes every lazy label on every call).

    def _url(self, name: str, number: int) -> str:
        templates = _scratch(self.context).setdefault("url_templates", {})
        if name not in templates:
            sample = self.context["request"].build_absolute_uri(reverse(name, args=[1]))
            head, _sep, tail = sample.rpartition("/1/")
            templates[name] = (head + "/", "/" + tail)
        head, tail = templates[name]
        return f"{head}{number}{tail}"

    def _label(self, choices: type[models.Choices], value: Any) -> str:
        labels = _scratch(self.context).setdefault("labels", {})
        if choices not in labels:
            labels[choices] = {key: str(label) for key, label in choices.choices}
        return labels[choices].get(value, str(value))

    def to_representation(self, instance: Ticket) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not self.context["request"].user.is_staff:
            data.pop("assignee", None)
            data["updated_at"] = data["last_activity_at"]
        return data


@extend_schema_serializer(component_name="TicketDetail")
class TicketDetailOutputSerializer(TicketOutputSerializer):
    attachments = serializers.SerializerMethodField(
        help_text=_("Files attached to the ticket itself (not to comments).")
    )
    priority_changes = serializers.SerializerMethodField(
        help_text=_("Every re-prioritisation by support, with its reason.")
    )

    @extend_schema_field(AttachmentOutputSerializer(many=True))
    def get_attachments(self, ticket: Ticket) -> Any:
        attachments = selectors.ticket_description_attachments(ticket)
        context = {**self.context, "ticket_number": ticket.number}
        return AttachmentOutputSerializer(attachments, many=True, context=context).data

    @extend_schema_field(PriorityChangeOutputSerializer(many=True))
    def get_priority_changes(self, ticket: Ticket) -> Any:
        changes = selectors.ticket_priority_changes(ticket)
        return PriorityChangeOutputSerializer(changes, many=True).data


@extend_schema_serializer(component_name="Comment")
class CommentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    author = AuthorSerializer(read_only=True)
    body = serializers.CharField(read_only=True, help_text=_("Markdown."))
    body_html = serializers.CharField(read_only=True)
    internal = serializers.BooleanField(
        source="is_internal",
        read_only=True,
        help_text=_("An internal note (staff only; customers never receive them)."),
    )
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=CommentSource.choices, read_only=True
    )
    created_at = serializers.DateTimeField(read_only=True)
    attachments = AttachmentOutputSerializer(
        many=True, read_only=True, help_text=_("Files attached to this comment.")
    )


def ticket_output(request: Request, ticket: Ticket) -> dict[str, Any]:
    """One ticket in full, as the request's user may see it."""
    return TicketDetailOutputSerializer(ticket, context={"request": request}).data
