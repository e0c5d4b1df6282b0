"""Log a call or add a note from anywhere: find the customer as you type, say what
happened, and land on their record with it on the timeline."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from guanxi.customers.models import Account, Contact
from guanxi.customers.search import search
from guanxi.platform.errors import GuanxiError
from guanxi.timeline import services as timeline_services
from guanxi.timeline.models import Channel, Interaction
from guanxi.web.common import may, membership_of

KINDS = {"contacts": Contact, "accounts": Account}
RESULT_KIND = {"contact": "contacts", "account": "accounts"}


def _customer(membership: Any, value: str) -> Any:
    """``contacts:<id>`` or ``accounts:<id>`` → the record, if this member may see it."""
    kind, _sep, public_id = value.partition(":")
    model = KINDS.get(kind)
    if model is None or not public_id:
        return None
    return model.objects.visible_to(membership, "view").filter(public_id=public_id).first()


@login_required
def customer_choices(request: HttpRequest) -> HttpResponse:
    """Customers matching what is typed, as choices of the quick-log form."""
    membership = membership_of(request)
    q = request.GET.get("q", "").strip()
    results = search(user=membership, q=q, limit=8) if q else []
    choices = [(f"{RESULT_KIND[r.type]}:{r.id}", r) for r in results]
    return render(request, "web/_quicklog_choices.html", {"q": q, "choices": choices})


@login_required
def quick_log(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request)
    if not may(membership, "add", Interaction):
        return render(
            request, "web/message.html",
            {"heading": _("Log a call or a note"),
             "message": _("Your role may not add to customers' timelines.")},
            status=403,
        )  # fmt: skip
    data = request.POST if request.method == "POST" else request.GET
    chosen = _customer(membership, data.get("customer", ""))
    errors: dict[str, str] = {}
    if request.method == "POST":
        subject = data.get("subject", "").strip()
        if chosen is None:
            errors["customer"] = _("Choose the customer it was with.")
        if not subject:
            errors["subject"] = _("Say in a few words what it was about.")
        if not errors:
            try:
                timeline_services.record_interaction(
                    workspace=membership.workspace, by=request.user,
                    channel=data.get("channel", "phone"), direction=data.get("direction", "outbound"),
                    subject=subject, body=data.get("body", ""),
                    contact=chosen if isinstance(chosen, Contact) else None,
                    account=chosen if isinstance(chosen, Account) else None,
                )  # fmt: skip
            except GuanxiError as exc:
                errors["subject"] = str(exc)
            else:
                messages.success(
                    request, _("Logged on the timeline of %(name)s.") % {"name": chosen}
                )
                kind = "contacts" if isinstance(chosen, Contact) else "accounts"
                return redirect("web:customer_detail", kind, chosen.public_id)
    return render(
        request,
        "web/quicklog.html",
        {"chosen": chosen,
         "chosen_value": data.get("customer", "") if chosen else "",
         "errors": errors, "values": data,
         "channels": Channel.choices, "directions": Interaction.Direction.choices},
        status=422 if errors else 200,
    )  # fmt: skip
