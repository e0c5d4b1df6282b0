"""Background jobs of the customer master."""

from __future__ import annotations

from django_tasks import task

from guanxi.customers.handover import hand_over
from guanxi.platform.context import acting_in
from guanxi.platform.models import User, Workspace


@task()
def hand_over_job(*, workspace_id: int, from_user_id: int, to_user_id: int, by_id: int) -> dict:
    """A large handover, off the request; safe to run again (it continues where it stopped)."""
    workspace = Workspace.objects.get(pk=workspace_id)
    users = User.objects.in_bulk([from_user_id, to_user_id, by_id])
    with acting_in(workspace):
        return hand_over(
            workspace=workspace,
            from_user=users[from_user_id],
            to_user=users[to_user_id],
            by=users[by_id],
        )


@task()
def run_export_job(*, job_id: int) -> dict:
    """Write a queued export's file; running it again starts the file over."""
    from guanxi.customers import export_jobs
    from guanxi.customers.models import ExportJob

    job = ExportJob.objects.dangerously_all_workspaces().get(pk=job_id)
    job = export_jobs.run(job)
    return {"status": job.status, "rows": job.rows}


@task()
def remove_old_export_files() -> dict:
    """Delete export files older than ``EXPORT_KEEP_DAYS`` (also `guanxi prune_exports`)."""
    from guanxi.customers import export_jobs

    return {"removed": export_jobs.remove_old_files()}
