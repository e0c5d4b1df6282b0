"""Background jobs of the sales app."""

from __future__ import annotations

from django_tasks import task

from guanxi.platform.models import Workspace
from guanxi.sales import forecasts


@task()
def take_weekly_forecast_snapshots() -> int:
    """The weekly forecast snapshots of every active workspace; returns how many were taken."""
    count = 0
    for workspace in Workspace.objects.filter(is_active=True).order_by("id"):
        count += len(forecasts.take_weekly_snapshots(workspace=workspace))
    return count


@task()
def expire_quotes() -> int:
    """Open quotes past their validity become expired, in every active workspace."""
    from guanxi.sales.quotes import expire_overdue_quotes

    return sum(
        expire_overdue_quotes(workspace=workspace)
        for workspace in Workspace.objects.filter(is_active=True).order_by("id")
    )
