"""Errors of the customer master."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from guanxi.platform.errors import Conflict


class ContactPointClash(Conflict):
    """A phone/e-mail/messaging id already belongs to another customer (REQUIREMENTS §1:
    one customer per identifier unless explicitly shared, e.g. a household phone)."""

    code = "contact_point_taken"
    title = "Contact point belongs to another customer"

    def __init__(self, *, field: str, value: str, existing: dict[str, Any] | None) -> None:
        self.field, self.value, self.existing = field, value, existing
        owner = (
            f"{existing['type']} “{existing['display_name']}” ({existing['id']})"
            if existing
            else _("another customer you cannot see")
        )
        self.message = _(
            "%(value)s already belongs to %(owner)s. Mark it shared to use it for both."
        ) % {"value": value, "owner": owner}
        super().__init__(f"{field}: {self.message}")

    def extra(self) -> dict[str, Any]:
        return {"field": self.field, "existing": self.existing}


class DuplicateExternalId(Conflict):
    code = "external_id_taken"
    title = "External id already used"

    def __init__(self, *, object_type: str, external_id: str, existing_id: str | None) -> None:
        self.existing_id = existing_id
        super().__init__(f"{object_type} with external_id {external_id!r} already exists.")

    def extra(self) -> dict[str, Any]:
        return {"field": "external_id", "existing_id": self.existing_id}


class PossibleDuplicate(Conflict):
    """Creating with ``on_duplicate=error`` when existing contacts look like the new one."""

    code = "possible_duplicate"
    title = "The contact may exist already"

    def __init__(self, candidates: list[dict[str, Any]]) -> None:
        self.candidates = candidates
        super().__init__(
            f"{len(candidates)} existing contact(s) look like this one; "
            "send on_duplicate=create to add it anyway."
        )

    def extra(self) -> dict[str, Any]:
        return {"candidates": self.candidates}


class PossibleDuplicateAccount(PossibleDuplicate):
    """Creating an account with ``on_duplicate=error`` (or ``merge`` without the right to
    change the existing one) when existing accounts look like the new one."""

    title = "The account may exist already"

    def __init__(self, candidates: list[dict[str, Any]]) -> None:
        self.candidates = candidates
        Conflict.__init__(
            self,
            _(
                "%(n)d existing account(s) look like this one; "
                "send on_duplicate=create to add it anyway."
            )
            % {"n": len(candidates)},
        )
