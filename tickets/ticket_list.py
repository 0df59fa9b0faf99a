"""The ticket list's query: status (several, "all open" by default), priority,
search, whose tickets (mine / I follow / the organisation's) and the sort.

The contract's ``status``, ``priority`` and ``q`` parameters keep their meaning:
one ``status`` value still filters by that status; ``status`` may now repeat.
"""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from .choices import ACTIVE_STATUSES, Priority, Status

ALL_OPEN = "all_open"
ANY_STATUS = "any"
OPEN_STATUSES = ACTIVE_STATUSES

# sort key -> (label, ORM ordering ascending)
SORTS: dict[str, tuple[Any, str]] = {
    "number": (_("Ticket"), "number"),
    "priority": (_("Priority"), "priority"),
    "due": (_("Due"), "sla_due_at"),
    "updated": (_("Last activity"), "last_activity_at"),
}
DEFAULT_SORT = "-updated"
# What a first click on a column sorts by: newest, most urgent, soonest due.
FIRST_DIRECTION = {
    "number": "-number",
    "priority": "priority",
    "due": "due",
    "updated": "-updated",
}
SCOPES = [
    ("organization", _("Whole organisation")),
    ("mine", _("Mine")),
    ("following", _("I follow")),
]


class TicketListForm(forms.Form):
    status = forms.MultipleChoiceField(
        label=_("Status"),
        choices=[
            (ALL_OPEN, _("All open")),
            (ANY_STATUS, _("Any status")),
            *Status.choices,
        ],
        required=False,
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        choices=[("", _("Any priority")), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    q = forms.CharField(required=False, max_length=200, label=_("Search"))
    scope = forms.ChoiceField(
        label=_("Tickets"), choices=SCOPES, required=False, initial="organization"
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        choices=[
            (f"{sign}{key}", f"{label} {'↓' if sign else '↑'}")
            for key, (label, _field) in SORTS.items()
            for sign in ("", "-")
        ],
        required=False,
        initial=DEFAULT_SORT,
    )


@dataclass(frozen=True)
class ListQuery:
    statuses: tuple[str, ...]
    priority: int | None
    q: str
    scope: str
    sort: str
    ignored: tuple[str, ...] = ()  # labels of the parameters not understood


def list_query(form: TicketListForm) -> ListQuery:
    """What the list shows: each valid parameter applies, an invalid one falls back
    to its default (the page names it), so ``?status=solved&sort=oops`` still
    lists the solved tickets instead of silently showing the default list."""
    data: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()  # fills cleaned_data with the fields that validated
        data = form.cleaned_data
    # A search looks through every status unless told otherwise: people look up
    # old tickets by number or words.
    default = ANY_STATUS if data.get("q") else ALL_OPEN
    chosen = list(data.get("status") or [default])
    if ANY_STATUS in chosen:
        statuses: tuple[str, ...] = ()
    else:
        statuses = tuple(
            sorted(
                {s for s in chosen if s != ALL_OPEN}
                | (set(OPEN_STATUSES) if ALL_OPEN in chosen else set())
            )
        )
    return ListQuery(
        statuses=statuses,
        priority=data.get("priority"),
        q=data.get("q") or "",
        scope=data.get("scope") or "organization",
        sort=data.get("sort") or DEFAULT_SORT,
        ignored=tuple(
            str(form.fields[name].label) for name in form.errors if name in form.fields
        ),
    )


def ordering(sort: str) -> list[Any]:
    """ORM ordering for a sort key; the number breaks ties, due-less last."""
    from django.db.models import F

    descending = sort.startswith("-")
    field = SORTS[sort.lstrip("-")][1]
    expression = (
        F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    )
    tie = "-number" if descending else "number"
    return [expression, tie] if field != "number" else [tie]


def sort_links(query: QueryDict, current: str) -> dict[str, dict[str, str]]:
    """For each sortable column: the query string that sorts by it (toggling the
    direction when it is the current sort) and its ``aria-sort`` value."""
    links = {}
    for key in SORTS:
        if current.lstrip("-") == key:
            target = key if current.startswith("-") else f"-{key}"
            state = "descending" if current.startswith("-") else "ascending"
        else:
            target = FIRST_DIRECTION[key]
            state = "none"
        params = query.copy()
        params.pop("page", None)
        params["sort"] = target
        links[key] = {"query": params.urlencode(), "aria": state}
    return links


def status_summary(statuses: tuple[str, ...]) -> str:
    """What the status filter shows while folded: "All open", "Any status", names."""
    if not statuses:
        return str(_("Any status"))
    if set(statuses) == set(OPEN_STATUSES):
        return str(_("All open"))
    return ", ".join(str(Status(status).label) for status in statuses)
