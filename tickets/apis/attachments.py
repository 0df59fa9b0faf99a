"""Attachments: list, upload and download, through the ticket gate."""

from typing import Any, cast

from django.http import FileResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import parsers, serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from scalr_support.accounts.models import User
from scalr_support.common.api import (
    READ_ERRORS,
    WRITE_ERRORS,
    StrictInputSerializer,
    bounded_id_field,
    error_responses,
)
from scalr_support.common.apis import ApiView
from tickets import selectors, services
from tickets.attachments import attachment_response

from .comments import ThreadPagination
from .examples import DETAIL_EXTRA, page_example
from .outputs import AttachmentOutputSerializer


class AttachmentListApi(ApiView):
    """GET /tickets/<number>/attachments/: every file of the ticket one may see."""

    pagination_class = ThreadPagination

    @extend_schema(
        operation_id="attachments_list",
        summary="List a ticket's files",
        description="Files of internal notes are listed for staff only.",
        responses={
            200: OpenApiResponse(
                AttachmentOutputSerializer(many=True),
                examples=[
                    OpenApiExample(
                        "A page", value=page_example(DETAIL_EXTRA["attachments"])
                    )
                ],
            ),
            **error_responses(400, 404, *READ_ERRORS),
        },
        tags=["attachments"],
    )
    def get(self, request: Request, number: int) -> Response:
        ticket = selectors.ticket_get_for_user(request.user, number)
        attachments = selectors.ticket_attachments(ticket, request.user)
        paginator = AttachmentListApi.pagination_class()
        page = paginator.paginate_queryset(attachments, request, view=self)
        context = {"request": request, "ticket_number": ticket.number}
        output = AttachmentOutputSerializer(page, many=True, context=context)
        return paginator.get_paginated_response(output.data)


class AttachmentUploadApi(ApiView):
    """POST /tickets/<number>/attachments/: add files to the ticket or a comment."""

    parser_classes = (parsers.MultiPartParser,)

    @extend_schema_serializer(component_name="AttachmentUpload")
    class InputSerializer(StrictInputSerializer):
        attachments = serializers.ListField(
            child=serializers.FileField(),
            allow_empty=False,
            help_text=_("One or more files; repeat the field."),
        )
        comment = bounded_id_field(
            required=False,
            help_text=_(
                "Attach to this comment (your own; staff: any) instead of the ticket."
            ),
        )

    @extend_schema(
        operation_id="attachments_upload",
        summary="Upload files",
        request={"multipart/form-data": InputSerializer},
        responses={
            201: OpenApiResponse(
                # A plain list (the stored files), not a page like the GET.
                {"type": "array", "items": {"$ref": "#/components/schemas/Attachment"}},
                examples=[
                    OpenApiExample(
                        "Stored",
                        value=DETAIL_EXTRA["attachments"],
                        status_codes=["201"],
                    )
                ],
            ),
            **error_responses(*WRITE_ERRORS, 404, 409),
        },
        tags=["attachments"],
    )
    def post(self, request: Request, number: int) -> Response:
        ticket = selectors.ticket_get_for_user(request.user, number)
        serializer = AttachmentUploadApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        comment = None
        if "comment" in data:
            comment = selectors.comment_get_for_user(
                request.user, ticket, data["comment"]
            )
        attachments = services.attachment_add(
            ticket=ticket,
            uploader=cast(User, request.user),  # IsAuthenticated
            files=data["attachments"],
            comment=comment,
        )
        context = {"request": request, "ticket_number": ticket.number}
        return Response(
            AttachmentOutputSerializer(attachments, many=True, context=context).data,
            status=status.HTTP_201_CREATED,
        )


class AttachmentCollectionApi(AttachmentListApi, AttachmentUploadApi):
    """/tickets/<number>/attachments/: GET lists, POST uploads."""

    parser_classes = (parsers.MultiPartParser,)


class _AnyAccept(BaseContentNegotiation):
    """A download answers with the file whatever the client accepts."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: Any, format_suffix: str | None = None
    ) -> tuple[Any, str]:
        return renderers[0], renderers[0].media_type


class AttachmentDownloadApi(ApiView):
    """GET /tickets/<number>/attachments/<id>/: the file, through the same gate.

    Always a download (``Content-Disposition: attachment``), with a sandboxing
    CSP and ``nosniff``, exactly like the portal's download.
    """

    content_negotiation_class = _AnyAccept

    @extend_schema(
        operation_id="attachments_download",
        summary="Download a file",
        responses={
            (200, "*/*"): OpenApiResponse(
                OpenApiTypes.BINARY, description=_("The file's bytes.")
            ),
            **error_responses(404, *READ_ERRORS),
        },
        tags=["attachments"],
    )
    def get(self, request: Request, number: int, attachment_id: int) -> FileResponse:
        attachment = selectors.attachment_get_for_user(
            request.user, number, attachment_id
        )
        return attachment_response(attachment)
