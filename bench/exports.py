"""Export figures: rows per second and peak memory of a background export of a whole
workspace, as CSV and as XLSX.

Each format runs in a child process of its own (so its peak RSS is the export's alone), as
the worker runs it: an export job of the workspace's administrator (export scope "all"),
written through ``export_jobs.run`` with the list's default columns (company, phone, owner,
stage — the company and phone fetched per batch):

    GUANXI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/gen \\
        python bench/exports.py --workspace scale --formats csv,xlsx

Prints one JSON object per format. The job, its audit entries and its notification stay in
the database; the file is deleted unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings.dev")
os.environ.setdefault("GUANXI_DEBUG", "false")


def child(workspace_slug: str, fmt: str, kind: str, columns: list[str], keep: bool) -> None:
    django.setup()
    from django.db import connection

    from guanxi.customers import export_jobs
    from guanxi.customers.models import ExportJob
    from guanxi.platform.models import Membership, Workspace

    workspace = Workspace.objects.get(slug=workspace_slug)
    admin = (
        Membership.objects.for_workspace(workspace)
        .select_related("user", "role", "workspace")
        .filter(role__key="administrator", is_active=True)
        .order_by("id")
        .first()
    )
    if admin is None:
        raise SystemExit(f"no administrator in workspace {workspace_slug!r}")
    job = ExportJob(
        workspace=workspace, kind=kind, file_format=fmt, created_by=admin.user,
        updated_by=admin.user, file_name=f"bench-{kind}.{fmt}",
        params={"filters": {}, "custom": {}, "columns": columns, "query": "bench"},
    )  # fmt: skip
    job.save()
    began = time.monotonic()
    export_jobs.run(job)
    seconds = time.monotonic() - began
    job.refresh_from_db()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "format": fmt, "kind": kind, "status": job.status, "error": job.error, "rows": job.rows,
        "seconds": round(seconds, 1), "rows_per_s": round(job.rows / seconds) if seconds else 0,
        "peak_rss_mb": round(peak), "file_mb": round(job.file_size / 2**20, 1),
        "database": connection.vendor,
    }))  # fmt: skip
    if job.file_path and not keep:
        Path(job.file_path).unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", default="scale")
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--kind", default="contacts", choices=["contacts", "accounts"])
    parser.add_argument("--columns", default="company,phone,owner,stage")
    parser.add_argument("--keep", action="store_true", help="keep the files")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    columns = [c for c in args.columns.split(",") if c]
    if args.child:
        child(args.workspace, args.child, args.kind, columns, args.keep)
        return
    for fmt in args.formats.split(","):
        command = [sys.executable, __file__, "--workspace", args.workspace, "--kind", args.kind,
                   "--columns", args.columns, "--child", fmt, *(["--keep"] if args.keep else [])]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            sys.stderr.write(result.stderr)
            raise SystemExit(result.returncode)
        print(result.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
