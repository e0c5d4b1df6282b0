from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


def openapi_document() -> str:
    from guanxi.api import api

    schema = api.get_openapi_schema(path_prefix="/api/v1")
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


class Command(BaseCommand):
    help = "Print the OpenAPI document, or write it to a file (docs/openapi.json)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", metavar="PATH", help="Write to PATH instead of stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        document = openapi_document()
        if options["write"]:
            Path(options["write"]).write_text(document, encoding="utf-8")
            self.stderr.write(f"wrote {options['write']}")
        else:
            self.stdout.write(document, ending="")
