"""Comments: the thread of a ticket, and replies or internal notes."""

from typing import cast

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
from scalr_support.common.api import (
    READ_ERRORS,
    WRITE_ERRORS,
    StrictInputSerializer,
    TimeCursorPagination,
    error_responses,
)
from scalr_support.common.apis import ApiView
from tickets import selectors, services
from tickets.choices import CommentSource
from tickets.models import Comment

from .examples import COMMENT_EXAMPLE, page_example
from .outputs import JSON_AND_FILES, TEXT_MAX_LENGTH, CommentOutputSerializer


class ThreadPagination(TimeCursorPagination):
    ordering = ("created_at", "id")


class CommentListApi(ApiView):
    """GET /tickets/<number>/comments/: the thread, oldest first."""

    pagination_class = ThreadPagination

    @extend_schema(
        operation_id="comments_list",
        summary="List a ticket's comments",
        description="Internal notes are included for staff only.",
        responses={
            200: OpenApiResponse(
                CommentOutputSerializer(many=True),
                examples=[
                    OpenApiExample("A page", value=page_example([COMMENT_EXAMPLE]))
                ],
            ),
            **error_responses(400, 404, *READ_ERRORS),
        },
        tags=["comments"],
    )
    def get(self, request: Request, number: int) -> Response:
        ticket = selectors.ticket_get_for_user(request.user, number)
        comments = selectors.ticket_comments(ticket, request.user)
        paginator = CommentListApi.pagination_class()
        page = paginator.paginate_queryset(comments, request, view=self)
        context = {"request": request, "ticket_number": ticket.number}
        output = CommentOutputSerializer(page, many=True, context=context)
        return paginator.get_paginated_response(output.data)


class CommentCreateApi(ApiView):
    """POST /tickets/<number>/comments/: a reply, or (staff) an internal note."""

    parser_classes = JSON_AND_FILES

    @extend_schema_serializer(component_name="CommentCreate")
    class InputSerializer(StrictInputSerializer):
        body = serializers.CharField(
            max_length=TEXT_MAX_LENGTH,
            required=False,
            allow_blank=True,
            default="",
            help_text=_("Markdown. May be empty when files are attached."),
        )
        internal = serializers.BooleanField(
            required=False,
            default=False,
            help_text=_("Staff only: an internal note customers never see."),
        )
        attachments = serializers.ListField(
            child=serializers.FileField(),
            required=False,
            help_text=_("Files (multipart/form-data only); repeat the field."),
        )

    @extend_schema(
        operation_id="comments_create",
        summary="Add a comment",
        description=(
            "Any contact of the organisation may reply; a closed ticket takes no "
            "more customer replies (409). `internal: true` is for staff only (403)."
        ),
        request={
            "application/json": InputSerializer,
            "multipart/form-data": InputSerializer,
        },
        examples=[
            OpenApiExample(
                "Reply", value={"body": "Attached the logs."}, request_only=True
            ),
            OpenApiExample(
                "Internal note (staff)",
                value={"body": "Same root cause as #1001.", "internal": True},
                request_only=True,
            ),
        ],
        responses={
            201: OpenApiResponse(
                CommentOutputSerializer,
                examples=[
                    OpenApiExample(
                        "Created", value=COMMENT_EXAMPLE, status_codes=["201"]
                    )
                ],
            ),
            **error_responses(*WRITE_ERRORS, 404, 409),
        },
        tags=["comments"],
    )
    def post(self, request: Request, number: int) -> Response:
        ticket = selectors.ticket_get_for_user(request.user, number)
        serializer = CommentCreateApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        comment = services.comment_create(
            ticket=ticket,
            author=cast(User, request.user),  # IsAuthenticated
            body=data["body"],
            is_public=not data["internal"],
            source=CommentSource.API,
            files=data.get("attachments", []),
        )
        comment = Comment.objects.select_related("author").get(pk=comment.pk)
        context = {"request": request, "ticket_number": ticket.number}
        return Response(
            CommentOutputSerializer(comment, context=context).data,
            status=status.HTTP_201_CREATED,
        )


class CommentCollectionApi(CommentListApi, CommentCreateApi):
    """/tickets/<number>/comments/: GET lists, POST adds."""

    parser_classes = JSON_AND_FILES
