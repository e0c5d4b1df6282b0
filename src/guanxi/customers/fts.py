"""Full-text index of customer names on SQLite (FTS5); PostgreSQL uses trigram indexes.

Each customer's ``search_document`` is copied into an FTS5 table by triggers, with every Han
character made a token of its own: a phrase of characters then finds Chinese text anywhere
inside a name (远景 in 上海远景贸易), and a prefix phrase finds Latin and pinyin terms by
their start (zw → 张伟's initials). The search selector narrows candidates with the index,
then applies the same conditions it uses on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from guanxi.customers.normalize import _is_han

TABLES = ("customers_contact", "customers_account")
FUNCTION = "guanxi_fts_text"


def fts_text(text: str | None) -> str:
    """The text as the index sees it: Han characters set apart by spaces."""
    if not text:
        return ""
    return "".join(f" {ch} " if _is_han(ch) else ch for ch in text)


def match_expression(*queries: str) -> str | None:
    """An FTS5 query finding any of ``queries`` as a phrase whose last term may go on;
    None when nothing in them can be indexed (punctuation only)."""
    phrases = []
    for query in dict.fromkeys(q for q in queries if q):
        text = " ".join(fts_text(query).split())
        if any(ch.isalnum() for ch in text):
            phrases.append('"' + text.replace('"', '""') + '" *')
    return " OR ".join(phrases) or None


def register_function(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Make the trigger function available on every new SQLite connection."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(FUNCTION, 1, fts_text, deterministic=True)


def create_index(schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    register_function(None, schema_editor.connection)
    for table in TABLES:
        fts = f"{table}_fts"
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(doc, prefix='2 3')"
        )
        schema_editor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {fts}_insert AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, doc) VALUES (new.id, {FUNCTION}(new.search_document)); END"
        )
        schema_editor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {fts}_update AFTER UPDATE OF search_document ON {table}"
            f" BEGIN UPDATE {fts} SET doc = {FUNCTION}(new.search_document)"
            f" WHERE rowid = new.id; END"
        )
        schema_editor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {fts}_delete AFTER DELETE ON {table} BEGIN "
            f"DELETE FROM {fts} WHERE rowid = old.id; END"
        )
        schema_editor.execute(f"DELETE FROM {fts}")
        schema_editor.execute(
            f"INSERT INTO {fts}(rowid, doc) SELECT id, {FUNCTION}(search_document) FROM {table}"
        )


def drop_index(schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    for table in TABLES:
        fts = f"{table}_fts"
        for suffix in ("insert", "update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {fts}")
