"""Background jobs of lead routing; run them from a scheduler (cron, systemd timers), as
`guanxi lead_sla` (every few minutes) and `guanxi score_leads` (daily) do by hand."""

from __future__ import annotations

from django_tasks import task

from guanxi.platform.context import acting_in
from guanxi.platform.models import Workspace
from guanxi.sales.lead_routing import services


@task()
def sweep_lead_sla() -> dict:
    """Escalate every workspace's overdue, untouched leads."""
    return services.escalate_overdue_leads()


@task()
def rescore_all_leads() -> dict:
    """Score open leads again in every active workspace, so behaviour points fade."""
    totals = {"workspaces": 0, "checked": 0, "changed": 0}
    for workspace in Workspace.objects.filter(is_active=True).order_by("pk"):
        with acting_in(workspace):
            result = services.rescore_leads(workspace=workspace)
        totals["workspaces"] += 1
        totals["checked"] += result["checked"]
        totals["changed"] += result["changed"]
    return totals
