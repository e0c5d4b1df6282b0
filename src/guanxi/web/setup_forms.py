"""Forms of the settings pages. They check what the browser sends; the platform services
validate again and their errors land on the field they name."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.platform.models import CustomField, Membership, Role, Team
from guanxi.platform.permissions import SCOPES, object_types
from guanxi.web.forms import ServiceErrorsMixin

NONE = [("", "—")]


def team_choices(workspace_id: int) -> list[tuple[str, str]]:
    teams = Team.objects.for_workspace(workspace_id).order_by("name")
    return NONE + [(t.public_id, t.name) for t in teams]


def role_choices(workspace_id: int) -> list[tuple[str, str]]:
    roles = Role.objects.for_workspace(workspace_id).order_by("-is_system", "name")
    return [(r.key, r.name) for r in roles]


def member_choices(workspace_id: int, *, exclude: Membership | None = None) -> list:
    members = (
        Membership.objects.for_workspace(workspace_id)
        .filter(is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    if exclude is not None:
        members = members.exclude(path__startswith=exclude.path)  # nobody under themselves
    return NONE + [(m.public_id, m.user.get_full_name() or m.user.username) for m in members]


class MemberForm(ServiceErrorsMixin, forms.Form):
    role = forms.ChoiceField(label=_("Role"))
    team = forms.ChoiceField(label=_("Team"), required=False)
    manager = forms.ChoiceField(label=_("Manager"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, workspace_id: int, member: Membership | None = None,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(workspace_id)
        self.fields["team"].choices = team_choices(workspace_id)
        self.fields["manager"].choices = member_choices(workspace_id, exclude=member)


class NewMemberForm(MemberForm):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), required=False)
    first_name = forms.CharField(label=_("Given name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to e-mail them a link to choose one."),
    )
    field_order = ["username", "email", "last_name", "first_name", "password"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["is_active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("password") and not data.get("email"):
            self.add_error(
                "email", _("Give an e-mail address for the link, or set a password here.")
            )
        return data


class NameForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class NewRoleForm(ServiceErrorsMixin, forms.Form):
    key = forms.SlugField(
        label=_("Key"), max_length=50, help_text=_("Letters, digits, - and _; used by the API.")
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    copy_from = forms.ChoiceField(label=_("Start from the grants of"), required=False)

    def __init__(self, *args: Any, workspace_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["copy_from"].choices = NONE + role_choices(workspace_id)


def grant_field_name(type_key: str, action: str) -> str:
    return f"grant:{type_key}:{action}"


class RoleForm(ServiceErrorsMixin, forms.Form):
    """The role's name and one scope per object type and action."""

    name = forms.CharField(label=_("Name"), max_length=200)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scopes = [(scope, scope_label(scope)) for scope in SCOPES]
        for key, object_type in sorted(object_types().items()):
            for action in object_type.actions:
                self.fields[grant_field_name(key, action)] = forms.ChoiceField(
                    label=f"{object_type.label} · {action_label(action)}", choices=scopes
                )

    def grid(self) -> list[dict[str, Any]]:
        """Rows of the permission table: object type and its action fields by column."""
        rows = []
        for key, object_type in sorted(object_types().items()):
            cells = {a: self[grant_field_name(key, a)] for a in object_type.actions}
            rows.append({"label": object_type.label, "key": key, "cells": cells})
        return rows

    def permissions(self) -> dict[str, dict[str, str]]:
        result: dict[str, dict[str, str]] = {}
        for key, object_type in object_types().items():
            for action in object_type.actions:
                result.setdefault(key, {})[action] = self.cleaned_data[
                    grant_field_name(key, action)
                ]
        return result


ACTION_LABELS = {
    "view": _("View"), "add": _("Add"), "change": _("Change"), "delete": _("Delete"),
    "export": _("Export"), "assign": _("Assign"), "reopen": _("Reopen"),
}  # fmt: skip
SCOPE_LABELS = {
    "none": _("No"), "own": _("Own"), "team": _("Team"), "subtree": _("Own and reports'"),
    "all": _("All"),
}  # fmt: skip


def action_label(action: str) -> Any:
    return ACTION_LABELS.get(action, action)


def scope_label(scope: str) -> Any:
    return SCOPE_LABELS.get(scope, scope)


CUSTOMIZABLE = (
    ("customers.contact", _("Contacts")),
    ("customers.account", _("Accounts")),
)


class CustomFieldForm(ServiceErrorsMixin, forms.Form):
    label = forms.CharField(label=_("Label"), max_length=200)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For choice fields: one value per line."),
    )
    required = forms.BooleanField(label=_("Required"), required=False)
    position = forms.IntegerField(label=_("Position"), min_value=0, initial=0)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def clean_choices(self) -> list[str]:
        lines = self.cleaned_data.get("choices", "").splitlines()
        return [line.strip() for line in lines if line.strip()]


class NewCustomFieldForm(CustomFieldForm):
    applies_to = forms.ChoiceField(label=_("For"), choices=CUSTOMIZABLE)
    key = forms.SlugField(label=_("Key"), max_length=50)
    field_type = forms.ChoiceField(label=_("Type"), choices=CustomField.FieldType.choices)
    field_order = ["applies_to", "key", "label", "field_type"]


class StageForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    position = forms.IntegerField(label=_("Position"), min_value=0, required=False)
    is_default = forms.BooleanField(label=_("Default for new customers"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class NewStageForm(StageForm):
    key = forms.SlugField(label=_("Key"), max_length=50)
    field_order = ["key", "name"]


class TokenForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("What uses it."))
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for a token that does not expire."),
    )


class DuplicateRulesForm(ServiceErrorsMixin, forms.Form):
    review_threshold = forms.FloatField(
        label=_("Propose pairs from this probability"), min_value=0.5, max_value=0.999,
        help_text=_("Pairs the scan finds at least this likely to be one person go to review."),
    )  # fmt: skip
    auto_merge_threshold = forms.FloatField(
        label=_("Merge without review from this probability"), min_value=0.5, max_value=0.999,
        required=False,
        help_text=_("Only pairs that share a phone or e-mail address. Empty: never merge "
                    "without review."),
    )  # fmt: skip
    trusted_sources = forms.CharField(
        label=_("Trusted sources"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One source per line, the most trusted first. A merge keeps, per field, "
                    "the value of the contact from the most trusted source."),
    )  # fmt: skip
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def clean_trusted_sources(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["trusted_sources"].splitlines()
                if line.strip()]  # fmt: skip
