"""Name keys on the account links, kept by the database: each link between a person and an
account carries the account's name key and the person's (``NameKey`` of their sort keys;
the account's is '' once the account is deleted),
so that "the people called Wang Wei at the companies called 星河科技" is one range of one
index (``account_link_name_keys``) rather than a probe of every Wang Wei's links — the
question duplicate matching asks on every entry, where hundreds of namesakes meet hundreds
of accounts of one name.

Triggers keep the keys, so every write counts (the ORM, bulk updates, COPY, merges):

- a link inserted, or moved to another account or person, takes both keys from the rows;
- a person or account renamed passes the new key to their links, an account deleted (or
  restored) clears (or restores) its key on its links.

A table that a migration rebuilds on SQLite loses its triggers: ``ensure_installed`` (after
every ``migrate``) puts them back and computes the keys again.
"""

from __future__ import annotations

from typing import Any

from django.db import connection as default_connection

from guanxi.platform.triggers import TriggerSet

LINKS = "customers_accountcontact"
CONTACTS = "customers_contact"
ACCOUNTS = "customers_account"
LINK_KEYS = "guanxi_link_keys"
CONTACT_KEY = "guanxi_link_contact_key"
ACCOUNT_KEY = "guanxi_link_account_key"


def _key(row: str, *, live_only: bool) -> str:
    """The name key of a person or account row; an account's is '' once it is deleted (its
    people are no longer "at the company")."""
    key = f"REPLACE({row}.sort_key, ' ', '')"
    return f"CASE WHEN {row}.deleted_at IS NULL THEN {key} ELSE '' END" if live_only else key


def _key_of(table: str, row: str, column: str) -> str:
    """The name key of ``row``'s account or person, '' when there is none (yet)."""
    key = _key(row="k", live_only=table == ACCOUNTS)
    return f"COALESCE((SELECT {key} FROM {table} k WHERE k.id = {row}.{column}), '')"


def _watched(source: str, differs: str) -> tuple[str, str]:
    """(columns, condition on OLD and NEW) of a rename (or, for accounts, a deletion);
    ``differs`` is the database's null-safe "not equal"."""
    columns = ("sort_key", "deleted_at") if source == ACCOUNTS else ("sort_key",)
    changed = " OR ".join(f"OLD.{c} {differs} NEW.{c}" for c in columns)
    return ", ".join(columns), changed


def _pg_rename(function: str, source: str, column: str, key: str) -> tuple[str, str]:
    columns, changed = _watched(source, "IS DISTINCT FROM")
    return (
        f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE {LINKS} SET {key} = {_key("NEW", live_only=source == ACCOUNTS)}
    WHERE {column} = NEW.id;
    RETURN NULL;
END
$$""",
        f"""
CREATE OR REPLACE TRIGGER {function} AFTER UPDATE OF {columns} ON {source}
FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {function}()""",
    )


_PG_SQL = (
    f"""
CREATE OR REPLACE FUNCTION {LINK_KEYS}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.account_key := {_key_of(ACCOUNTS, "NEW", "account_id")};
    NEW.contact_key := {_key_of(CONTACTS, "NEW", "contact_id")};
    RETURN NEW;
END
$$""",
    f"""
CREATE OR REPLACE TRIGGER {LINK_KEYS} BEFORE INSERT OR UPDATE OF account_id, contact_id
ON {LINKS} FOR EACH ROW EXECUTE FUNCTION {LINK_KEYS}()""",
    *_pg_rename(CONTACT_KEY, CONTACTS, "contact_id", "contact_key"),
    *_pg_rename(ACCOUNT_KEY, ACCOUNTS, "account_id", "account_key"),
)

# SQLite cannot change the row being inserted: the link is updated right after
_SQLITE_SET_KEYS = (
    f"BEGIN UPDATE {LINKS} SET account_key = {_key_of(ACCOUNTS, 'NEW', 'account_id')}, "
    f"contact_key = {_key_of(CONTACTS, 'NEW', 'contact_id')} WHERE id = NEW.id; END"
)


def _sqlite_rename(source: str, column: str, key: str) -> str:
    columns, changed = _watched(source, "IS NOT")
    return (
        f"AFTER UPDATE OF {columns} ON {source} WHEN {changed} "
        f"BEGIN UPDATE {LINKS} SET {key} = {_key('NEW', live_only=source == ACCOUNTS)} "
        f"WHERE {column} = NEW.id; END"
    )


TRIGGERS = TriggerSet(
    tables=(LINKS, CONTACTS, ACCOUNTS),
    postgresql=_PG_SQL,
    pg_triggers=((LINK_KEYS, LINKS), (CONTACT_KEY, CONTACTS), (ACCOUNT_KEY, ACCOUNTS)),
    pg_functions=(f"{LINK_KEYS}()", f"{CONTACT_KEY}()", f"{ACCOUNT_KEY}()"),
    sqlite={
        f"{LINK_KEYS}_insert": f"AFTER INSERT ON {LINKS} {_SQLITE_SET_KEYS}",
        f"{LINK_KEYS}_update": f"AFTER UPDATE OF account_id, contact_id ON {LINKS} "
        f"{_SQLITE_SET_KEYS}",
        CONTACT_KEY: _sqlite_rename(CONTACTS, "contact_id", "contact_key"),
        ACCOUNT_KEY: _sqlite_rename(ACCOUNTS, "account_id", "account_key"),
    },
)
installed = TRIGGERS.installed
install = TRIGGERS.install
uninstall = TRIGGERS.uninstall


def rebuild(connection: Any = default_connection) -> None:
    """Compute every link's keys again from its account and person."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {LINKS} SET account_key = {_key_of(ACCOUNTS, LINKS, 'account_id')}, "
            f"contact_key = {_key_of(CONTACTS, LINKS, 'contact_id')}"
        )


def ensure_installed(sender: Any = None, using: str = "default", **kwargs: Any) -> None:
    """After ``migrate``: triggers a table rebuild dropped are created again, and the keys
    computed again (links written while they were missing get theirs)."""
    from django.db import connections

    TRIGGERS.ensure(connections[using], rebuild)
