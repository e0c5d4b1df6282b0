"""Contact roles of an opportunity: who decides, who buys, who evaluates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from guanxi.customers.models import Contact
from guanxi.platform.errors import NotFound
from guanxi.platform.models import Membership
from guanxi.platform.visibility import require_add
from guanxi.sales import contact_roles, selectors
from guanxi.sales.api import ERRORS
from guanxi.sales.models import Opportunity, OpportunityContactRole

router = Router(tags=["sales"])


class ContactRoleIn(Schema):
    contact_id: str = Field(description="A contact you may see.")
    role: str = Field(
        "other",
        description="decision_maker, economic_buyer, technical_evaluator, influencer, user "
        "or other",
    )
    is_primary: bool = Field(False, description="The deal's main contact; one per deal.")


class ContactRoleOut(Schema):
    id: str
    contact_id: str
    contact_name: str
    role: str
    role_label: str
    is_primary: bool
    created_at: datetime
    updated_at: datetime


def contact_role_out(row: OpportunityContactRole) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "contact_id": row.contact.public_id,
        "contact_name": str(row.contact),
        "role": row.role,
        "role_label": str(row.get_role_display()),
        "is_primary": row.is_primary,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _opportunity(membership: Membership, opportunity_id: str, action: str) -> Opportunity:
    opportunity = selectors.opportunities(user=membership).filter(public_id=opportunity_id).first()
    if opportunity is None:
        raise NotFound(Opportunity._meta.verbose_name)
    contact_roles.check_roles_access(membership, opportunity, action)
    return opportunity


@router.get(
    "/opportunities/{opportunity_id}/contact-roles",
    response={200: list[ContactRoleOut], **ERRORS},
    summary="Contact roles of an opportunity",
)
def list_contact_roles(request: HttpRequest, opportunity_id: str) -> list[dict]:
    """The contacts the deal involves, the primary one first."""
    opportunity = _opportunity(request.auth, opportunity_id, "view")
    return [contact_role_out(r) for r in contact_roles.contact_roles(opportunity=opportunity)]


@router.post(
    "/opportunities/{opportunity_id}/contact-roles",
    response={200: ContactRoleOut, 201: ContactRoleOut, **ERRORS},
    summary="Give a contact a role in an opportunity",
)
def add_contact_role(request: HttpRequest, opportunity_id: str, payload: ContactRoleIn) -> Status:
    """201 with a new role; 200 when the contact had one (changed to what is sent). A contact
    you may not see answers 404, like a missing one."""
    membership: Membership = request.auth
    require_add(membership, OpportunityContactRole.object_type)
    opportunity = _opportunity(membership, opportunity_id, "add")
    contact = Contact.objects.visible_to(membership, "view").filter(public_id=payload.contact_id)
    found = contact.first()
    if found is None:
        raise NotFound(Contact._meta.verbose_name)
    role, created = contact_roles.set_contact_role(
        opportunity=opportunity, contact=found, role=payload.role,
        is_primary=payload.is_primary, by=request.user,
    )  # fmt: skip
    return Status(201 if created else 200, contact_role_out(role))


@router.delete(
    "/opportunities/{opportunity_id}/contact-roles/{role_id}",
    response={204: None, **ERRORS},
    summary="Remove a contact's role",
)
def delete_contact_role(request: HttpRequest, opportunity_id: str, role_id: str) -> Status:
    opportunity = _opportunity(request.auth, opportunity_id, "delete")
    role = contact_roles.contact_roles(opportunity=opportunity).filter(public_id=role_id).first()
    if role is None:
        raise NotFound(OpportunityContactRole._meta.verbose_name)
    contact_roles.remove_contact_role(role=role, by=request.user)
    return Status(204, None)
