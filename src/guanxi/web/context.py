"""Template context every page gets."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def membership(request: HttpRequest) -> dict[str, Any]:
    """The membership the request acts in (workspace, role), for the shell."""
    return {"membership": getattr(request, "membership", None)}
