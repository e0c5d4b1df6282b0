"""Optimistic locking: a save succeeds only if nobody saved the row since the client read it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from guanxi.platform.errors import VersionConflict, VersionRequired


def parse_if_match(header: str | None) -> int | None:
    """The version in an ``If-Match`` header: ``"3"``, ``W/"3"`` or ``3``; None if absent."""
    if not header:
        return None
    value = header.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    return int(value) if value.isdigit() else None


def expected_version(*, if_match: str | None, body_version: int | None) -> int:
    version = parse_if_match(if_match)
    if version is None:
        version = body_version
    if version is None:
        raise VersionRequired()
    return version


def etag(obj: Any) -> str:
    return f'"{obj.version}"'


@transaction.atomic
def save_versioned(
    obj: Any, *, expected_version: int, by: Any = None, fields: Iterable[str] | None = None
) -> Any:
    """Save ``obj`` if its stored version is still ``expected_version``; bump the version.

    The row is locked first (SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE
    transactions serialize writers), so two concurrent saves cannot both pass the check.
    """
    model = type(obj)
    current = (
        model._base_manager.select_for_update().filter(pk=obj.pk).values_list("version", flat=True)
    )
    stored = current.first()
    if stored is None or stored != expected_version:
        raise VersionConflict(current_version=stored or 0, expected_version=expected_version)
    obj.version = stored + 1
    obj.updated_at = timezone.now()
    if by is not None and hasattr(obj, "updated_by_id"):
        obj.updated_by = by
    update_fields = None
    if fields is not None:
        update_fields = {*fields, "version", "updated_at"}
        if hasattr(obj, "updated_by_id"):
            update_fields.add("updated_by")
    obj.save(update_fields=update_fields)
    return obj
