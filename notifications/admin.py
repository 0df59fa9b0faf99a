"""Admin of the email channel: what was sent, what arrived, what waits for a person.

Support engineers and managers work the quarantine here: each set-aside message
shows its sender, subject, the reason, a text preview and its attachments, and can
be processed again, released as a chosen author onto a ticket, or discarded with
a reason (``quarantine.py``; every decision leaves an ``InboundDecision`` row).
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from scalr_support.accounts.models import User
from scalr_support.common.errors import ServiceError

from .inbound import inbound_reprocess
from .models import (
    EmailDelivery,
    FailingAddress,
    InboundAction,
    InboundDecision,
    InboundMessage,
    InboundStatus,
)
from .quarantine import SET_ASIDE, inbound_discard, inbound_parsed, inbound_release

PREVIEW_CHARS = 4000


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "event",
        "ticket",
        "recipient",
        "status",
        "attempts",
        "sent_at",
    )
    list_filter = ("status", "event")
    search_fields = ("=ticket__number", "to_address", "event_key")
    list_select_related = ("ticket", "recipient")
    readonly_fields = [field.name for field in EmailDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class InboundDecisionInline(admin.TabularInline):
    model = InboundDecision
    extra = 0
    can_delete = False
    fields = ("created_at", "action", "actor", "author", "ticket", "note")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReleaseForm(forms.Form):
    author = forms.EmailField(
        label=_("Author"), help_text=_("The contact (or engineer) the message is from.")
    )
    ticket_number = forms.IntegerField(
        label=_("Ticket number"),
        required=False,
        min_value=1,
        help_text=_("Empty: open a new ticket as the contact."),
    )

    def clean_author(self) -> User:
        email = self.cleaned_data["author"]
        user = User.objects.filter(email__iexact=email, is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("No active account has that address."))
        return user


class DiscardForm(forms.Form):
    note = forms.CharField(
        label=_("Why is it discarded?"), widget=forms.Textarea, max_length=2000
    )


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = (
        "received_at",
        "from_address",
        "subject",
        "status",
        "reason_code",
        "reason",
        "transport",
        "ticket",
    )
    list_display_links = ("received_at", "from_address")
    list_filter = ("status", "reason_code", "transport")
    search_fields = ("from_address", "subject", "message_id", "=ticket__number")
    list_select_related = ("ticket",)
    exclude = ("raw",)
    readonly_fields = (
        "decide",
        "from_address",
        "envelope_from",
        "subject",
        "status",
        "reason_code",
        "reason",
        "last_error",
        "preview",
        "attachment_list",
        "authentication",
        "received_at",
        "transport",
        "envelope_to",
        "message_id",
        "attempts",
        "ticket",
        "comment",
        "processed_at",
    )
    fields = readonly_fields
    inlines = (InboundDecisionInline,)
    actions = ("reprocess",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # Every field is read-only: decisions are the buttons, not a save.
        context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
        }
        return super().change_view(request, object_id, form_url, context)

    @admin.display(description=_("Text (preview)"))
    def preview(self, obj: InboundMessage) -> str:
        text = inbound_parsed(obj).text
        if len(text) > PREVIEW_CHARS:
            text = text[:PREVIEW_CHARS] + " …"
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)

    @admin.display(description=_("Attachments"))
    def attachment_list(self, obj: InboundMessage) -> str:
        items = inbound_parsed(obj).attachments
        if not items:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} ({}, {})</li>",
                ((a.filename, a.content_type, filesizeformat(a.size)) for a in items),
            ),
        )

    @admin.display(description=_("Decide"))
    def decide(self, obj: InboundMessage) -> str:
        if obj.status not in SET_ASIDE:
            return "—"
        return format_html(
            '<a class="button" href="{}">{}</a> <a class="button" href="{}">{}</a>',
            reverse("admin:notifications_inboundmessage_release", args=[obj.pk]),
            _("Release as a contact onto a ticket"),
            reverse("admin:notifications_inboundmessage_discard", args=[obj.pk]),
            _("Discard with a reason"),
        )

    @admin.action(description=_("Process the selected messages again"))
    def reprocess(
        self, request: HttpRequest, queryset: QuerySet[InboundMessage]
    ) -> None:
        count = sum(
            inbound_reprocess(inbound_id=pk, actor=request.user)  # type: ignore[arg-type]
            for pk in queryset.values_list("pk", flat=True)
        )
        if not count:
            self.message_user(
                request,
                _("None of the selected messages was set aside; nothing was queued."),
                messages.WARNING,
            )
            return
        self.message_user(
            request,
            ngettext(
                "%(n)d message queued again.", "%(n)d messages queued again.", count
            )
            % {"n": count},
            messages.SUCCESS,
        )

    reprocess.allowed_permissions = ("change",)  # type: ignore[attr-defined]

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<int:object_id>/release/",
                self.admin_site.admin_view(self.release_view),
                name="notifications_inboundmessage_release",
            ),
            path(
                "<int:object_id>/discard/",
                self.admin_site.admin_view(self.discard_view),
                name="notifications_inboundmessage_discard",
            ),
        ]
        return own + super().get_urls()

    def release_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        message = self._for_decision(request, object_id)
        parsed = inbound_parsed(message)
        initial = {
            "author": message.from_address,
            "ticket_number": message.ticket.number
            if message.ticket
            else parsed.subject_ticket_number,
        }
        form = ReleaseForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                released = inbound_release(
                    inbound_id=message.pk,
                    actor=request.user,  # type: ignore[arg-type]
                    author=form.cleaned_data["author"],
                    ticket_number=form.cleaned_data["ticket_number"],
                )
            except ServiceError as error:
                form.add_error(None, error.message)
            else:
                self._say_released(request, released, form.cleaned_data["author"])
                return self._back(message)
        return self._decision_page(request, message, form, _("Release the message"))

    def _say_released(
        self, request: HttpRequest, released: InboundMessage, author: User
    ) -> None:
        """Success only for this operator's release; else who released it before.

        A second operator (or a double submit with another author) changes
        nothing, and must not read "released" as if their choice was applied.
        """
        decision = released.decisions.select_related("actor", "author").get(
            action=InboundAction.RELEASE
        )
        number = released.ticket.number if released.ticket else "—"
        if decision.actor_id == request.user.pk and decision.author_id == author.pk:
            self.message_user(
                request,
                _("Released onto ticket #%(n)s.") % {"n": number},
                messages.SUCCESS,
            )
            return
        self.message_user(
            request,
            _(
                "Nothing changed: %(actor)s already released this message as "
                "%(author)s onto ticket #%(n)s."
            )
            % {
                "actor": decision.actor.email,
                "author": decision.author.email if decision.author else "—",
                "n": number,
            },
            messages.WARNING,
        )

    def discard_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        message = self._for_decision(request, object_id)
        form = DiscardForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                discarded = inbound_discard(
                    inbound_id=message.pk,
                    actor=request.user,  # type: ignore[arg-type]
                    note=form.cleaned_data["note"],
                )
            except ServiceError as error:
                form.add_error(None, error.message)
            else:
                self._say_discarded(request, discarded, form.cleaned_data["note"])
                return self._back(message)
        return self._decision_page(request, message, form, _("Discard the message"))

    def _say_discarded(
        self, request: HttpRequest, discarded: InboundMessage, note: str
    ) -> None:
        """As ``_say_released``: an earlier discard keeps its reason, and says so."""
        decision = discarded.decisions.select_related("actor").get(
            action=InboundAction.DISCARD
        )
        if decision.actor_id == request.user.pk and decision.note == note.strip():
            self.message_user(request, _("Message discarded."), messages.SUCCESS)
            return
        self.message_user(
            request,
            _("Nothing changed: %(actor)s already discarded this message: %(note)s")
            % {"actor": decision.actor.email, "note": decision.note},
            messages.WARNING,
        )

    def _for_decision(self, request: HttpRequest, object_id: int) -> InboundMessage:
        message = get_object_or_404(InboundMessage, pk=object_id)
        if not self.has_change_permission(request, message):
            raise PermissionDenied
        return message

    def _back(self, message: InboundMessage) -> HttpResponseRedirect:
        return HttpResponseRedirect(
            reverse("admin:notifications_inboundmessage_change", args=[message.pk])
        )

    def _decision_page(
        self,
        request: HttpRequest,
        message: InboundMessage,
        form: forms.Form,
        title: Any,
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": message,
            "title": title,
            "form": form,
            "done": message.status not in SET_ASIDE
            and message.status != InboundStatus.IGNORED,
        }
        return TemplateResponse(
            request, "admin/notifications/inbound_decision.html", context
        )


@admin.register(FailingAddress)
class FailingAddressAdmin(admin.ModelAdmin):
    list_display = ("address", "bounced_at", "reason")
    search_fields = ("address",)


@admin.register(InboundDecision)
class InboundDecisionAdmin(admin.ModelAdmin):
    """The audit trail of the quarantine: who decided what, and why."""

    list_display = ("created_at", "action", "inbound", "actor", "author", "ticket")
    list_filter = ("action",)
    list_select_related = ("inbound", "actor", "author", "ticket")
    readonly_fields = ("inbound", "action", "actor", "author", "ticket", "note")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
