"""Rows an import set aside for review (policy "review": the row matches a customer by
external id, phone, e-mail or messaging id), and what the importer decides for each:

- ``update``: it is that customer — fill and change the record from the row;
- ``create``: someone else — create a new record (a phone or e-mail the matched customer
  holds must then be shared, which the services enforce: the error says so);
- ``skip``: leave the row out.

A decided row becomes an ordinary created / updated / skipped row of the import: the
counts follow, and undoing the import takes it back with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.customers.imports import engine
from guanxi.customers.models import Account, Contact, ImportJob, ImportRow
from guanxi.platform.errors import GuanxiError, ValidationFailed
from guanxi.platform.models import Membership
from guanxi.platform.visibility import can

DECISIONS = ("update", "create", "skip")


@dataclass
class Pending:
    row: ImportRow
    match: Any  # the customer the row matched, if the reviewer may see it


def pending(job: ImportJob, membership: Membership, *, limit: int = 50) -> list[Pending]:
    """The rows still waiting for a decision, in file order, with what each matched."""
    rows = list(
        ImportRow.objects.filter(job=job, outcome=ImportRow.Outcome.REVIEW).order_by("line")[:limit]
    )
    model = Contact if job.kind == "contacts" else Account
    matches = {
        record.pk: record
        for record in model.objects.visible_to(membership, "view").filter(
            pk__in=[r.matched_id for r in rows if r.matched_id]
        )
    }
    return [Pending(row, matches.get(row.matched_id)) for row in rows]


@transaction.atomic
def decide(*, job: ImportJob, line: int, decision: str, membership: Membership) -> ImportRow:
    """Apply the importer's decision for one set-aside row (see the module doc)."""
    if decision not in DECISIONS:
        raise ValidationFailed([("decision", _("one of %(choices)s") % {"choices": DECISIONS})])
    if job.status == ImportJob.Status.UNDONE:
        raise ValidationFailed([("job", _("the import has been undone"))])
    row = (
        ImportRow.objects.select_for_update()
        .filter(job=job, line=line, outcome=ImportRow.Outcome.REVIEW)
        .first()
    )
    if row is None:
        raise ValidationFailed([("line", _("no row %(line)s waits for review") % {"line": line})])
    by = membership.user
    ctx = engine.Context(job, membership)
    prepared = engine.prepare(row.data, ctx)
    if prepared.errors:
        raise ValidationFailed([(f"row.{e['column']}", e["message"]) for e in prepared.errors])
    model = Contact if job.kind == "contacts" else Account
    outcome = ImportRow.Outcome.SKIPPED
    try:
        if decision == "update":
            match = model.objects.visible_to(membership, "view").filter(pk=row.matched_id).first()
            if match is None or not can(membership, "change", match):
                raise ValidationFailed([("decision", _("you may not change the matching record"))])
            row.before = engine._update(match, prepared, ctx, by)
            row.record_id, outcome = match.pk, ImportRow.Outcome.UPDATED
        elif decision == "create":
            missing = engine._missing_name(prepared, job.kind)
            if missing:
                raise ValidationFailed([(f"row.{e['column']}", e["message"]) for e in missing])
            row.record_id = engine._create(prepared, ctx, by).pk
            outcome = ImportRow.Outcome.CREATED
    except ValidationFailed:
        raise
    except GuanxiError as exc:
        raise ValidationFailed(
            [(f"row.{e['column']}", e["message"]) for e in engine._service_errors(exc, prepared)]
        ) from exc
    row.outcome = outcome
    row.save(update_fields=["outcome", "record_id", "before"])
    counts = dict(job.counts or {})
    counts["review"] = max(0, counts.get("review", 0) - 1)
    counts[outcome] = counts.get(outcome, 0) + 1
    ImportJob.objects.for_workspace(job.workspace_id).filter(pk=job.pk).update(counts=counts)
    job.counts = counts
    return row
