"""Panels of the customer 360 view. Later apps (timeline, sales, service, loyalty,
analytics) register what they show about a customer here, so the customer master never
imports them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from guanxi.customers.models import Customer


@dataclass(frozen=True)
class Panel:
    """``render(customer=…, user=…)`` returns JSON-ready data; it must apply visibility to
    whatever it lists and run a fixed number of queries."""

    key: str
    label: Any
    position: int
    render: Callable[..., Any]
    # the template that shows the panel on the record page (given ``data``, ``customer``,
    # ``kind``); empty for panels the page already shows in its own way. The generic
    # "web/customers/_panel_list.html" lists ``[{"label", "value", "url"}]``.
    template: str = ""


_panels: dict[str, Panel] = {}


def register_panel(panel: Panel) -> Panel:
    _panels[panel.key] = panel
    return panel


def panels() -> list[Panel]:
    return sorted(_panels.values(), key=lambda panel: (panel.position, panel.key))


def render_panels(*, customer: Customer, user: Any) -> dict[str, Any]:
    return {panel.key: panel.render(customer=customer, user=user) for panel in panels()}


def get_panel(key: str) -> Panel | None:
    return _panels.get(key)
