"""Merging duplicate contacts into one, and taking a merge back.

A merge keeps one contact (the survivor), fills its fields from the others where asked —
by default, per field, a non-empty value from the most trusted source (the workspace ranks
record sources), then the survivor's, then the most recently updated one —, moves everything that hangs on
the others onto it — contact points, addresses, account links, tags here; timeline entries,
activities, and later opportunities, cases, points through ``register_merge_participant`` —
and retires the others. The ``Merge`` record keeps what each part was, so an unmerge brings
the merged contacts back with what was theirs, and the survivor's fields as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers import normalize, services
from guanxi.customers.models import AccountContact, Address, Contact, ContactPoint, Merge
from guanxi.platform.audit import record_audit
from guanxi.platform.errors import ValidationFailed
from guanxi.platform.models import Membership
from guanxi.platform.visibility import can

MERGE_FIELDS = (
    "family_name", "given_name", "gender", "birthday", "occupation", "interests",
    "preferred_language", "preferred_channel", "value_tier", "source", "external_id",
    "lifecycle_stage", "owner", "team",
)  # fmt: skip
# move(merged, survivor) -> ids moved; back(ids, merged, survivor) puts them back
Move = Callable[[Contact, Contact], list[int]]
MoveBack = Callable[[list[int], Contact, Contact], None]
_participants: dict[str, tuple[Move, MoveBack]] = {}


def register_merge_participant(name: str, move: Move, back: MoveBack) -> None:
    _participants[name] = (move, back)


def move_model(model: type, field: str) -> tuple[Move, MoveBack]:
    def move(source: Contact, target: Contact) -> list[int]:
        rows = model.objects.for_workspace(source.workspace_id).filter(**{field: source})
        ids = list(rows.values_list("pk", flat=True))
        rows.update(**{field: target})
        return ids

    def back(ids: list[int], target: Contact, survivor: Contact) -> None:
        model._base_manager.filter(pk__in=ids).update(**{field: target})

    return move, back


def _move_points(source: Contact, target: Contact) -> list[int]:
    """Contact points move unless the survivor has the same one: then the merged contact's
    copy is retired (and comes back with an unmerge)."""
    points = ContactPoint.objects.for_workspace(source.workspace_id)
    have = set(points.filter(contact=target).values_list("kind", "match_key"))
    moved = []
    now = timezone.now()
    for point in points.filter(contact=source):
        if (point.kind, point.match_key) in have:
            ContactPoint.objects.filter(pk=point.pk).update(deleted_at=now)
            moved.append(-point.pk)  # negative: retired, not moved
        else:
            ContactPoint.objects.filter(pk=point.pk).update(contact=target, is_primary=False)
            moved.append(point.pk)
    return moved


def _points_back(ids: list[int], target: Contact, survivor: Contact) -> None:
    ContactPoint._base_manager.filter(pk__in=[i for i in ids if i > 0]).update(contact=target)
    ContactPoint._base_manager.filter(pk__in=[-i for i in ids if i < 0]).update(deleted_at=None)


def _move_links(source: Contact, target: Contact) -> list[int]:
    links = AccountContact.objects.for_workspace(source.workspace_id)
    have = set(links.filter(contact=target).values_list("account_id", flat=True))
    moved = []
    for link in links.filter(contact=source):
        if link.account_id in have:
            AccountContact.objects.filter(pk=link.pk).update(deleted_at=timezone.now())
            moved.append(-link.pk)
        else:
            AccountContact.objects.filter(pk=link.pk).update(contact=target, is_primary=False)
            moved.append(link.pk)
    return moved


def _links_back(ids: list[int], target: Contact, survivor: Contact) -> None:
    AccountContact._base_manager.filter(pk__in=[i for i in ids if i > 0]).update(contact=target)
    AccountContact._base_manager.filter(pk__in=[-i for i in ids if i < 0]).update(deleted_at=None)


def _move_tags(source: Contact, target: Contact) -> list[int]:
    added = [t.pk for t in source.tags.all() if not target.tags.filter(pk=t.pk).exists()]
    target.tags.add(*added)
    return added


def _tags_back(ids: list[int], target: Contact, survivor: Contact) -> None:
    """Tags were copied, not taken: the survivor gives back the ones it got."""
    survivor.tags.remove(*ids)


register_merge_participant("contact_points", _move_points, _points_back)
register_merge_participant("addresses", *move_model(Address, "contact"))
register_merge_participant("account_links", _move_links, _links_back)
register_merge_participant("tags", _move_tags, _tags_back)


def _value(contact: Contact, name: str) -> Any:
    if name in ("lifecycle_stage", "owner", "team"):
        return getattr(contact, f"{name}_id")
    value = getattr(contact, name)
    return value.isoformat() if isinstance(value, date) else value


def _set(contact: Contact, name: str, value: Any) -> None:
    if name in ("lifecycle_stage", "owner", "team"):
        setattr(contact, f"{name}_id", value)
    elif name == "birthday":
        contact.birthday = date.fromisoformat(value) if value else None
    else:
        setattr(contact, name, value)


def trust_rank(workspace_id: int) -> Callable[[Contact], int]:
    """How trusted a contact's source is in the workspace: 0 for the first listed source,
    then 1, 2…; sources not listed come after all listed ones."""
    from guanxi.customers.dedupe import identity_settings

    order = [s.strip().casefold() for s in identity_settings(workspace_id).trusted_sources]
    ranks = {source: i for i, source in enumerate(order) if source}
    return lambda contact: ranks.get((contact.source or "").strip().casefold(), len(ranks))


def default_source(
    name: str, survivor: Contact, merged: list[Contact], rank: Callable[[Contact], int],
    value: Callable[[Contact, str], Any] | None = None,
) -> Contact:  # fmt: skip
    """The contact whose value of ``name`` a merge keeps unless told otherwise: among those
    with a value, the most trusted source's; on a tie the survivor's, then the most recently
    updated one's. The survivor when nobody has a value."""
    read = value or _value
    having = [c for c in [survivor, *merged] if read(c, name) not in (None, "")]
    if not having:
        return survivor
    return min(having, key=lambda c: (rank(c), c.pk != survivor.pk, -c.updated_at.timestamp()))


@transaction.atomic
def merge_contacts(
    *, membership: Membership, survivor: Contact, merged: list[Contact],
    fields: dict[str, str] | None = None,
) -> Merge:  # fmt: skip
    """Merge ``merged`` into ``survivor``. ``fields`` picks, per field, the public id of the
    contact whose value the survivor keeps; a field not named takes ``default_source``'s."""
    by = membership.user
    errors = []
    if not merged:
        errors.append(("merged_ids", _("name at least one contact to merge")))
    everyone = [survivor, *merged]
    if len({c.pk for c in everyone}) != len(everyone):
        errors.append(("merged_ids", _("a contact cannot be merged into itself or twice")))
    for contact in everyone:
        if not can(membership, "change", contact):
            errors.append(("merged_ids", _("you may not change %(name)s") % {"name": contact}))
    by_id = {c.public_id: c for c in everyone}
    for name, source in (fields or {}).items():
        if name not in MERGE_FIELDS:
            errors.append((f"fields.{name}", _("unknown field")))
        elif source not in by_id:
            errors.append((f"fields.{name}", _("must be one of the contacts merged")))
    if errors:
        raise ValidationFailed(errors)
    before = {name: _value(survivor, name) for name in MERGE_FIELDS}
    rank = trust_rank(survivor.workspace_id)
    chosen = {}
    for name in MERGE_FIELDS:
        if name in (fields or {}):
            source = by_id[fields[name]]
        else:
            source = default_source(name, survivor, merged, rank)
        chosen[name] = source.public_id
        _set(survivor, name, _value(source, name))
    moved: dict[str, dict[str, list[int]]] = {}
    now = timezone.now()
    for contact in merged:
        # the merged contact leaves first (its external id is then free for the survivor)
        Contact.objects.filter(pk=contact.pk).update(deleted_at=now, deleted_by=by)
        moved[str(contact.pk)] = {
            name: move(contact, survivor) for name, (move, _back) in _participants.items()
        }
    survivor.version += 1
    survivor.updated_by, survivor.updated_at = by, now
    survivor.display_name = normalize.display_name(
        family=survivor.family_name, given=survivor.given_name
    )
    services._refresh_contact_search(survivor)
    survivor.save()
    record = Merge(
        workspace_id=survivor.workspace_id, survivor=survivor,
        merged_ids=[c.pk for c in merged], fields=chosen, survivor_before=before, moved=moved,
        created_by=by, updated_by=by,
    )  # fmt: skip
    record.save()
    record_audit(action="contact.merged", actor=by, workspace=membership.workspace, obj=record,
                 data={"survivor": survivor.public_id,
                       "merged": [c.public_id for c in merged], "fields": chosen})  # fmt: skip
    return record


@transaction.atomic
def unmerge(*, membership: Membership, merge: Merge) -> list[Contact]:
    """Take a merge back: the merged contacts return with what was theirs; the survivor's
    fields are as they were before the merge."""
    if merge.undone_at is not None:
        raise ValidationFailed([("merge", _("this merge has been undone already"))])
    survivor = Contact.objects.for_workspace(merge.workspace_id).get(pk=merge.survivor_id)
    if not can(membership, "change", survivor):
        raise ValidationFailed([("merge", _("you may not change %(name)s") % {"name": survivor})])
    for name, value in merge.survivor_before.items():
        _set(survivor, name, value)
    survivor.version += 1
    survivor.updated_by, survivor.updated_at = membership.user, timezone.now()
    survivor.display_name = normalize.display_name(
        family=survivor.family_name, given=survivor.given_name
    )
    survivor.save()
    restored = []
    for pk in merge.merged_ids:
        Contact._base_manager.filter(pk=pk).update(deleted_at=None, deleted_by=None)
        contact = Contact._base_manager.get(pk=pk)
        for name, ids in merge.moved.get(str(pk), {}).items():
            if name in _participants:
                _participants[name][1](ids, contact, survivor)
        services._refresh_contact_search(contact)
        contact.save(update_fields=["search_document", "sort_key"])
        restored.append(contact)
    services._refresh_contact_search(survivor)
    survivor.save(update_fields=["search_document", "sort_key"])
    merge.undone_at = timezone.now()
    merge.save(update_fields=["undone_at", "updated_at"])
    from guanxi.customers.duplicates import reopen_after_unmerge

    reopen_after_unmerge(merge)
    record_audit(action="contact.unmerged", actor=membership.user, workspace=membership.workspace,
                 obj=merge, data={"survivor": survivor.public_id,
                                  "restored": [c.public_id for c in restored]})  # fmt: skip
    return restored
