"""Forms of the customer pages. They render and check what the browser sends; the services
validate and normalize (phones to E.164, e-mail, names) and their errors land on the field
they name."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Account, Contact, LifecycleStage

# service error paths (``contact_points[0].value``) back to form fields
POINT_FIELDS = ("phone", "email", "wechat")


class ServiceErrorsMixin:
    """Errors of a service, ``[(path, message)]``, onto the fields they name."""

    def add_service_errors(self, errors: list[tuple[str, str]]) -> None:
        for path, message in errors:
            self.add_error(self.field_for(path), message)

    def field_for(self, path: str) -> str | None:
        name = path.split(".")[0]
        return name if name in self.fields else None


class CustomerForm(ServiceErrorsMixin, forms.Form):
    lifecycle_stage = forms.ChoiceField(label=_("Lifecycle stage"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, workspace_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stages = LifecycleStage.objects.for_workspace(workspace_id)
        self.fields["lifecycle_stage"].choices = [("", "—")] + [(s.key, s.name) for s in stages]

    def field_for(self, path: str) -> str | None:
        """``contact_points.1.value`` → the second contact point given (phone, e-mail, WeChat
        in that order); ``family_name`` → itself; anything else → the whole form."""
        parts = path.split(".")
        if parts[0] == "contact_points" and len(parts) > 1 and parts[1].isdigit():
            present = [f for f in POINT_FIELDS if self.cleaned_data.get(f)]
            index = int(parts[1])
            return present[index] if index < len(present) else None
        return super().field_for(path)


class ContactForm(CustomerForm):
    family_name = forms.CharField(label=_("family name"), max_length=150, required=False)
    given_name = forms.CharField(label=_("given name"), max_length=150, required=False)
    gender = forms.ChoiceField(
        label=_("gender"), required=False, choices=[("", "—"), *Contact.Gender.choices]
    )
    occupation = forms.CharField(label=_("occupation"), max_length=200, required=False)
    preferred_language = forms.ChoiceField(
        label=_("preferred language"), required=False, choices=[("", "—"), *settings.LANGUAGES]
    )
    field_order = ["family_name", "given_name"]


class NewContactForm(ContactForm):
    phone = forms.CharField(label=_("Phone"), max_length=64, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=320, required=False)
    wechat = forms.CharField(label=_("WeChat"), max_length=64, required=False)
    title = forms.CharField(label=_("title"), max_length=200, required=False)


class AccountForm(CustomerForm):
    name = forms.CharField(label=_("name"), max_length=300)
    legal_name = forms.CharField(label=_("legal name"), max_length=300, required=False)
    industry = forms.CharField(label=_("industry"), max_length=100, required=False)
    size = forms.ChoiceField(
        label=_("size"), required=False, choices=[("", "—"), *Account.Size.choices]
    )
    website = forms.CharField(label=_("website"), max_length=300, required=False)
    field_order = ["name", "legal_name"]


class NewAccountForm(AccountForm):
    phone = forms.CharField(label=_("Phone"), max_length=64, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=320, required=False)
