"""`guanxi import`: bring a CSV, XLSX, vCard or JSON-lines file into the customer master, a
file of interactions onto contacts' timelines, or order history."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from guanxi.customers import import_templates
from guanxi.customers.imports import engine
from guanxi.customers.models import ImportJob
from guanxi.platform.management.commands._base import GuanxiCommand, fail


class Command(GuanxiCommand):
    help = (
        "Import contacts, accounts, interactions, orders or leads from a file (CSV in UTF-8, GB18030/GBK or Big5; XLSX; "
        "vCard; JSON lines). Prints progress, then one JSON line of counts. A stopped import "
        "continues where it stopped with --resume JOB_ID."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="The file to import.")
        parser.add_argument(
            "--type", dest="kind", choices=sorted(engine.MODELS), default="contacts"
        )
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument("--user", help="Who imports (default: the first administrator).")
        parser.add_argument("--mapping", help="A saved import template's name, or a JSON file "
                            "{column: field} (default: suggested from the headers).")  # fmt: skip
        parser.add_argument("--sheet", default="", help="XLSX sheet (default: the first).")
        parser.add_argument("--policy", choices=ImportJob.Policy.values, default="skip",
                            help="What to do with rows that match an existing customer.")  # fmt: skip
        parser.add_argument("--default", action="append", default=[], metavar="FIELD=VALUE",
                            help="A value for a field whose cell is empty (or that no column "
                                 "fills), e.g. channel=wechat; may be repeated.")  # fmt: skip
        parser.add_argument("--dry-run", action="store_true", help="Check only; keep nothing.")
        parser.add_argument("--resume", metavar="JOB_ID", help="Continue a stopped import.")
        parser.add_argument("--batch", type=int, default=engine.BATCH, help=argparse_hide())

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = self.workspace(options["workspace"])
        if options["resume"]:
            job = (
                ImportJob.objects.for_workspace(workspace)
                .filter(public_id=options["resume"])
                .first()
            )
            if job is None:
                raise fail(f"no import {options['resume']!r} in workspace {workspace.slug!r}")
        else:
            if not options["file"]:
                raise fail("give the file to import (or --resume JOB_ID)")
            path = Path(options["file"])
            if not path.is_file():
                raise fail(f"no file {path}")
            membership = self.acting_member(workspace, options["user"])
            mapping, template = None, None
            if options["mapping"] and not Path(options["mapping"]).is_file():
                template = (
                    import_templates.usable_templates(membership=membership, kind=options["kind"])
                    .filter(name=options["mapping"])
                    .first()
                )
                if template is None:
                    raise fail(f"--mapping: no file and no {options['kind']} import template "
                               f"named {options['mapping']!r}")  # fmt: skip
            elif options["mapping"]:
                try:
                    mapping = json.loads(Path(options["mapping"]).read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise fail(f"--mapping: {exc}") from exc
            defaults = {}
            for item in options["default"]:
                name, equals, value = item.partition("=")
                if not equals or not name.strip():
                    raise fail(f"--default {item!r}: write FIELD=VALUE")
                defaults[name.strip()] = value.strip()
            with path.open("rb") as upload:
                job = engine.create_job(
                    membership=membership, kind=options["kind"], upload=upload,
                    file_name=path.name, sheet=options["sheet"], mapping=mapping,
                    policy=options["policy"], defaults=defaults,
                )  # fmt: skip
            if template is not None:
                job = import_templates.apply_template(template=template, job=job)
            self.stderr.write(f"{job.public_id}: {job.file_format}"
                              f"{' ' + job.encoding if job.encoding else ''}, columns mapped: "
                              + ", ".join(f"{c} → {m['field']}" for c, m in job.mapping.items()))  # fmt: skip
        if options["dry_run"]:
            counts = engine.dry_run(job)
            for error in counts.get("errors_sample", [])[:20]:
                self.stderr.write(f"line {error['line']}, column {error['column']!r}: "
                                  f"{error['message']} ({error['value']!r})")  # fmt: skip
            result = {k: v for k, v in counts.items() if k != "errors_sample"}
        else:
            job = engine.run(job, progress=self._progress, batch=options["batch"])
            if job.status == ImportJob.Status.FAILED:
                raise fail(
                    f"{job.public_id} stopped: {job.error} (fix it, then --resume {job.public_id})"
                )
            result = dict(job.counts)
        self.stdout.write(json.dumps({"job": job.public_id, **result}, ensure_ascii=False))

    def _progress(self, job: ImportJob, rate: float) -> None:
        total = job.total_rows or 0
        done = job.counts.get("total", 0)
        eta = (total - done) / rate if rate > 0 and total else 0
        share = f" ({done * 100 // total}%)" if total else ""
        sys.stderr.write(f"\r{done:,}/{total:,} rows{share}, {rate:,.0f} rows/s, ETA {eta:,.0f} s ")
        if done >= total:
            sys.stderr.write("\n")


def argparse_hide() -> str:
    import argparse

    return argparse.SUPPRESS
