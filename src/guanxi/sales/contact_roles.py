"""Contact roles of opportunities: who on the customer's side a deal involves and their part
in the decision. Writes and reads (visibility applied) of the roles, their rights, and what
a contact merge does to them."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Contact
from guanxi.platform.audit import record_audit
from guanxi.platform.errors import Forbidden, NotFound, ValidationFailed
from guanxi.platform.models import Membership, User
from guanxi.platform.permissions import Scope
from guanxi.platform.visibility import scope_filter
from guanxi.sales.models import Opportunity, OpportunityContactRole

OBJECT_TYPE = OpportunityContactRole.object_type
ROLES = tuple(OpportunityContactRole.Role.values)


# --- rights -----------------------------------------------------------------------------------
def covers(membership: Membership, action: str, opportunity: Opportunity) -> bool:
    """Does the member's grant of ``action`` on contact roles reach this deal? The scope is
    applied through the deal's owner and team, like the deal's own rights."""
    scope = membership.scope_for(OBJECT_TYPE, action)
    if scope == Scope.NONE or opportunity.workspace_id != membership.workspace_id:
        return False
    if scope == Scope.ALL or opportunity.owner_id == membership.user_id:
        return True
    if scope == Scope.OWN:
        return False
    return (
        Opportunity._base_manager.filter(pk=opportunity.pk)
        .filter(scope_filter(Opportunity, membership, scope))
        .exists()
    )


def check_roles_access(membership: Membership, opportunity: Opportunity, action: str) -> None:
    """NotFound when the member may not see the deal's roles; Forbidden when they see them
    but may not ``action`` them."""
    if not covers(membership, "view", opportunity):
        raise NotFound(Opportunity._meta.verbose_name)
    if action != "view" and not covers(membership, action, opportunity):
        raise Forbidden(action=action, object_type=OBJECT_TYPE)


# --- reads ------------------------------------------------------------------------------------
def contact_roles(*, opportunity: Opportunity) -> QuerySet[OpportunityContactRole]:
    """The roles of a deal the caller already sees: primary first, then by contact name."""
    return (
        OpportunityContactRole.objects.for_workspace(opportunity.workspace_id)
        .filter(opportunity=opportunity, contact__deleted_at__isnull=True)
        .select_related("contact")
        .order_by("-is_primary", "contact__sort_key", "id")
    )


# --- writes -----------------------------------------------------------------------------------
@transaction.atomic
def set_contact_role(
    *,
    opportunity: Opportunity,
    contact: Contact,
    role: str,
    is_primary: bool = False,
    by: User | None,
) -> tuple[OpportunityContactRole, bool]:
    """Give ``contact`` a role in the deal, or change the role they have; returns the role
    and whether it is new. Making one contact primary makes the others not primary."""
    errors = []
    if role not in ROLES:
        errors.append(("role", _("must be one of %(roles)s") % {"roles": ", ".join(ROLES)}))
    if contact.workspace_id != opportunity.workspace_id or contact.is_deleted:
        errors.append(("contact_id", _("no such contact")))
    if errors:
        raise ValidationFailed(errors)
    roles = OpportunityContactRole.objects.for_workspace(opportunity.workspace_id)
    # lock the deal's roles: two people adding the same contact at once get one row
    Opportunity._base_manager.select_for_update().filter(pk=opportunity.pk).first()
    if is_primary:
        roles.filter(opportunity=opportunity, is_primary=True).exclude(contact=contact).update(
            is_primary=False, updated_at=timezone.now()
        )
    found = roles.filter(opportunity=opportunity, contact=contact).first()
    created = found is None
    if found is None:
        found = OpportunityContactRole(
            workspace_id=opportunity.workspace_id, opportunity=opportunity, contact=contact,
            created_by=by,
        )  # fmt: skip
    elif found.role == role and found.is_primary == is_primary:
        return found, False
    found.role, found.is_primary = role, is_primary
    found.updated_by, found.updated_at = by, timezone.now()
    if not created:
        found.version += 1
    found.save()
    record_audit(
        action="sales.contact_role.added" if created else "sales.contact_role.changed",
        actor=by, workspace=opportunity.workspace, obj=opportunity,
        data={"contact": contact.public_id, "role": role, "is_primary": is_primary},
    )  # fmt: skip
    return found, created


@transaction.atomic
def remove_contact_role(*, role: OpportunityContactRole, by: User | None) -> None:
    """Soft delete: the contact no longer plays a part in the deal; the row stays for the
    record."""
    role.deleted_at, role.deleted_by = timezone.now(), by
    role.save(update_fields=["deleted_at", "deleted_by"])
    record_audit(
        action="sales.contact_role.removed", actor=by, obj=role.opportunity,
        data={"contact": role.contact.public_id, "role": role.role},
    )  # fmt: skip


# --- merges -----------------------------------------------------------------------------------
def move_roles(source: Contact, target: Contact) -> list[int]:
    """A merged contact's roles go to the survivor; where the survivor already plays a part
    in the same deal, the merged contact's role is retired (and comes back on unmerge).
    Returns the ids moved, retired ones negative."""
    roles = OpportunityContactRole.objects.for_workspace(source.workspace_id)
    have = set(roles.filter(contact=target).values_list("opportunity_id", flat=True))
    moved: list[int] = []
    now = timezone.now()
    for row in roles.filter(contact=source).values("pk", "opportunity_id", "is_primary"):
        if row["opportunity_id"] in have:
            roles.filter(pk=row["pk"]).update(deleted_at=now)
            moved.append(-row["pk"])
        else:
            roles.filter(pk=row["pk"]).update(contact=target, updated_at=now)
            moved.append(row["pk"])
    return moved


def roles_back(ids: list[int], target: Contact, survivor: Contact) -> None:
    manager: Any = OpportunityContactRole._base_manager
    manager.filter(pk__in=[i for i in ids if i > 0]).update(contact=target)
    manager.filter(pk__in=[-i for i in ids if i < 0]).update(deleted_at=None)
