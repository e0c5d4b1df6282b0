"""Workspaces created before the sales app existed get the default "Sales" pipeline."""

from django.db import migrations
from django.utils import timezone

from guanxi.platform.ids import new_public_id

# key, name, probability, forecast category, won, closed (as sales.services.DEFAULT_STAGES)
DEFAULT_STAGES = [
    ("qualification", "Qualification", 10, "pipeline", False, False),
    ("needs_analysis", "Needs analysis", 20, "pipeline", False, False),
    ("proposal", "Proposal", 50, "best_case", False, False),
    ("negotiation", "Negotiation", 80, "commit", False, False),
    ("closed_won", "Closed won", 100, "closed", True, True),
    ("closed_lost", "Closed lost", 0, "omitted", False, True),
]


def add_pipelines(apps, schema_editor):
    Workspace = apps.get_model("platform", "Workspace")
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    now = timezone.now()
    for workspace in Workspace.objects.all():
        if Pipeline.objects.filter(workspace=workspace, deleted_at__isnull=True).exists():
            continue
        pipeline = Pipeline.objects.create(
            workspace=workspace,
            public_id=new_public_id("pipe"),
            key="sales",
            name="Sales",
            is_default=True,
            created_at=now,
            updated_at=now,
        )
        Stage.objects.bulk_create(
            Stage(
                workspace=workspace,
                public_id=new_public_id("sstg"),
                pipeline=pipeline,
                key=key,
                name=name,
                position=position,
                probability=probability,
                forecast_category=category,
                is_won=won,
                is_closed=closed,
                created_at=now,
                updated_at=now,
            )
            for position, (key, name, probability, category, won, closed) in enumerate(
                DEFAULT_STAGES
            )
        )


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]
    operations = [migrations.RunPython(add_pipelines, migrations.RunPython.noop)]
