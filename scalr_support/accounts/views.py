"""Account pages: the signed-in user's personal API tokens; password reset."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from scalr_support.common.errors import ServiceError
from scalr_support.common.not_found import not_found_as_404

from . import selectors, services
from .forms import ApiTokenForm, TimeZoneForm
from .password_reset import TooManyRequests, password_reset_request


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    """List the user's tokens; a POST creates one and shows its key this once.

    The key is rendered into the POST's own response (never stored, never put in a
    redirect or a message cookie), and the page is not cached.
    """
    form = ApiTokenForm(request.POST or None)
    new_key = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                issued = services.api_token_create(
                    user=request.user,  # type: ignore[arg-type]
                    name=form.cleaned_data["name"],
                )
            except ServiceError as error:
                form.add_error(
                    error.field if error.field in form.fields else None, error.message
                )
            else:
                new_key = issued.key
                form = ApiTokenForm()
        if form.errors:
            status = 400
    return render(
        request,
        "accounts/token_list.html",
        {
            "form": form,
            "tokens": selectors.api_tokens_of(request.user),  # type: ignore[arg-type]
            "new_key": new_key,
        },
        status=status,
    )


@require_POST
@login_required
@not_found_as_404
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = selectors.api_token_get_for_user(request.user, token_id)  # type: ignore[arg-type]
    services.api_token_revoke(token=token)
    messages.success(
        request, _("The token “%(name)s” is revoked.") % {"name": token.name}
    )
    return redirect("accounts:tokens")


class PasswordResetRequestView(auth_views.PasswordResetView):
    """Django's reset page with the request handed to ``password_reset_request``.

    Known and unknown addresses get the same page; nothing here reads the Host
    header, and no mail is sent while the visitor waits.
    """

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        try:
            password_reset_request(
                email=form.cleaned_data["email"],
                client_address=self.request.META.get("REMOTE_ADDR", ""),
            )
        except TooManyRequests as error:
            form.add_error(None, error.message)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return redirect(self.get_success_url())


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def time_zone_edit(request: HttpRequest) -> HttpResponse:
    """Let a staff member choose the zone their pages show times in.

    Customers see their organisation's zone, which support sets for them.
    """
    user = request.user
    if not user.is_staff:
        raise Http404("Customers see times in their organisation's zone.")
    form = TimeZoneForm(
        request.POST or None,
        initial={"time_zone": user.time_zone},  # type: ignore[union-attr]
    )
    if request.method == "POST" and form.is_valid():
        services.user_time_zone_set(
            user=user,  # type: ignore[arg-type]
            time_zone=form.cleaned_data["time_zone"],
        )
        messages.success(request, _("Times are now shown in your time zone."))
        return redirect("accounts:time-zone")
    return render(
        request,
        "accounts/time_zone.html",
        {"form": form},
        status=400 if form.errors else 200,
    )
