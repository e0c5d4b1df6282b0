"""FTS5 name index on SQLite, kept in step by triggers (see guanxi.customers.fts)."""

from django.db import migrations

from guanxi.customers import fts


def create(apps, schema_editor):
    fts.create_index(schema_editor)


def drop(apps, schema_editor):
    fts.drop_index(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_no_audit_fk_indexes")]
    operations = [migrations.RunPython(create, drop)]
