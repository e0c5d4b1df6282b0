"""The review queue of proposed duplicates: what a reviewer sees, and their decisions.

A reviewer sees a pair only when they may see both contacts; deciding needs "change" on
possible duplicates, and merging also "change" on every contact merged (the merge service
checks it). A rejected pair is remembered: later scans do not propose it again. Merging
marks every open pair among the merged contacts as merged, and taking the merge back puts
them in the queue again.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers import merging
from guanxi.customers.dedupe import identity_settings
from guanxi.customers.models import Contact, DuplicatePair, IdentitySettings, Merge
from guanxi.platform.audit import record_audit
from guanxi.platform.errors import Forbidden, ValidationFailed, VersionConflict
from guanxi.platform.models import Membership
from guanxi.platform.visibility import can

OPEN = DuplicatePair.Status.PROPOSED


def visible_pairs(membership: Membership, *, status: str = OPEN) -> QuerySet[DuplicatePair]:
    """Pairs of this status whose two contacts the member may see, best first."""
    contacts = Contact.objects.visible_to(membership, "view").values("pk")
    return (
        DuplicatePair.objects.visible_to(membership, "view")
        .filter(status=status, contact_a__in=contacts, contact_b__in=contacts)
        .select_related("contact_a", "contact_b")
        .order_by("-score", "pk")
    )


def cluster_of(membership: Membership, pair: DuplicatePair) -> list[Contact]:
    """The contacts of the pair's cluster that are still open and visible, oldest first."""
    pairs = visible_pairs(membership).filter(run_id=pair.run_id, cluster=pair.cluster)
    ids = {pair.contact_a_id, pair.contact_b_id}
    for a, b in pairs.values_list("contact_a_id", "contact_b_id"):
        ids |= {a, b}
    return list(Contact.objects.visible_to(membership, "view").filter(pk__in=ids).order_by("pk"))


def _require_change(membership: Membership, pairs: list[DuplicatePair]) -> None:
    for pair in pairs:
        if not can(membership, "change", pair):
            raise Forbidden(action="change", object_type=DuplicatePair.object_type)


@transaction.atomic
def reject(*, membership: Membership, pairs: list[DuplicatePair]) -> int:
    """Not the same person: the pairs leave the queue and are not proposed again."""
    _require_change(membership, pairs)
    undecided = [p for p in pairs if p.status == OPEN]
    now = timezone.now()
    DuplicatePair.objects.for_workspace(membership.workspace_id).filter(
        pk__in=[p.pk for p in undecided]
    ).update(status=DuplicatePair.Status.REJECTED, decided_at=now, updated_at=now,
             updated_by=membership.user)  # fmt: skip
    for pair in undecided:
        record_audit(action="duplicates.rejected", actor=membership.user,
                     workspace=membership.workspace, obj=pair,
                     data={"contacts": [pair.contact_a.public_id, pair.contact_b.public_id],
                           "score": pair.score})  # fmt: skip
    return len(undecided)


@transaction.atomic
def merge(
    *, membership: Membership, survivor: Contact, merged: list[Contact],
    fields: dict[str, str] | None = None,
) -> Merge:  # fmt: skip
    """Merge the contacts (see ``merging.merge_contacts``) and close the open pairs among
    them as merged."""
    everyone = [survivor.pk, *(c.pk for c in merged)]
    pairs = list(
        DuplicatePair.objects.for_workspace(membership.workspace_id).filter(
            status=OPEN, contact_a_id__in=everyone, contact_b_id__in=everyone
        )
    )
    _require_change(membership, pairs)
    record = merging.merge_contacts(
        membership=membership, survivor=survivor, merged=merged, fields=fields
    )
    now = timezone.now()
    DuplicatePair.objects.for_workspace(membership.workspace_id).filter(
        pk__in=[p.pk for p in pairs]
    ).update(status=DuplicatePair.Status.MERGED, merge=record, decided_at=now, updated_at=now,
             updated_by=membership.user)  # fmt: skip
    return record


def reopen_after_unmerge(merge: Merge) -> None:
    """An unmerge puts the pairs that merge closed back in the queue."""
    DuplicatePair.objects.for_workspace(merge.workspace_id).filter(merge=merge).update(
        status=OPEN, merge=None, decided_at=None, updated_at=timezone.now()
    )


def open_count(membership: Membership) -> int:
    return visible_pairs(membership).count()


@transaction.atomic
def update_rules(
    *, membership: Membership, expected_version: int | None, review_threshold: float,
    auto_merge_threshold: float | None, trusted_sources: list[str] | None = None,
) -> IdentitySettings:  # fmt: skip
    """Change the workspace's thresholds (auto-merge starts at or above the review threshold:
    it acts on proposed pairs; it stays off while empty) and, when given, the ranking of
    record sources a merge trusts (most trusted first)."""
    rules = identity_settings(membership.workspace_id)
    if rules.pk is not None and not can(membership, "change", rules):
        raise Forbidden(action="change", object_type=IdentitySettings.object_type)
    if rules.pk is None and membership.scope_for(IdentitySettings.object_type, "change") == "none":
        raise Forbidden(action="change", object_type=IdentitySettings.object_type)
    if expected_version is not None and expected_version != rules.version:
        raise VersionConflict(current_version=rules.version, expected_version=expected_version)
    errors = []
    if not 0.5 <= review_threshold < 1:
        errors.append(("review_threshold", _("a probability from 0.5 to below 1")))
    if auto_merge_threshold is not None:
        if not 0.5 <= auto_merge_threshold < 1:
            errors.append(("auto_merge_threshold", _("a probability from 0.5 to below 1")))
        elif auto_merge_threshold < review_threshold:
            errors.append(("auto_merge_threshold",
                           _("cannot be below the threshold for proposing pairs")))  # fmt: skip
    if trusted_sources is not None:
        trusted_sources = list(dict.fromkeys(s.strip() for s in trusted_sources if s.strip()))
        if len(trusted_sources) > 50 or any(len(s) > 100 for s in trusted_sources):
            errors.append(("trusted_sources", _("at most 50 sources of up to 100 characters")))
    if errors:
        raise ValidationFailed(errors)
    before = _describe(rules)
    rules.review_threshold, rules.auto_merge_threshold = review_threshold, auto_merge_threshold
    if trusted_sources is not None:
        rules.trusted_sources = trusted_sources
    rules.updated_by, rules.updated_at = membership.user, timezone.now()
    if rules.pk is None:  # the defaults were version 1 to whoever read them
        rules.created_by = membership.user
    rules.version += 1
    rules.save()
    record_audit(action="duplicates.rules_changed", actor=membership.user,
                 workspace=membership.workspace, obj=rules,
                 data={"before": before, "after": _describe(rules)})  # fmt: skip
    return rules


def _describe(rules: IdentitySettings) -> dict[str, Any]:
    return {"review_threshold": rules.review_threshold,
            "auto_merge_threshold": rules.auto_merge_threshold,
            "trusted_sources": list(rules.trusted_sources)}  # fmt: skip


def pair_filter(contact: Contact) -> Q:
    return Q(contact_a=contact) | Q(contact_b=contact)
