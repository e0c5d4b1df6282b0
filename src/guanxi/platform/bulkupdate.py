"""Writing the same columns of many rows at once. Django's ``bulk_update`` builds one
``CASE WHEN id = … THEN …`` expression per row and field, which costs milliseconds of
Python per row; this sends one parameterized ``UPDATE … WHERE id = %s`` for all rows with
``executemany`` (a pipeline on PostgreSQL), values prepared by the fields themselves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Model


def update_columns(model: type[Model], objects: Sequence[Any], fields: Sequence[str]) -> int:
    """Write ``fields`` of ``objects`` (instances of ``model`` or its history model) by
    primary key; returns how many rows were sent. No signals, no ``auto_now``."""
    if not objects:
        return 0
    using = router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    pk = meta.pk
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(pk.column)} = %s"
    rows = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns]
        + [pk.get_db_prep_save(getattr(obj, pk.attname), connection)]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    return len(rows)
