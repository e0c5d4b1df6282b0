"""The columns a customer list can show or export: label and value of a row each, and what
each needs fetched besides the row (see ``selectors.with_details``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.customers import selectors
from guanxi.platform.models import CustomField

CUSTOM_PREFIX = "cf."


def person_name(user: Any) -> str:
    """A user as people call them: full name (family name first for Han names), else the
    username; empty for nobody."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _first(row: Any, kind: str) -> str:
    values = [p.value for p in selectors.related(row, "contact_points") if p.kind == kind]
    return values[0] if values else ""


def _day(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "SHORT_DATE_FORMAT")


def _company(row: Any) -> str:
    names = [link.account.name for link in selectors.related(row, "memberships")]
    return names[0] if names else ""


def _city(row: Any) -> str:
    cities = [a.city for a in selectors.related(row, "addresses") if a.city]
    return cities[0] if cities else ""


Column = tuple[Any, Callable[[Any], Any]]  # label, value of a row
# what each column needs fetched besides the row (see selectors.with_details)
NEEDS = {"phone": "contact_points", "email": "contact_points", "city": "addresses",
         "tags": "tags", "company": "memberships"}  # fmt: skip
COMMON_COLUMNS: dict[str, Column] = {
    "phone": (gettext_lazy("Phone"), lambda row: _first(row, "phone")),
    "email": (gettext_lazy("E-mail"), lambda row: _first(row, "email")),
    "city": (gettext_lazy("City"), _city),
    "owner": (gettext_lazy("Owner"), lambda row: person_name(row.owner)),
    "team": (gettext_lazy("Team"), lambda row: row.team.name if row.team_id else ""),
    "stage": (
        gettext_lazy("Lifecycle stage"),
        lambda row: row.lifecycle_stage.name if row.lifecycle_stage_id else "",
    ),
    "tier": (gettext_lazy("Value tier"), lambda row: row.value_tier),
    "tags": (
        gettext_lazy("Tags"),
        lambda row: ", ".join(t.name for t in selectors.related(row, "tags")),
    ),
    "created": (gettext_lazy("Created"), lambda row: _day(row.created_at)),
    "updated": (gettext_lazy("Updated"), lambda row: _day(row.updated_at)),
}
COLUMNS: dict[str, dict[str, Column]] = {
    "contacts": {
        "company": (gettext_lazy("Company"), _company),
        "occupation": (gettext_lazy("Occupation"), lambda row: row.occupation),
        **COMMON_COLUMNS,
    },
    "accounts": {
        "industry": (gettext_lazy("Industry"), lambda row: row.industry),
        "size": (gettext_lazy("Size"), lambda row: row.get_size_display() if row.size else ""),
        **COMMON_COLUMNS,
    },
}
DEFAULT_COLUMNS = {
    "contacts": ["company", "phone", "owner", "stage"],
    "accounts": ["industry", "phone", "owner", "stage"],
}


def custom_cell(value: Any) -> str:
    """A custom field's stored value as text (money with its currency, lists joined)."""
    if value in (None, "", []):
        return ""
    if isinstance(value, dict) and "amount" in value:
        amount = formats.number_format(value["amount"], use_l10n=True, force_grouping=True)
        return f"{amount} {value.get('currency', '')}".strip()
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, int | float):
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    return str(value)


def available_columns(kind: str, definitions: list[CustomField]) -> dict[str, Column]:
    """The list's columns plus one per custom field (``cf.<key>``)."""
    columns = dict(COLUMNS[kind])
    for definition in definitions:
        columns[CUSTOM_PREFIX + definition.key] = (
            definition.label,
            lambda row, key=definition.key: custom_cell(row.custom_fields.get(key)),
        )
    return columns
