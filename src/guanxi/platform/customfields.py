"""Validating the values of administrator-defined custom fields (REQUIREMENTS §1).

Values are stored as JSON on the record: text and choice as strings, number as a JSON
number, money as ``{"amount": "12.50", "currency": "CNY"}``, date as ``YYYY-MM-DD``,
multi-choice as a list of strings, boolean as true/false.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from guanxi.platform.errors import ValidationFailed
from guanxi.platform.models import CustomField, Workspace

MAX_TEXT = 2000


def definitions(*, workspace: Workspace | int, applies_to: str) -> dict[str, CustomField]:
    fields = CustomField.objects.for_workspace(workspace).filter(applies_to=applies_to)
    return {field.key: field for field in fields.order_by("position", "key")}


def _clean_value(field: CustomField, value: Any, *, currency: str) -> Any:
    kind = field.field_type
    if kind == CustomField.FieldType.TEXT:
        if not isinstance(value, str):
            raise ValueError("must be text")
        if len(value) > MAX_TEXT:
            raise ValueError(f"must be at most {MAX_TEXT} characters")
        return value
    if kind == CustomField.FieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError("must be a number")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ValueError("must be a number") from None
        if not number.is_finite():
            raise ValueError("must be a finite number")
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == CustomField.FieldType.MONEY:
        amount, code = (
            (value.get("amount"), value.get("currency", currency))
            if isinstance(value, dict)
            else (value, currency)
        )
        try:
            decimal = Decimal(str(amount))
        except InvalidOperation:
            raise ValueError("amount must be a decimal number") from None
        if isinstance(amount, bool) or not decimal.is_finite():
            raise ValueError("amount must be a decimal number")
        if not (isinstance(code, str) and len(code) == 3 and code.isalpha()):
            raise ValueError("currency must be a three-letter ISO 4217 code")
        return {"amount": str(decimal.quantize(Decimal("0.01"))), "currency": code.upper()}
    if kind == CustomField.FieldType.DATE:
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError("must be a date as YYYY-MM-DD") from None
    if kind == CustomField.FieldType.CHOICE:
        if value not in field.choices:
            raise ValueError(f"must be one of {', '.join(map(str, field.choices))}")
        return value
    if kind == CustomField.FieldType.MULTI_CHOICE:
        if not isinstance(value, list) or any(item not in field.choices for item in value):
            raise ValueError(f"must be a list of {', '.join(map(str, field.choices))}")
        return list(dict.fromkeys(value))
    if kind == CustomField.FieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    raise ValueError(f"unknown field type {kind!r}")


def clean_custom_values(
    *,
    workspace: Workspace,
    applies_to: str,
    values: dict[str, Any] | None,
    existing: dict[str, Any] | None = None,
    path: str = "custom_fields",
) -> dict[str, Any]:
    """Validate ``values`` over ``existing``; null removes a value. Raises ValidationFailed
    naming each field (``custom_fields.budget: must be a number``)."""
    if values is not None and not isinstance(values, dict):
        raise ValidationFailed([(path, _("must be an object of field key -> value"))])
    known = definitions(workspace=workspace, applies_to=applies_to)
    result = dict(existing or {})
    errors: list[tuple[str, str]] = []
    for key, value in (values or {}).items():
        field = known.get(key)
        if field is None:
            errors.append((f"{path}.{key}", _("unknown custom field")))
            continue
        if value is None or value == "" or value == []:
            result.pop(key, None)
            continue
        try:
            result[key] = _clean_value(field, value, currency=workspace.currency)
        except ValueError as exc:
            errors.append((f"{path}.{key}", str(exc)))
    for key, field in known.items():
        if field.required and key not in result and f"{path}.{key}" not in dict(errors):
            errors.append((f"{path}.{key}", _("is required")))
    if errors:
        raise ValidationFailed(errors)
    return result
