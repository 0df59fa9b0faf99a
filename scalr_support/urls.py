from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from maintenance.apis import MaintenanceWindowListApi
from maintenance.selectors import schedule_current
from scalr_support.accounts.forms import EmailAuthenticationForm
from scalr_support.accounts.views import PasswordResetRequestView
from scalr_support.common.apis import BenchCeilingApi
from scalr_support.common.views import ceiling, healthz
from scalr_support.observability.views import metrics
from tickets import api_urls as ticket_api_urls
from tickets import views as ticket_views

# /api/v1/ is one namespace ("api") composed of the apps' routes; tickets' own
# come first, the apps built on tickets add theirs here.
api_v1 = [
    *ticket_api_urls.urlpatterns,
    path(
        "maintenance-windows/",
        MaintenanceWindowListApi.as_view(),
        name="maintenance-windows",
    ),
]

urlpatterns = [
    path("", ticket_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    # Prometheus; closed in production without METRICS_TOKEN / METRICS_ALLOWED_IPS.
    path("metrics", metrics, name="metrics"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=EmailAuthenticationForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path(
        "accounts/password_reset/",
        PasswordResetRequestView.as_view(),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/", include("scalr_support.accounts.urls")),
    path(
        "accounts/notifications/",
        ticket_views.notification_preferences,
        name="notification-preferences",
    ),
    path("tickets/", include("tickets.urls")),
    path("organization/", include("tickets.organization_urls")),
    path("", include("maintenance.urls")),
    path(
        "support-policy/",
        ticket_views.support_policy,
        {"schedule": schedule_current},  # maintenance's schedule, shown by tickets
        name="support-policy",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, ticket_api_urls.app_name))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    # Inbound webhooks of the ESPs anymail supports: /anymail/<esp>/inbound/.
    path("anymail/", include("notifications.webhooks")),
]

# A database outage answers 503 (a page, or JSON under /api/), never a 500 page.
handler500 = "scalr_support.common.views.server_error"
# A body too large to read answers 413 with the limit, not "Bad request".
handler400 = "scalr_support.common.views.bad_request"

if settings.BENCHMARK_ENDPOINTS:
    urlpatterns.append(path("__bench__/ceiling/", ceiling, name="bench-ceiling"))
    urlpatterns.append(
        path("__bench__/api-ceiling/", BenchCeilingApi.as_view(), name="bench-api")
    )

# JSON for unknown URLs under /api/, the portal's 404 page elsewhere.
handler404 = "scalr_support.common.apis.page_not_found"
