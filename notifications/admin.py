"""Admin of the email channel: what was sent, what arrived, what waits for a person."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .inbound import inbound_reprocess
from .models import EmailDelivery, FailingAddress, InboundMessage, InboundStatus


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


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = (
        "received_at",
        "from_address",
        "subject",
        "transport",
        "status",
        "reason",
        "ticket",
    )
    list_filter = ("status", "transport")
    search_fields = ("from_address", "subject", "message_id", "=ticket__number")
    list_select_related = ("ticket",)
    exclude = ("raw",)
    readonly_fields = [f.name for f in InboundMessage._meta.fields if f.name != "raw"]
    actions = ("reprocess",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Process the selected messages again"))
    def reprocess(
        self, request: HttpRequest, queryset: QuerySet[InboundMessage]
    ) -> None:
        eligible = queryset.exclude(
            status__in=[InboundStatus.PROCESSED, InboundStatus.RECEIVED]
        )
        count = 0
        for inbound_id in eligible.values_list("pk", flat=True):
            inbound_reprocess(inbound_id=inbound_id)
            count += 1
        self.message_user(
            request, _("%(n)d messages queued again.") % {"n": count}, messages.SUCCESS
        )


@admin.register(FailingAddress)
class FailingAddressAdmin(admin.ModelAdmin):
    list_display = ("address", "bounced_at", "reason")
    search_fields = ("address",)
