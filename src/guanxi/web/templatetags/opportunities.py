"""Template filters of the opportunity pages."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

register = template.Library()


@register.filter
def may_add(membership: Any, object_type: str) -> bool:
    """{% if membership|may_add:"sales.opportunity" %}: the role may create such records."""
    return membership is not None and membership.scope_for(object_type, "add") != "none"


@register.filter
def money(value: Any) -> str:
    """An amount with thousands separators and no cents when it has none: 1,250,000 or
    99.50."""
    if value is None or value == "":
        return "—"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if number == number.to_integral_value():
        return f"{number:,.0f}"
    return f"{number:,.2f}"
