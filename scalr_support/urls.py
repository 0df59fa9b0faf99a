from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from scalr_support.accounts.forms import EmailAuthenticationForm
from scalr_support.common.views import ceiling
from tickets import views as ticket_views

urlpatterns = [
    path("", ticket_views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=EmailAuthenticationForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("tickets/", include("tickets.urls")),
    path("admin/", admin.site.urls),
]

if settings.BENCHMARK_ENDPOINTS:
    urlpatterns.append(path("__bench__/ceiling/", ceiling, name="bench-ceiling"))
