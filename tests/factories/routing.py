"""Leads as lead capture makes them (``lead_creating`` sent, the lead inserted, then
``lead_created`` sent, in one transaction), for the routing tests."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from guanxi.platform.models import User, Workspace
from guanxi.sales.models import Lead
from guanxi.sales.signals import lead_created, lead_creating, lead_first_touched


def make_lead(workspace: Workspace, *, actor: User | None = None, **fields: Any) -> Lead:
    fields.setdefault("display_name", "王小明")
    fields.setdefault("source", Lead.Source.WEB)
    with transaction.atomic():
        lead = Lead(workspace=workspace, **fields)
        lead_creating.send(sender=Lead, lead=lead, actor=actor)
        lead.save()
        lead_created.send(sender=Lead, lead=lead, actor=actor)
    return lead


def touch_lead(lead: Lead, *, at: Any, actor: User | None = None) -> Lead:
    with transaction.atomic():
        lead.first_touched_at = at
        lead.status = Lead.Status.WORKING
        lead.save(update_fields=["first_touched_at", "status"])
        lead_first_touched.send(sender=Lead, lead=lead, actor=actor)
    return lead
