from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from gunicorn.app.base import BaseApplication


class GuanxiServer(BaseApplication):
    """Gunicorn, configured from our command line instead of its own."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from guanxi.wsgi import application

        return application


def serve(*, host: str, port: int, workers: int, threads: int, access_log: bool) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings.production")
    GuanxiServer(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 120,
            "graceful_timeout": 20,
            "accesslog": "-" if access_log else None,
            "errorlog": "-",
            "forwarded_allow_ips": os.environ.get("GUANXI_FORWARDED_ALLOW_IPS", "127.0.0.1"),
            "proc_name": "guanxi",
        }
    ).run()


class Command(BaseCommand):
    help = "Serve the web app and API with gunicorn (production-grade WSGI server)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=min(4, (os.cpu_count() or 1) * 2 + 1))
        parser.add_argument("--threads", type=int, default=4, help="Threads per worker.")
        parser.add_argument("--access-log", action="store_true", help="Log every request.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["workers"] < 1 or options["threads"] < 1:
            from guanxi.platform.management.commands._base import fail

            raise fail("--workers and --threads must be at least 1")
        self.stdout.write(f"Guanxi is serving on http://{options['host']}:{options['port']}/")
        self.stdout.flush()
        serve(
            host=options["host"],
            port=options["port"],
            workers=options["workers"],
            threads=options["threads"],
            access_log=options["access_log"],
        )
