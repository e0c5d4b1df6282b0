"""Trigram indexes so name search (LIKE 'term%' and '% term%') stays fast on PostgreSQL."""

from django.db import migrations

INDEXES = [
    ("customers_contact", "contact_search_trgm"),
    ("customers_account", "account_search_trgm"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, name in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (search_document gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _, name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_contactpoint_consent_state")]
    operations = [migrations.RunPython(create, drop)]
