"""History tables are read by their record's id alone: the other copied columns lose the
indexes the history library gives every foreign key and unique column (``guanxi.platform.
history``)."""

from django.db import migrations

from guanxi.platform.migration_ops import UnindexFields


class Migration(migrations.Migration):
    dependencies = [
        ("platform", "0007_periodic_runs"),
    ]

    operations = [
        UnindexFields(
            "historicalcustomfield",
            ["created_by", "deleted_by", "public_id", "updated_by", "workspace"],
        ),
        UnindexFields(
            "historicalmembership",
            [
                "calendar_token_hash",
                "created_by",
                "deleted_by",
                "manager",
                "path",
                "public_id",
                "role",
                "team",
                "updated_by",
                "user",
                "workspace",
            ],
        ),
        UnindexFields(
            "historicalrole", ["created_by", "deleted_by", "public_id", "updated_by", "workspace"]
        ),
        UnindexFields(
            "historicalteam", ["created_by", "deleted_by", "public_id", "updated_by", "workspace"]
        ),
        UnindexFields("historicalworkspace", ["parent", "public_id", "slug"]),
    ]
