"""The ``guanxi`` command: Django's manage.py with Guanxi's own verbs (demo, serve, worker,
workspace, user, token, openapi) as management commands."""

from __future__ import annotations

import os
import sys

from guanxi.settings.env import ConfigurationError

# The demo serves plain HTTP on the loopback address; everything else defaults to the
# production settings (secure cookies, HSTS) unless DJANGO_SETTINGS_MODULE says otherwise.
DEV_COMMANDS = {"demo"}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "guanxi"
    command = argv[1] if len(argv) > 1 else ""
    default = "guanxi.settings.dev" if command in DEV_COMMANDS else "guanxi.settings.production"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", default)
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(argv)
    except ConfigurationError as exc:
        print(f"guanxi: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
