"""Matrix entries of the customer master: accounts and contacts."""

from __future__ import annotations

from guanxi.customers import services
from guanxi.platform.models import Membership
from tests.authz.harness import MatrixEntry, register


def _account_for(owner: Membership):
    return services.create_account(
        workspace=owner.workspace, by=owner.user, name=f"Account of {owner.user}"
    )


def _contact_for(owner: Membership):
    return services.create_contact(
        workspace=owner.workspace, by=owner.user, family_name="张", given_name=str(owner.pk)
    )


def _new_owner(customer) -> str:
    """Someone in the workspace who does not own the record yet."""
    return "mate" if customer.owner.username == "stranger" else "stranger"


def _customer_calls(path: str, *, rename: dict) -> dict:
    return {
        "view": lambda api, c: api.get(f"/{path}/{c.public_id}"),
        "change": lambda api, c: api.patch(
            f"/{path}/{c.public_id}", rename | {"version": c.version}
        ),
        "delete": lambda api, c: api.delete(f"/{path}/{c.public_id}"),
        "assign": lambda api, c: api.patch(
            f"/{path}/{c.public_id}", {"owner": _new_owner(c), "version": c.version}
        ),
    }


register(
    MatrixEntry(
        object_type="customers.account",
        make_record=_account_for,
        calls=_customer_calls("accounts", rename={"name": "Renamed Ltd"}),
        add=lambda api: api.post("/accounts", {"name": "New Co"}),
    )
)
register(
    MatrixEntry(
        object_type="customers.contact",
        make_record=_contact_for,
        calls=_customer_calls("contacts", rename={"given_name": "伟"}),
        add=lambda api: api.post("/contacts", {"family_name": "王", "given_name": "芳"}),
    )
)


def _activity_for(owner: Membership):
    from guanxi.timeline import services as timeline

    contact = _contact_for(owner)
    return timeline.create_activity(
        workspace=owner.workspace, by=owner.user, kind="call", subject="回访", contact=contact
    )


def _add_activity(api):
    contact = api.post("/contacts", {"family_name": "新"})
    contact_id = contact.json().get("id") if contact.status_code == 201 else None
    return api.post("/activities", {"kind": "task", "subject": "报价", "contact_id": contact_id})


register(
    MatrixEntry(
        object_type="timeline.activity",
        make_record=_activity_for,
        calls={
            "view": lambda api, a: api.get(f"/activities/{a.public_id}"),
            "change": lambda api, a: api.patch(
                f"/activities/{a.public_id}", {"subject": "改期", "version": a.version}
            ),
            "assign": lambda api, a: api.patch(
                f"/activities/{a.public_id}",
                {
                    "assigned_to": "mate" if a.assigned_to.username != "mate" else "stranger",
                    "version": a.version,
                },
            ),
        },
        add=_add_activity,
    )
)


def _scan_for(owner: Membership):
    from guanxi.customers.models import DedupeRun

    run = DedupeRun(workspace=owner.workspace, created_by=owner.user, updated_by=owner.user)
    run.save()
    return run


# Possible duplicates are not in the matrix: a pair shows only when both of its contacts are
# visible too, which tests/customers/test_duplicates_api.py checks role by role.
register(
    MatrixEntry(
        object_type="customers.deduperun",
        make_record=_scan_for,
        calls={"view": lambda api, run: api.get(f"/duplicates/scans/{run.public_id}")},
        add=lambda api: api.post("/duplicates/scans", {"wait": True}),
    )
)


def _template_for(owner: Membership):
    from guanxi.customers.models import ImportTemplate

    template = ImportTemplate(workspace=owner.workspace, kind="contacts", name=f"名片 {owner.pk}",
                              mapping={"姓名": {"field": "full_name"}},
                              created_by=owner.user, updated_by=owner.user)  # fmt: skip
    template.save()
    return template


register(
    MatrixEntry(
        object_type="customers.importtemplate",
        make_record=_template_for,
        calls={
            "view": lambda api, t: api.get(f"/imports/templates/{t.public_id}"),
            "change": lambda api, t: api.patch(
                f"/imports/templates/{t.public_id}", {"name": "展会名片", "version": t.version}
            ),
            "delete": lambda api, t: api.delete(f"/imports/templates/{t.public_id}"),
        },
        add=lambda api: api.post(
            "/imports/templates", {"name": "名片", "mapping": {"姓名": {"field": "full_name"}}}
        ),
    )
)


# Export files are not in the matrix: a file is its author's alone whatever the role's scope
# (tests/web/test_export_jobs.py checks that another user gets a 404).
