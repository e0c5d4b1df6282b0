"""Opportunity totals kept by the database: count, amount and weighted amount of the live
deals per workspace, stage, owner, team and currency (``OpportunityTotal``).

Triggers on the opportunity table keep them, so every way a deal is written counts — the
ORM, bulk updates, raw SQL, COPY — and nothing in Python has to remember to. The board reads
its column totals here: a workspace with 200,000 deals and 1,000 owners has some 12,000 of
these rows, and a manager's columns sum a few hundred of them.

On PostgreSQL one trigger function adds a deal to its new bucket and takes it out of its old
one, in key order (two deals swapped between the same two buckets by two transactions lock
the rows in the same order). On SQLite four small triggers do the same. A table rebuilt by
a later migration on SQLite loses its triggers: ``ensure_installed`` (after every
``migrate``) puts them back and recounts the totals.
"""

from __future__ import annotations

from typing import Any

from django.db import connection as default_connection

from guanxi.platform.triggers import TriggerSet

TABLE = "sales_opportunitytotal"
SOURCE = "sales_opportunity"
KEY = "workspace_id, stage_id, owner_key, team_key, currency"
COLUMNS = f"{KEY}, deals, amount, weighted"
PG_FUNCTION = "guanxi_opportunity_totals"
PG_ADD = "guanxi_opportunity_totals_add"

_PG_SQL = (
    f"""
CREATE OR REPLACE FUNCTION {PG_ADD}(
    ws bigint, st bigint, ow bigint, tm bigint, cur varchar, n bigint, amt numeric, wtd numeric
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF n < 0 THEN  -- a counted deal leaves its bucket, which exists
        UPDATE {TABLE} SET deals = deals + n, amount = amount + amt, weighted = weighted + wtd
        WHERE workspace_id = ws AND stage_id = st AND owner_key = ow AND team_key = tm
            AND currency = cur;
    ELSE
        INSERT INTO {TABLE} ({COLUMNS}) VALUES (ws, st, ow, tm, cur, n, amt, wtd)
        ON CONFLICT ({KEY}) DO UPDATE SET
            deals = {TABLE}.deals + EXCLUDED.deals,
            amount = {TABLE}.amount + EXCLUDED.amount,
            weighted = {TABLE}.weighted + EXCLUDED.weighted;
    END IF;
END
$$""",
    f"""
CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was boolean := TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL;
    is_now boolean := TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL;
BEGIN
    IF was AND is_now AND (OLD.workspace_id, OLD.stage_id, COALESCE(OLD.owner_id, 0),
            COALESCE(OLD.team_id, 0), OLD.currency) = (NEW.workspace_id, NEW.stage_id,
            COALESCE(NEW.owner_id, 0), COALESCE(NEW.team_id, 0), NEW.currency) THEN
        IF OLD.amount IS DISTINCT FROM NEW.amount
                OR OLD.probability IS DISTINCT FROM NEW.probability THEN
            PERFORM {PG_ADD}(NEW.workspace_id, NEW.stage_id, COALESCE(NEW.owner_id, 0),
                COALESCE(NEW.team_id, 0), NEW.currency, 0, NEW.amount - OLD.amount,
                NEW.amount * NEW.probability - OLD.amount * OLD.probability);
        END IF;
        RETURN NULL;
    END IF;
    -- two buckets: lock them in key order
    IF was AND (NOT is_now OR (OLD.workspace_id, OLD.stage_id, COALESCE(OLD.owner_id, 0),
            COALESCE(OLD.team_id, 0), OLD.currency) < (NEW.workspace_id, NEW.stage_id,
            COALESCE(NEW.owner_id, 0), COALESCE(NEW.team_id, 0), NEW.currency)) THEN
        PERFORM {PG_ADD}(OLD.workspace_id, OLD.stage_id, COALESCE(OLD.owner_id, 0),
            COALESCE(OLD.team_id, 0), OLD.currency, -1, -OLD.amount,
            -(OLD.amount * OLD.probability));
        was := false;
    END IF;
    IF is_now THEN
        PERFORM {PG_ADD}(NEW.workspace_id, NEW.stage_id, COALESCE(NEW.owner_id, 0),
            COALESCE(NEW.team_id, 0), NEW.currency, 1, NEW.amount,
            NEW.amount * NEW.probability);
    END IF;
    IF was THEN
        PERFORM {PG_ADD}(OLD.workspace_id, OLD.stage_id, COALESCE(OLD.owner_id, 0),
            COALESCE(OLD.team_id, 0), OLD.currency, -1, -OLD.amount,
            -(OLD.amount * OLD.probability));
    END IF;
    RETURN NULL;
END
$$""",
    f"""
CREATE OR REPLACE TRIGGER {PG_FUNCTION}
AFTER INSERT OR DELETE OR UPDATE OF workspace_id, stage_id, owner_id, team_id, currency,
    amount, probability, deleted_at
ON {SOURCE} FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()""",
)


def _sqlite_add(row: str) -> str:
    return (
        f"INSERT INTO {TABLE} ({COLUMNS}) VALUES ({row}.workspace_id, {row}.stage_id, "
        f"COALESCE({row}.owner_id, 0), COALESCE({row}.team_id, 0), {row}.currency, 1, "
        f"{row}.amount, {row}.amount * {row}.probability) "
        f"ON CONFLICT ({KEY}) DO UPDATE SET deals = deals + excluded.deals, "
        f"amount = amount + excluded.amount, weighted = weighted + excluded.weighted;"
    )


def _sqlite_take_out(row: str) -> str:
    # an update, not an upsert: a counted deal's bucket exists (and a table emptied in any
    # order, as the test runner's flush does, leaves no orphan bucket behind)
    return (
        f"UPDATE {TABLE} SET deals = deals - 1, amount = amount - {row}.amount, "
        f"weighted = weighted - {row}.amount * {row}.probability "
        f"WHERE workspace_id = {row}.workspace_id AND stage_id = {row}.stage_id "
        f"AND owner_key = COALESCE({row}.owner_id, 0) AND team_key = COALESCE({row}.team_id, 0) "
        f"AND currency = {row}.currency;"
    )


_WATCHED = "workspace_id, stage_id, owner_id, team_id, currency, amount, probability, deleted_at"
_SQLITE_SQL = {
    "insert": f"AFTER INSERT ON {SOURCE} WHEN NEW.deleted_at IS NULL "
    f"BEGIN {_sqlite_add('NEW')} END",
    "delete": f"AFTER DELETE ON {SOURCE} WHEN OLD.deleted_at IS NULL "
    f"BEGIN {_sqlite_take_out('OLD')} END",
    # an update takes the deal out of its old bucket and adds it to its new one
    "update_old": f"AFTER UPDATE OF {_WATCHED} ON {SOURCE} WHEN OLD.deleted_at IS NULL "
    f"BEGIN {_sqlite_take_out('OLD')} END",
    "update_new": f"AFTER UPDATE OF {_WATCHED} ON {SOURCE} WHEN NEW.deleted_at IS NULL "
    f"BEGIN {_sqlite_add('NEW')} END",
}

REBUILD = (
    f"INSERT INTO {TABLE} ({COLUMNS}) "
    f"SELECT workspace_id, stage_id, COALESCE(owner_id, 0), COALESCE(team_id, 0), currency, "
    f"COUNT(*), SUM(amount), SUM(amount * probability) FROM {SOURCE} "
    f"WHERE deleted_at IS NULL GROUP BY workspace_id, stage_id, COALESCE(owner_id, 0), "
    f"COALESCE(team_id, 0), currency"
)


TRIGGERS = TriggerSet(
    tables=(TABLE, SOURCE),
    postgresql=_PG_SQL,
    pg_triggers=((PG_FUNCTION, SOURCE),),
    pg_functions=(
        f"{PG_FUNCTION}()",
        f"{PG_ADD}(bigint, bigint, bigint, bigint, varchar, bigint, numeric, numeric)",
    ),
    sqlite={f"{PG_FUNCTION}_{suffix}": body for suffix, body in _SQLITE_SQL.items()},
)
installed = TRIGGERS.installed
install = TRIGGERS.install
uninstall = TRIGGERS.uninstall


def rebuild(connection: Any = default_connection) -> None:
    """Count every workspace's totals again from the deals (in one transaction: a reader
    sees the old totals or the new ones)."""
    from django.db import transaction

    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # writers wait while the totals are recounted, so none is lost in between
            cursor.execute(f"LOCK TABLE {SOURCE} IN SHARE MODE")
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute(REBUILD)


def ensure_installed(sender: Any = None, using: str = "default", **kwargs: Any) -> None:
    """After ``migrate``: triggers a table rebuild dropped are created again, and the totals
    recounted (deals written while they were missing are counted too)."""
    from django.db import connections

    TRIGGERS.ensure(connections[using], rebuild)
