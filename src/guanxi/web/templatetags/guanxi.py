"""Template filters of the web pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def person(user: Any) -> str:
    """A user as people call them: full name (family name first for Han names), else the
    username; a dash for nobody."""
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    """``mapping[key]`` in a template; None when absent."""
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def may_view(membership: Any, object_type: str) -> bool:
    """{% if membership|may_view:"customers.duplicatepair" %}: the role sees such records."""
    return membership is not None and membership.scope_for(object_type, "view") != "none"
