"""History tables are read by their record's id alone: the other copied columns lose the
indexes the history library gives every foreign key and unique column (``guanxi.platform.
history``)."""

from django.db import migrations

from guanxi.platform.migration_ops import UnindexFields


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0018_history_indexed_by_record"),
        ("platform", "0008_history_indexed_by_record"),
        ("sales", "0008_opportunity_totals"),
    ]

    operations = [
        UnindexFields(
            "historicalassignmentrule",
            ["created_by", "deleted_by", "public_id", "team", "updated_by", "user", "workspace"],
        ),
        UnindexFields(
            "historicallead",
            [
                "converted_account",
                "converted_by",
                "converted_contact",
                "converted_opportunity",
                "created_by",
                "deleted_by",
                "owner",
                "public_id",
                "team",
                "updated_by",
                "workspace",
            ],
        ),
        UnindexFields(
            "historicalleadroutingsettings",
            [
                "created_by",
                "deleted_by",
                "fallback_team",
                "fallback_user",
                "public_id",
                "updated_by",
                "workspace",
            ],
        ),
        UnindexFields(
            "historicalopportunity",
            [
                "account",
                "contact",
                "created_by",
                "deleted_by",
                "owner",
                "pipeline",
                "public_id",
                "stage",
                "team",
                "updated_by",
                "workspace",
            ],
        ),
        UnindexFields(
            "historicalorder",
            [
                "account",
                "contact",
                "created_by",
                "deleted_by",
                "opportunity",
                "owner",
                "public_id",
                "team",
                "updated_by",
                "workspace",
            ],
        ),
        UnindexFields(
            "historicalpricebook",
            ["created_by", "dealer", "deleted_by", "public_id", "updated_by", "workspace"],
        ),
        UnindexFields(
            "historicalproduct",
            ["created_by", "deleted_by", "public_id", "updated_by", "workspace"],
        ),
        UnindexFields(
            "historicalquote",
            [
                "account",
                "contact",
                "created_by",
                "decided_by",
                "deleted_by",
                "opportunity",
                "order",
                "owner",
                "public_id",
                "team",
                "updated_by",
                "workspace",
            ],
        ),
        UnindexFields(
            "historicalscoringrule",
            ["created_by", "deleted_by", "public_id", "updated_by", "workspace"],
        ),
        UnindexFields(
            "historicalslapolicy",
            ["created_by", "deleted_by", "public_id", "updated_by", "workspace"],
        ),
    ]
