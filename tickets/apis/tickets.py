"""Tickets: list, open, read and change."""

from typing import cast

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from scalr_support.accounts.models import User
from scalr_support.accounts.selectors import user_get
from scalr_support.common.api import (
    READ_ERRORS,
    WRITE_ERRORS,
    SafeJSONParser,
    StrictInputSerializer,
    TimeCursorPagination,
    bounded_id_field,
    error_responses,
)
from scalr_support.common.apis import ApiView
from scalr_support.common.errors import ValidationFailed
from tickets import selectors, services
from tickets.choices import Category, CommentSource, Deployment
from tickets.choices import Priority as PriorityChoice
from tickets.choices import Status as StatusChoice
from tickets.models import Ticket

from .examples import (
    DETAIL_EXTRA,
    STAFF_TICKET_EXAMPLE,
    TICKET_EXAMPLE,
    page_example,
)
from .outputs import (
    JSON_AND_FILES,
    REASON_MAX_LENGTH,
    SLA_STATES,
    TEXT_MAX_LENGTH,
    TicketDetailOutputSerializer,
    TicketOutputSerializer,
    ticket_output,
)


class TicketPagination(TimeCursorPagination):
    ordering = ("-last_activity_at", "-number")


class TicketListApi(ApiView):
    """GET /tickets/: the tickets the user may see, most recent activity first."""

    pagination_class = TicketPagination

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(
            choices=StatusChoice.choices, required=False, help_text=_("One status.")
        )
        priority = serializers.ChoiceField(
            choices=PriorityChoice.choices,
            required=False,
            help_text=_("One priority, 0-4."),
        )
        organization = bounded_id_field(
            required=False,
            help_text=_(
                "Staff: one organisation's tickets. Customers only ever see their "
                "own organisation, so this cannot widen what they see."
            ),
        )
        updated_since = serializers.DateTimeField(
            required=False,
            help_text=_("ISO 8601; tickets changed at or after this time."),
        )
        sla_state = serializers.ChoiceField(
            choices=SLA_STATES,
            required=False,
            help_text=_("One SLA state, as in the tickets' `sla_state`."),
        )

    @extend_schema(
        operation_id="tickets_list",
        summary="List tickets",
        description=(
            "Customers see their organisation's tickets; staff see all. Cursor "
            "pagination: follow `next` (50 a page; `page_size` up to 100)."
        ),
        parameters=[FilterSerializer],
        responses={
            200: OpenApiResponse(
                TicketOutputSerializer(many=True),
                examples=[
                    OpenApiExample("A page", value=page_example([TICKET_EXAMPLE])),
                    OpenApiExample(
                        "A page, as staff", value=page_example([STAFF_TICKET_EXAMPLE])
                    ),
                ],
            ),
            **error_responses(400, *READ_ERRORS),
        },
        tags=["tickets"],
    )
    def get(self, request: Request) -> Response:
        filters = TicketListApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        tickets = selectors.ticket_list_for_api(
            request.user,
            status=data.get("status", ""),
            priority=data.get("priority"),
            organization_id=data.get("organization"),
            updated_since=data.get("updated_since"),
            sla_state=data.get("sla_state", ""),
        )
        paginator = TicketListApi.pagination_class()
        page = paginator.paginate_queryset(tickets, request, view=self)
        output = TicketOutputSerializer(page, many=True, context={"request": request})
        return paginator.get_paginated_response(output.data)


class TicketCreateApi(ApiView):
    """POST /tickets/: a technical contact opens a ticket, optionally with files."""

    parser_classes = JSON_AND_FILES

    @extend_schema_serializer(component_name="TicketCreate")
    class InputSerializer(StrictInputSerializer):
        subject = serializers.CharField(max_length=services.SUBJECT_MAX_LENGTH)
        description = serializers.CharField(
            max_length=TEXT_MAX_LENGTH, help_text=_("Markdown.")
        )
        priority = serializers.ChoiceField(
            choices=PriorityChoice.choices,
            help_text=_("0 (P0 Blocker) to 4 (P4 Trivial); see /api/v1/priorities/."),
        )
        category = serializers.ChoiceField(
            choices=Category.choices,
            required=False,
            help_text=_(
                "Optional. Without it the category is read from the text: a fault "
                "reported is `bug`, a request for something new `enhancement`, "
                "anything else `question` (the default)."
            ),
        )
        deployment = serializers.ChoiceField(
            choices=Deployment.choices,
            required=False,
            help_text=_("Defaults to the organisation's deployment."),
        )
        version_reported = serializers.CharField(
            max_length=40,
            required=False,
            allow_blank=True,
            help_text=_("Defaults to the organisation's Scalr version."),
        )
        attachments = serializers.ListField(
            child=serializers.FileField(),
            required=False,
            help_text=_("Files (multipart/form-data only); repeat the field."),
        )

    @extend_schema(
        operation_id="tickets_create",
        summary="Open a ticket",
        description=(
            "Only technical contacts may open tickets (403 for others). Send JSON, "
            "or multipart/form-data to attach files. Organisation, requester, "
            "status, assignee and timestamps are set by the portal; sending them is "
            "a 400."
        ),
        request={
            "application/json": InputSerializer,
            "multipart/form-data": InputSerializer,
        },
        examples=[
            OpenApiExample(
                "New ticket",
                value={
                    "subject": "Runs stuck in pending after upgrade to 9.4",
                    "description": "Since upgrading, new runs stay **pending**.",
                    "priority": 1,
                    "category": "bug",
                },
                request_only=True,
            )
        ],
        responses={
            201: OpenApiResponse(
                TicketDetailOutputSerializer,
                examples=[
                    OpenApiExample(
                        "Created",
                        value={**TICKET_EXAMPLE, "status": "new", **DETAIL_EXTRA},
                        status_codes=["201"],
                    )
                ],
            ),
            **error_responses(*WRITE_ERRORS),
        },
        tags=["tickets"],
    )
    def post(self, request: Request) -> Response:
        serializer = TicketCreateApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        contact = selectors.contact_for_user(request.user)
        organization = contact.organization if contact else None
        ticket = services.ticket_create(
            requester=cast(User, request.user),  # IsAuthenticated
            data=services.TicketInput(
                subject=data["subject"],
                description=data["description"],
                priority=data["priority"],
                category=data.get("category", ""),
                deployment=data.get(
                    "deployment", organization.deployment if organization else ""
                ),
                version_reported=data.get(
                    "version_reported",
                    organization.scalr_version if organization else "",
                ),
            ),
            files=data.get("attachments", []),
            source=CommentSource.API,
        )
        ticket = selectors.ticket_get_for_user(request.user, ticket.number)
        return Response(
            ticket_output(request, ticket),
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api:ticket", args=[ticket.number])},
        )


class TicketCollectionApi(TicketListApi, TicketCreateApi):
    """/tickets/: GET lists (TicketListApi), POST creates (TicketCreateApi)."""

    parser_classes = JSON_AND_FILES


class TicketDetailApi(ApiView):
    """GET /tickets/<number>/: one ticket, its own files and priority changes."""

    @extend_schema(
        operation_id="tickets_retrieve",
        summary="Get a ticket",
        responses={
            200: OpenApiResponse(
                TicketDetailOutputSerializer,
                examples=[
                    OpenApiExample("Ticket", value={**TICKET_EXAMPLE, **DETAIL_EXTRA})
                ],
            ),
            **error_responses(404, *READ_ERRORS),
        },
        tags=["tickets"],
    )
    def get(self, request: Request, number: int) -> Response:
        ticket = selectors.ticket_get_for_user(request.user, number)
        return Response(ticket_output(request, ticket))


class TicketUpdateApi(ApiView):
    """PATCH /tickets/<number>/: customers close or reopen; staff triage."""

    parser_classes = (SafeJSONParser,)

    @extend_schema_serializer(component_name="TicketCustomerUpdate")
    class CustomerInputSerializer(StrictInputSerializer):
        staff_only = ("priority", "priority_change_reason", "assignee", "category")

        status = serializers.ChoiceField(
            choices=StatusChoice.choices,
            help_text=_(
                "Customers: `solved` to close an open ticket, `open` to reopen a "
                "solved one. Staff: any status."
            ),
        )

    @extend_schema_serializer(component_name="TicketUpdate")
    class StaffInputSerializer(StrictInputSerializer):
        status = serializers.ChoiceField(choices=StatusChoice.choices, required=False)
        priority = serializers.ChoiceField(
            choices=PriorityChoice.choices,
            required=False,
            help_text=_("Staff only; needs `priority_change_reason`."),
        )
        priority_change_reason = serializers.CharField(
            max_length=REASON_MAX_LENGTH,
            required=False,
            allow_blank=True,
            help_text=_("Required with a new priority; the customer sees it."),
        )
        assignee = bounded_id_field(
            required=False,
            allow_null=True,
            help_text=_("Staff only: a support engineer's user id, or null."),
        )
        category = serializers.ChoiceField(choices=Category.choices, required=False)

    @extend_schema(
        operation_id="tickets_partial_update",
        summary="Change a ticket",
        description=(
            "Customers may send only `status`: `solved` closes an open ticket, "
            "`open` reopens a solved one (409 otherwise). Staff may change "
            "`status`, `priority` (with `priority_change_reason`, which the "
            "customer sees), `assignee` and `category`, all or nothing."
        ),
        request=StaffInputSerializer,
        examples=[
            OpenApiExample(
                "Customer closes", value={"status": "solved"}, request_only=True
            ),
            OpenApiExample(
                "Staff re-prioritises",
                value={
                    "priority": 3,
                    "priority_change_reason": "A workaround exists.",
                    "assignee": 2,
                },
                request_only=True,
            ),
        ],
        responses={
            200: OpenApiResponse(
                TicketDetailOutputSerializer,
                examples=[
                    OpenApiExample(
                        "Updated",
                        value={**STAFF_TICKET_EXAMPLE, **DETAIL_EXTRA},
                    )
                ],
            ),
            **error_responses(*WRITE_ERRORS, 404, 409),
        },
        tags=["tickets"],
    )
    def patch(self, request: Request, number: int) -> Response:
        ticket = selectors.ticket_get_for_user(request.user, number)
        user: User = request.user  # type: ignore[assignment]
        if user.is_staff:
            self._triage(request, ticket, user)
        else:
            serializer = TicketUpdateApi.CustomerInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            services.ticket_status_change(
                ticket=ticket, actor=user, status=serializer.validated_data["status"]
            )
        ticket = selectors.ticket_get_for_user(user, number)
        return Response(ticket_output(request, ticket))

    @staticmethod
    def _triage(request: Request, ticket: Ticket, user: User) -> None:
        """Staff changes through ``ticket_triage``: one transaction, all or nothing.

        Fields left out keep the ticket's current values, so triage sees no change.
        """
        serializer = TicketUpdateApi.StaffInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        assignee = ticket.assignee
        if "assignee" in data:
            assignee = None
            if data["assignee"] is not None:
                assignee = user_get(data["assignee"])
                if assignee is None:
                    raise ValidationFailed(
                        str(_("No such support engineer.")), field="assignee"
                    )
        services.ticket_triage(
            ticket=ticket,
            actor=user,
            changes=services.TriageInput(
                status=data.get("status", ticket.status),
                priority=data.get("priority", ticket.priority),
                priority_change_reason=data.get("priority_change_reason", ""),
                assignee=assignee,
                category=data.get("category", ""),
                # Only what was sent: the rest keeps its value under the row lock.
                changed=frozenset(data) & services.TRIAGE_FIELDS,
            ),
        )


class TicketResourceApi(TicketDetailApi, TicketUpdateApi):
    """/tickets/<number>/: GET (TicketDetailApi), PATCH (TicketUpdateApi)."""

    parser_classes = (SafeJSONParser,)
