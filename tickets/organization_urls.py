from django.urls import path

from . import organization_views as views

app_name = "organization"

urlpatterns = [
    path("", views.organization_page, name="page"),
    path("invitations/", views.invitation_send, name="invite"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation"),
    path(
        "contacts/<int:contact_id>/deactivate/",
        views.contact_deactivate,
        name="deactivate",
    ),
    path(
        "contacts/<int:contact_id>/reactivate/",
        views.contact_reactivate,
        name="reactivate",
    ),
    path("contacts/<int:contact_id>/roles/", views.contact_roles, name="roles"),
]
