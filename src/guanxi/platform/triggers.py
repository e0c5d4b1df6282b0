"""Triggers a feature keeps in the database (PostgreSQL and SQLite), and the checks that put
them back: a table that a migration rebuilds on SQLite loses its triggers, so a feature
whose data they keep asks after every ``migrate`` whether they are all there.

Each feature names its triggers once (``TriggerSet``); the SQL that creates them is its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection as default_connection


@dataclass(frozen=True)
class TriggerSet:
    """``postgresql``: the statements that create (or replace) the functions and triggers,
    ``pg_triggers`` the (trigger, table) pairs they make and ``pg_functions`` the functions
    to drop with them (name and argument types); ``sqlite``: trigger name → what follows
    ``CREATE TRIGGER name``. ``tables``: the tables that must exist for the triggers to."""

    tables: tuple[str, ...]
    postgresql: tuple[str, ...]
    pg_triggers: tuple[tuple[str, str], ...]
    pg_functions: tuple[str, ...]
    sqlite: dict[str, str] = field(default_factory=dict)

    def installed(self, connection: Any = default_connection) -> bool:
        """Are all the triggers in place on this database?"""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                names = [name for name, _table in self.pg_triggers]
                cursor.execute(
                    "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgname = ANY(%s)",
                    [names],
                )
                return cursor.fetchone()[0] == len(names)
            if connection.vendor == "sqlite":
                names = list(self.sqlite)
                cursor.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN "
                    f"({', '.join(['%s'] * len(names))})",
                    names,
                )
                return cursor.fetchone()[0] == len(names)
        return False

    def install(self, connection: Any = default_connection) -> None:
        """Create (or replace) the triggers; the data they keep is not touched."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for statement in self.postgresql:
                    cursor.execute(statement)
            elif connection.vendor == "sqlite":
                for name, body in self.sqlite.items():
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
                    cursor.execute(f"CREATE TRIGGER {name} {body}")
            else:  # pragma: no cover - the two supported databases
                raise NotImplementedError(connection.vendor)

    def uninstall(self, connection: Any = default_connection) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for name, table in self.pg_triggers:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                for function in self.pg_functions:
                    cursor.execute(f"DROP FUNCTION IF EXISTS {function}")
            elif connection.vendor == "sqlite":
                for name in self.sqlite:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")

    def ensure(self, connection: Any, rebuild: Callable[[Any], None]) -> bool:
        """Install missing triggers and ``rebuild`` what they keep (rows written while they
        were missing are counted too); True when anything had to be done."""
        if connection.vendor not in ("postgresql", "sqlite"):
            return False
        existing = set(connection.introspection.table_names())
        if not set(self.tables) <= existing or self.installed(connection):
            return False
        self.install(connection)
        rebuild(connection)
        return True
