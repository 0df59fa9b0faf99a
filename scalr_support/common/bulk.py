"""Saving fields of many rows at once."""

from collections.abc import Hashable, Sequence
from typing import Any, cast

from django.db.models import Field, Model


def update_by_value(objs: Sequence[Model], fields: Sequence[str]) -> int:
    """Save ``fields`` of many rows: one UPDATE for each distinct set of values.

    Django's ``bulk_update`` writes a CASE per field with a WHEN per row, which
    costs more to build than to run once there are dozens of rows. Rows written
    together often share their new values (tickets answered in one batch get the
    same status, activity time and, per priority, deadline), and then a plain
    UPDATE per group does. The values must be hashable. Returns the statements.
    """
    if not objs:
        return 0
    model = type(objs[0])
    attnames = [
        cast("Field[Any, Any]", model._meta.get_field(name)).attname for name in fields
    ]
    groups: dict[tuple[Hashable, ...], list[object]] = {}
    for obj in objs:
        values = tuple(getattr(obj, attname) for attname in attnames)
        groups.setdefault(values, []).append(obj.pk)
    for values, pks in groups.items():
        model._default_manager.filter(pk__in=pks).update(
            **dict(zip(attnames, values, strict=True))
        )
    return len(groups)
