from django.urls import path

from . import customer_views, list_views, views

app_name = "tickets"

urlpatterns = [
    path("", list_views.ticket_list, name="list"),
    path("new/", views.ticket_new, name="new"),
    path("<int:number>/", views.ticket_detail, name="detail"),
    path("<int:number>/comments/", views.comment_create, name="comment"),
    path("<int:number>/solve/", views.ticket_solve, name="solve"),
    path("<int:number>/reopen/", views.ticket_reopen, name="reopen"),
    path(
        "<int:number>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment",
    ),
    path(
        "<int:number>/sessions/<int:session_id>/accept/",
        views.session_accept,
        name="session-accept",
    ),
    path(
        "<int:number>/sessions/<int:session_id>/propose/",
        views.session_propose,
        name="session-propose",
    ),
    path("<int:number>/followers/", customer_views.follower_add, name="follower-add"),
    path(
        "<int:number>/followers/<int:user_id>/remove/",
        customer_views.follower_remove,
        name="follower-remove",
    ),
    path("<int:number>/rate/", customer_views.ticket_rate, name="rate"),
    path(
        "<int:number>/attachments/<int:attachment_id>/thumbnail/",
        customer_views.attachment_thumbnail,
        name="attachment-thumbnail",
    ),
    path("rate/<str:token>/", customer_views.rating_link, name="rate-link"),
]
