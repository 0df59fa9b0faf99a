"""Admin pages of the workspace's own models: macros, saved views, the audit trail.

Engineers manage their personal macros and views; shared ones (no owner) are
managed only with ``tickets.share_macro`` / ``tickets.share_savedview`` (the
Support Manager group), and are read-only to everyone else.
"""

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .forms import MacroAdminForm
from .models import Macro, SavedView, TicketAudit


class _PersonalOrShared(admin.ModelAdmin):
    """Own and shared rows only; shared rows writable with the share permission."""

    share_permission = ""

    def _may_share(self, request: HttpRequest) -> bool:
        return request.user.has_perm(self.share_permission)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request).select_related("owner")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(Q(owner__isnull=True) | Q(owner=request.user))

    def _may_edit(self, request: HttpRequest, obj: Any) -> bool:
        if obj is None or obj.owner_id == request.user.pk:
            return True
        return obj.owner_id is None and self._may_share(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._may_edit(
            request, obj
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._may_edit(
            request, obj
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Without the share permission a row is always one's own.
        fields = super().get_fields(request, obj)
        if self._may_share(request):
            return fields
        return [name for name in fields if name != "owner"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"owner": request.user.pk}

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        if not self._may_share(request):
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    def get_changelist_formset(self, request: HttpRequest, **kwargs: Any) -> Any:
        """The list's editable columns change only rows the user may edit.

        The admin checks the model-wide change permission before saving a list
        edit, not each row's: without this an engineer could reorder (or, by a
        crafted post, edit) the shared rows everyone sees.
        """
        formset = super().get_changelist_formset(request, **kwargs)
        may_edit = self._may_edit

        class EditableRowsOnly(formset):  # type: ignore[misc, valid-type]
            def clean(self) -> None:
                super().clean()
                for form in self.forms:
                    if form.has_changed() and not may_edit(request, form.instance):
                        raise ValidationError(
                            _("Only a manager can change “%(row)s”: it is shared.")
                            % {"row": form.instance}
                        )

        return EditableRowsOnly

    @admin.display(description=_("Shared with"))
    def shared_with(self, obj: Any) -> str:
        return str(_("Everyone")) if obj.owner_id is None else str(obj.owner)


@admin.register(Macro)
class MacroAdmin(_PersonalOrShared):
    form = MacroAdminForm
    share_permission = "tickets.share_macro"
    list_display = ("title", "shared_with", "is_internal", "set_status", "set_priority")
    list_filter = ("is_internal",)
    search_fields = ("title", "body")


@admin.register(SavedView)
class SavedViewAdmin(_PersonalOrShared):
    share_permission = "tickets.share_savedview"
    list_display = ("name", "shared_with", "query", "position")
    list_editable = ("position",)
    fields = ("name", "query", "owner", "position")


@admin.register(TicketAudit)
class TicketAuditAdmin(admin.ModelAdmin):
    """Read-only: rows are written by the changes they record."""

    list_display = ("created_at", "ticket", "action", "from_value", "to_value", "actor")
    list_filter = ("action",)
    list_select_related = ("ticket", "actor")
    search_fields = ("=ticket__number", "=batch")
    raw_id_fields = ("ticket",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
