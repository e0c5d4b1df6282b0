"""Workspaces created before the customer master existed get the default lifecycle stages."""

from django.db import migrations
from django.utils import timezone

from guanxi.platform.ids import new_public_id

DEFAULT_STAGES = [
    ("lead", "Lead"),
    ("prospect", "Prospect"),
    ("customer", "Customer"),
    ("loyal", "Loyal customer"),
    ("former", "Former customer"),
]


def add_stages(apps, schema_editor):
    Workspace = apps.get_model("platform", "Workspace")
    LifecycleStage = apps.get_model("customers", "LifecycleStage")
    now = timezone.now()
    for workspace in Workspace.objects.all():
        if LifecycleStage.objects.filter(workspace=workspace).exists():
            continue
        LifecycleStage.objects.bulk_create(
            LifecycleStage(
                workspace=workspace,
                public_id=new_public_id("stage"),
                key=key,
                name=name,
                position=position,
                is_default=position == 0,
                created_at=now,
                updated_at=now,
            )
            for position, (key, name) in enumerate(DEFAULT_STAGES)
        )


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(add_stages, migrations.RunPython.noop)]
