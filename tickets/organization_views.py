"""The organisation page (admins manage colleagues) and invitation acceptance."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from scalr_support.accounts.backends import BACKEND_PATH
from scalr_support.common.errors import ServiceError

from . import organizations
from .models import Contact
from .organization_forms import AcceptInvitationForm, ContactRolesForm, InvitationForm


def _own_contact(request: HttpRequest) -> Contact:
    contact = request.contact  # type: ignore[attr-defined]
    if contact is None:
        raise Http404("Only customer contacts have an organisation page.")
    return contact


@require_GET
@login_required
def organization_page(request: HttpRequest) -> HttpResponse:
    return _render_page(request)


def _render_page(
    request: HttpRequest, form: InvitationForm | None = None, status: int = 200
) -> HttpResponse:
    """Contacts, roles, the tier's limits and the audit trail (admins act here)."""
    contact = _own_contact(request)
    organization = contact.organization
    context = {
        "contact": contact,
        "organization": organization,
        "tier": organization.tier,
        "is_admin": contact.is_organization_admin,
        "admins": organizations.organization_admins(organization),
    }
    if contact.is_organization_admin:
        context.update(
            contacts=organizations.organization_contacts(organization),
            invited=organizations.open_invitation_ids(organization),
            technical_count=organizations.technical_contacts_count(organization),
            audit=organizations.organization_audit(organization),
            form=form or InvitationForm(),
        )
    else:
        context["technical"] = organizations.technical_contacts_who_can_open(
            organization
        )
    return render(request, "tickets/organization.html", context, status=status)


@require_POST
@login_required
def invitation_send(request: HttpRequest) -> HttpResponse:
    contact = _own_contact(request)
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            organizations.invitation_create(
                actor=request.user,  # type: ignore[arg-type]
                organization=contact.organization,
                data=organizations.InvitationInput(**form.cleaned_data),
            )
        except ServiceError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                _("An invitation was sent to %(email)s.")
                % {"email": form.cleaned_data["email"]},
            )
            return redirect("organization:page")
    return _render_page(request, form=form, status=400)


def _contact_action(request: HttpRequest, action: object, done: str) -> HttpResponse:
    try:
        action()  # type: ignore[operator]
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("organization:page")


def _contact_active_set(
    request: HttpRequest, contact_id: int, *, active: bool, done: str
) -> HttpResponse:
    contact = _own_contact(request)
    return _contact_action(
        request,
        lambda: organizations.contact_active_set(
            actor=request.user,  # type: ignore[arg-type]
            organization=contact.organization,
            contact_id=contact_id,
            active=active,
        ),
        done,
    )


@require_POST
@login_required
def contact_deactivate(request: HttpRequest, contact_id: int) -> HttpResponse:
    return _contact_active_set(
        request,
        contact_id,
        active=False,
        done=_("The contact is deactivated; their tickets stay."),
    )


@require_POST
@login_required
def contact_reactivate(request: HttpRequest, contact_id: int) -> HttpResponse:
    return _contact_active_set(
        request, contact_id, active=True, done=_("The contact can sign in again.")
    )


@require_POST
@login_required
def contact_roles(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = _own_contact(request)
    form = ContactRolesForm(request.POST)
    form.is_valid()  # two checkboxes: an absent one is False
    return _contact_action(
        request,
        lambda: organizations.contact_roles_set(
            actor=request.user,  # type: ignore[arg-type]
            organization=contact.organization,
            contact_id=contact_id,
            technical_contact=form.cleaned_data["technical_contact"],
            organization_admin=form.cleaned_data["organization_admin"],
        ),
        _("The contact's roles are saved."),
    )


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Set a password from an invitation link; no sign-in needed (the link is it)."""
    invitation = organizations.invitation_from_token(token)
    if invitation is None:
        return render(request, "tickets/invitation_invalid.html", status=404)
    form = AcceptInvitationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = organizations.invitation_accept(
                invitation=invitation, password=form.cleaned_data["password"]
            )
        except ServiceError as error:
            form.add_service_error(error)
        else:
            login(request, user, backend=BACKEND_PATH)
            messages.success(
                request,
                _("Welcome to %(org)s's support portal.")
                % {"org": invitation.organization.name},
            )
            return redirect("tickets:list")
    return render(
        request,
        "tickets/invitation_accept.html",
        {"form": form, "invitation": invitation},
        status=400 if form.errors else 200,
    )
