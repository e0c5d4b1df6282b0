"""History tables are read by their record's id alone: the other copied columns lose the
indexes the history library gives every foreign key and unique column (``guanxi.platform.
history``)."""

from django.db import migrations

from guanxi.platform.migration_ops import UnindexFields


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0017_account_link_name_keys"),
        ("platform", "0008_history_indexed_by_record"),
    ]

    operations = [
        UnindexFields(
            "historicalaccount",
            [
                "created_by",
                "deleted_by",
                "lifecycle_stage",
                "owner",
                "parent",
                "public_id",
                "team",
                "updated_by",
                "workspace",
            ],
        ),
        UnindexFields(
            "historicaladdress",
            [
                "account",
                "contact",
                "created_by",
                "deleted_by",
                "public_id",
                "updated_by",
                "workspace",
            ],
        ),
        UnindexFields(
            "historicalcontact",
            [
                "created_by",
                "deleted_by",
                "lifecycle_stage",
                "owner",
                "public_id",
                "team",
                "updated_by",
                "workspace",
            ],
        ),
        UnindexFields(
            "historicalcontactpoint",
            [
                "account",
                "contact",
                "created_by",
                "deleted_by",
                "public_id",
                "updated_by",
                "workspace",
            ],
        ),
    ]
