"""PostgreSQL: an index that finds one or two Han characters anywhere in a name.

Trigram indexes cannot serve ``LIKE '%远景%'`` (a two-character pattern has no trigram
inside it). Here every Han character becomes a word of its own and a GIN full-text index
answers the phrase 远 <-> 景 instead.
"""

from django.db import migrations

HAN = "㐀-䶿一-鿿豈-﫿𠀀-𮯯"
INDEXES = [
    ("customers_contact", "contact_search_han"),
    ("customers_account", "account_search_han"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE OR REPLACE FUNCTION guanxi_han_spaced(text) RETURNS text"
        " LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS"
        f" $$ SELECT regexp_replace($1, '([{HAN}])', ' \\1 ', 'g') $$"
    )
    for table, name in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin"
            " (to_tsvector('simple', guanxi_han_spaced(search_document)))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _, name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute("DROP FUNCTION IF EXISTS guanxi_han_spaced(text)")


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_search_fts5_on_sqlite")]
    operations = [migrations.RunPython(create, drop)]
