"""/api/v1/: the REST API's routes (see tickets/apis.py and docs/api.md).

Collections without a parameter are listed by the API root automatically; a later
capability adds its route here, or (an app above tickets, such as maintenance)
in the list ``scalr_support/urls.py`` composes under /api/v1/, and shows up there
without further edits.
"""

from django.urls import path

from scalr_support.common.apis import ApiRootApi

from . import apis

app_name = "api"

urlpatterns = [
    path("", ApiRootApi.as_view(), name="root"),
    path("tickets/", apis.TicketCollectionApi.as_view(), name="tickets"),
    path("tickets/<int:number>/", apis.TicketResourceApi.as_view(), name="ticket"),
    path(
        "tickets/<int:number>/comments/",
        apis.CommentCollectionApi.as_view(),
        name="comments",
    ),
    path(
        "tickets/<int:number>/attachments/",
        apis.AttachmentCollectionApi.as_view(),
        name="attachments",
    ),
    path(
        "tickets/<int:number>/attachments/<int:attachment_id>/",
        apis.AttachmentDownloadApi.as_view(),
        name="attachment",
    ),
    path("tiers/", apis.TierListApi.as_view(), name="tiers"),
    path("priorities/", apis.PriorityListApi.as_view(), name="priorities"),
]
