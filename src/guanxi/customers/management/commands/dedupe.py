"""`guanxi dedupe`: scan a workspace's contacts for duplicates and propose clusters."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from guanxi.customers import dedupe
from guanxi.platform.context import acting_in
from guanxi.platform.management.commands._base import GuanxiCommand, fail


class Command(GuanxiCommand):
    help = (
        "Scan a workspace's contacts for duplicates with a record-linkage model trained on "
        "them, put the pairs found in the review queue (merging those that share a phone or "
        "e-mail above the workspace's auto-merge threshold, if one is set) and write one row "
        "per contact in a proposed cluster: contact_id, external_id, cluster_id, score. "
        "Ends with one JSON line of counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument("--user", help="Who scans (default: the first administrator).")
        parser.add_argument("--output", help="CSV file for the clusters (default: none).")
        parser.add_argument(
            "--spark", metavar="MASTER",
            help="Score on Spark (e.g. local[2], spark://host:7077) instead of in-process "
            "DuckDB; needs pyspark and Java.",
        )  # fmt: skip
        parser.add_argument(
            "--threshold", type=float,
            help="Propose pairs from this probability (default: the workspace's setting).",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = self.workspace(options["workspace"])
        membership = self.acting_member(workspace, options["user"])
        threshold = options["threshold"]
        if threshold is not None and not 0 < threshold < 1:
            raise fail("--threshold: a probability between 0 and 1")
        output = Path(options["output"]) if options["output"] else None
        if output is not None and not output.parent.is_dir():
            raise fail(f"--output: no directory {output.parent}")
        db_api = None
        if options["spark"]:
            try:
                db_api = dedupe.spark_api(options["spark"])
            except ImportError as exc:
                raise fail(f"--spark: {exc} (pip install pyspark)") from exc
        with acting_in(workspace, membership):
            run = dedupe.start_run(membership=membership, threshold=threshold)
            counts = dedupe.scan(
                run, progress=lambda message: sys.stderr.write(message + "\n"), db_api=db_api
            )
            if output is not None:
                with output.open("w", newline="", encoding="utf-8") as handle:
                    writer = csv.writer(handle)
                    writer.writerow(["contact_id", "external_id", "cluster_id", "score"])
                    for row in dedupe.cluster_rows(run):
                        writer.writerow([*row[:3], f"{row[3]:.4f}"])
        self.stdout.write(json.dumps({"run": run.public_id, **counts}, ensure_ascii=False))
