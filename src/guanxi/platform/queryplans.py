"""Queries planned for their values rather than prepared.

On PostgreSQL the connection prepares a statement after a few runs (settings: server-side
binding), and PostgreSQL may then settle on a generic plan, one that cannot know how many
rows *this* owner, close-date range or name key selects. For most lookups (a record by id,
the token) that is the point; for searches and filtered boards a generic plan was measured
10–30 times slower than one made for the values at hand. Inside ``planned_for_values()``
queries are not prepared, so each is planned for its values; the setting is the client's
and costs no round trip.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connection

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def planned_for_values() -> Iterator[None]:
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    previous = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        yield
    finally:
        raw.prepare_threshold = previous


def planned_per_query(function: F) -> F:
    """Decorator: run ``function`` inside ``planned_for_values()``."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with planned_for_values():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
