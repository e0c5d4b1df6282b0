"""Money arithmetic of lines and quotes, input checks of money, and the language a quote is
written in. Pure functions: no queries.

Rounding (documented in docs/quotes.md): every line is worked out exactly and rounded half
up to the cent — amount before discount, net amount, tax — and the quote's totals are the
sums of the rounded line figures, as a Chinese VAT invoice (发票) prints them line by line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
MAX_MONEY = Decimal(10) ** 16
CURRENCY = re.compile(r"^[A-Z]{3}$")
QUOTE_LANGUAGES = ("zh-hans", "zh-hant", "en")

# The largest discount (%) a default role may give without approval; None is no limit.
# Administrators change them per role (DiscountLimit); other roles give none unapproved.
DEFAULT_DISCOUNT_LIMITS: dict[str, Decimal | None] = {
    "administrator": None,
    "sales_manager": Decimal(25),
    "sales_rep": Decimal(10),
    "dealer_user": Decimal(10),
}

Errors = list[tuple[str, str]]


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def plain(value: Decimal) -> Decimal:
    """Without trailing zeros and without an exponent: 100.0000 → 100, 2.5000 → 2.5."""
    return Decimal(format(value.normalize(), "f"))


def net_unit_price(unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    return cents(unit_price * (HUNDRED - discount_percent) / HUNDRED)


@dataclass(frozen=True)
class LineFigures:
    gross_amount: Decimal
    net_amount: Decimal
    tax_amount: Decimal

    @property
    def discount_amount(self) -> Decimal:
        return self.gross_amount - self.net_amount


def line_figures(
    *, quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, tax_rate: Decimal
) -> LineFigures:
    """quantity × unit price (rounded), less the discount (rounded), and the tax on the net
    amount (rounded): each half up to the cent."""
    gross = quantity * unit_price
    net = gross * (HUNDRED - discount_percent) / HUNDRED
    net_rounded = cents(net)
    return LineFigures(
        gross_amount=cents(gross),
        net_amount=net_rounded,
        tax_amount=cents(net_rounded * tax_rate / HUNDRED),
    )


@dataclass
class Totals:
    subtotal: Decimal = Decimal("0.00")
    discount_total: Decimal = Decimal("0.00")
    net_total: Decimal = Decimal("0.00")
    tax_total: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    tax_breakdown: list[dict[str, str]] = field(default_factory=list)


def totals(lines: list[Any]) -> Totals:
    """Sums of the lines' rounded figures; tax grouped by rate (ascending)."""
    result = Totals()
    by_rate: dict[Decimal, list[Decimal]] = {}
    for line in lines:
        result.subtotal += line.gross_amount
        result.net_total += line.net_amount
        result.tax_total += line.tax_amount
        rate = Decimal(line.tax_rate).quantize(CENT)
        net, tax = by_rate.setdefault(rate, [Decimal("0.00"), Decimal("0.00")])
        by_rate[rate] = [net + line.net_amount, tax + line.tax_amount]
    result.discount_total = result.subtotal - result.net_total
    result.total = result.net_total + result.tax_total
    result.tax_breakdown = [
        {"rate": str(rate), "net": str(net), "tax": str(tax)}
        for rate, (net, tax) in sorted(by_rate.items())
    ]
    return result


# --- input checks -----------------------------------------------------------------------------
def number(value: Any, path: str, errors: Errors) -> Decimal | None:
    if value is None or value == "":
        errors.append((path, _("must be a number")))
        return None
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.append((path, _("must be a number")))
        return None
    if not result.is_finite():
        errors.append((path, _("must be a number")))
        return None
    if abs(result) >= MAX_MONEY:
        errors.append((path, _("is too large")))
        return None
    return result


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def money(value: Any, path: str, errors: Errors) -> Decimal | None:
    """A price: a number, not negative, at most two decimals."""
    result = number(value, path, errors)
    if result is None:
        return None
    if result < 0:
        errors.append((path, _("must not be negative")))
    elif _places(result.normalize()) > 2:
        errors.append((path, _("use at most two decimal places")))
    else:
        return result.quantize(CENT)
    return None


def quantity(value: Any, path: str, errors: Errors) -> Decimal | None:
    """More than 0, at most four decimals (hours, metres)."""
    result = number(value, path, errors)
    if result is None:
        return None
    if result <= 0:
        errors.append((path, _("must be more than 0")))
    elif _places(result.normalize()) > 4:
        errors.append((path, _("use at most %(n)d decimal places") % {"n": 4}))
    else:
        return result
    return None


def percent(value: Any, path: str, errors: Errors) -> Decimal | None:
    """0–100, at most two decimals."""
    result = number(0 if value is None or value == "" else value, path, errors)
    if result is None:
        return None
    if not 0 <= result <= 100:
        errors.append((path, _("must be from 0 to 100")))
    elif _places(result.normalize()) > 2:
        errors.append((path, _("use at most two decimal places")))
    else:
        return result.quantize(CENT)
    return None


def currency_code(value: Any, path: str, errors: Errors) -> str | None:
    code = str(value or "").strip().upper()
    if not CURRENCY.match(code):
        errors.append((path, _("must be a three-letter ISO 4217 code, e.g. CNY or USD")))
        return None
    return code


def quote_language(*candidates: str | None) -> str:
    """The first of the candidates (contact's preferred language, account's, workspace's)
    that names a language quotes are written in, as zh-hans, zh-hant or en."""
    for candidate in candidates:
        code = (candidate or "").strip().lower().replace("_", "-")
        if not code:
            continue
        if code.startswith("en"):
            return "en"
        if code in ("zh-hant", "zh-tw", "zh-hk", "zh-mo") or code.startswith("zh-hant"):
            return "zh-hant"
        if code.startswith("zh"):
            return "zh-hans"
    return "zh-hans"
