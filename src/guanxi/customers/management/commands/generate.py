"""`guanxi generate`: bulk-load synthetic customers and timeline for benchmarks."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import CommandParser

from guanxi.customers.generate import generate
from guanxi.platform import services
from guanxi.platform.management.commands._base import GuanxiCommand, fail
from guanxi.platform.models import Workspace


class Command(GuanxiCommand):
    help = (
        "Bulk-load synthetic customers (accounts and contacts with phones, e-mail and WeChat "
        "ids) and interactions into a workspace, for benchmarks. Prints a JSON summary."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, required=True, help="Accounts + contacts.")
        parser.add_argument("--interactions", type=int, default=0)
        parser.add_argument("--seed", type=int, default=0, help="Same seed, same data.")
        parser.add_argument(
            "--workspace", default="scale", help="Slug; created when missing (default: scale)."
        )
        parser.add_argument(
            "--heavy", type=int, default=0,
            help="Give the first contact this many of the interactions (a long timeline).",
        )  # fmt: skip
        parser.add_argument(
            "--reps", type=int, default=50, help="Sales reps to create in a new workspace."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["customers"] < 2:
            raise fail("--customers must be at least 2")
        if options["interactions"] < 0 or not 0 <= options["heavy"] <= options["interactions"]:
            raise fail("--interactions must be ≥ 0 and --heavy between 0 and --interactions")
        slug = options["workspace"]
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            workspace = services.create_workspace(slug=slug, name=f"Scale test {slug}")
        report = generate(
            workspace=workspace,
            customers=options["customers"],
            interactions=options["interactions"],
            seed=options["seed"],
            heavy=options["heavy"],
            reps=options["reps"],
            progress=lambda message: self.stderr.write(message),
        )
        self.stdout.write(json.dumps(asdict(report), ensure_ascii=False))
