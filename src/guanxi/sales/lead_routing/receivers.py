"""What lead routing does when the sales signals fire. Thin: each receiver calls one
service. Connected in ``SalesConfig.ready``."""

from __future__ import annotations

from typing import Any

from guanxi.sales.lead_routing import services
from guanxi.sales.models import Lead


def on_lead_creating(sender: Any, *, lead: Lead, actor: Any = None, **kwargs: Any) -> None:
    """Score, assign and set the follow-up time of a lead about to be inserted."""
    services.route_unsaved_lead(lead=lead)


def on_lead_created(sender: Any, *, lead: Lead, actor: Any = None, **kwargs: Any) -> None:
    """Audit the assignment and notify the new owner, inside the creating transaction."""
    services.announce_routed_lead(lead=lead, actor=actor)


def on_leads_created(sender: Any, *, leads: list[Lead], actor: Any = None, **kwargs: Any) -> None:
    """The same for many leads at once (an import's batch)."""
    services.route_leads(leads, actor=actor)


def on_lead_first_touched(sender: Any, *, lead: Lead, actor: Any = None, **kwargs: Any) -> None:
    """Record the response time; the SLA sweep skips touched leads by itself."""
    services.record_first_touch(lead=lead)


def connect() -> None:
    from guanxi.sales.signals import (
        lead_created,
        lead_creating,
        lead_first_touched,
        leads_created,
    )

    lead_creating.connect(on_lead_creating, dispatch_uid="lead_routing.creating")
    lead_created.connect(on_lead_created, dispatch_uid="lead_routing.created")
    leads_created.connect(on_leads_created, dispatch_uid="lead_routing.created_together")
    lead_first_touched.connect(on_lead_first_touched, dispatch_uid="lead_routing.first_touched")
