"""Helpers every page module uses: the acting membership, rights, 404s, query strings."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from guanxi.platform.errors import Forbidden, NotFound
from guanxi.platform.models import Membership
from guanxi.platform.permissions import Scope
from guanxi.platform.visibility import get_visible_or_404


def membership_of(request: HttpRequest) -> Membership:
    if request.membership is None:
        raise Http404(_("You are not a member of any workspace."))
    return request.membership


def may(membership: Membership, action: str, model: type) -> bool:
    return membership.scope_for(model.object_type, action) != Scope.NONE


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def visible_or_404(
    model: type, membership: Membership, public_id: str, *, action: str = "view",
    queryset: Any = None,
) -> Any:  # fmt: skip
    """``get_visible_or_404`` for pages: Django's 404 and 403 pages, not API problems."""
    try:
        return get_visible_or_404(
            model, user=membership, public_id=public_id, action=action, queryset=queryset
        )
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc


def query_date(value: str | None) -> date | None:
    """A YYYY-MM-DD from a query string; None when empty or not a real date."""
    try:
        return parse_date(value or "")
    except ValueError:  # well-formed but impossible, e.g. 2025-13-01
        return None
