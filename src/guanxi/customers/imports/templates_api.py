"""Saved import mappings over the API: list the ones you may use, save one, rename, share or
change it, delete it, apply it to an uploaded import."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema
from ninja.responses import Status

from guanxi.customers import import_templates
from guanxi.customers.imports.api import ImportOut, job_out
from guanxi.customers.models import ImportJob, ImportTemplate
from guanxi.platform.apiframework import Problem, with_etag
from guanxi.platform.errors import NotFound
from guanxi.platform.versioning import expected_version
from guanxi.platform.visibility import get_visible_or_404

router = Router(tags=["imports"])
ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
WRITE_ERRORS = {**ERRORS, 428: Problem}


class TemplateOut(Schema):
    id: str
    type: str
    name: str
    mapping: dict[str, Any] = Field(description='header -> {"field", "transform"}')
    defaults: dict[str, str] = Field(description="field -> value for empty cells")
    policy: str
    is_shared: bool
    owner: str = Field(description="Username of the author")
    is_mine: bool
    version: int
    created_at: datetime
    updated_at: datetime


class TemplateIn(Schema):
    type: str = Field("contacts", description="contacts or accounts")
    name: str
    mapping: dict[str, Any] | None = Field(
        None,
        description='header -> field, or header -> {"field", "transform"} (trim, upper, '
        "lower, title); with `import_id`, taken from that import when omitted",
    )
    defaults: dict[str, Any] | None = Field(None, description="field -> value for empty cells")
    policy: str | None = Field(None, description="skip, update, create or review")
    is_shared: bool = Field(False, description="Offer it to everyone in the workspace who imports")
    import_id: str | None = Field(
        None, description="Save the mapping, defaults and policy of this import"
    )


class TemplateChange(Schema):
    name: str | None = None
    is_shared: bool | None = None
    mapping: dict[str, Any] | None = None
    defaults: dict[str, Any] | None = None
    policy: str | None = None
    version: int | None = Field(None, description="The version you read (or send If-Match)")


class ApplyIn(Schema):
    import_id: str


def template_out(template: ImportTemplate, user_id: int) -> dict[str, Any]:
    author = template.created_by
    return {
        "id": template.public_id, "type": template.kind, "name": template.name,
        "mapping": template.mapping, "defaults": template.defaults, "policy": template.policy,
        "is_shared": template.is_shared, "owner": author.get_username() if author else "",
        "is_mine": template.created_by_id == user_id, "version": template.version,
        "created_at": template.created_at, "updated_at": template.updated_at,
    }  # fmt: skip


def _template(request: HttpRequest, template_id: str, action: str = "view") -> ImportTemplate:
    return import_templates.get_template(
        membership=request.auth, public_id=template_id, action=action
    )


@router.get("/imports/templates", response={200: list[TemplateOut], **ERRORS},
            summary="Import templates you may use")  # fmt: skip
def list_templates(request: HttpRequest, type: str | None = None) -> list[dict]:
    """Your own templates and the shared ones, by name; `type` narrows to contacts or
    accounts."""
    if type is not None:
        import_templates.check_kind(type)
    templates = import_templates.usable_templates(membership=request.auth, kind=type)
    return [template_out(t, request.auth.user_id) for t in templates[:500]]


@router.post("/imports/templates", response={201: TemplateOut, **ERRORS},
             summary="Save an import template")  # fmt: skip
def create_template(request: HttpRequest, payload: TemplateIn) -> Status:
    """From a mapping given whole, or (`import_id`) from an import's current mapping,
    defaults and policy — each can still be given to override the import's."""
    membership = request.auth
    if payload.import_id:
        job = get_visible_or_404(ImportJob, user=membership, public_id=payload.import_id)
        kind = job.kind
        mapping = payload.mapping if payload.mapping is not None else job.mapping
        defaults = payload.defaults if payload.defaults is not None else job.defaults
        policy = payload.policy or job.policy
    else:
        kind, mapping, defaults = payload.type, payload.mapping or {}, payload.defaults
        policy = payload.policy or ImportJob.Policy.SKIP
    template = import_templates.create_template(
        membership=membership, kind=kind, name=payload.name, mapping=mapping,
        defaults=defaults, policy=policy, is_shared=payload.is_shared,
    )  # fmt: skip
    return Status(201, template_out(template, membership.user_id))


@router.get("/imports/templates/{template_id}", response={200: TemplateOut, **ERRORS},
            summary="One import template")  # fmt: skip
def get_template(request: HttpRequest, template_id: str, response: HttpResponse) -> dict:
    template = _template(request, template_id)
    with_etag(response, template)
    return template_out(template, request.auth.user_id)


@router.patch("/imports/templates/{template_id}", response={200: TemplateOut, **WRITE_ERRORS},
              summary="Rename, share or change an import template")  # fmt: skip
def change_template(
    request: HttpRequest, template_id: str, payload: TemplateChange, response: HttpResponse
) -> dict:
    """Your own templates only (a shared one is changed by its author). Send the version
    you read."""
    template = _template(request, template_id, "change")
    changes = payload.dict(exclude_unset=True, exclude={"version"})
    changes = {key: value for key, value in changes.items() if value is not None}
    template = import_templates.update_template(
        template=template, by=request.user,
        expected_version=expected_version(
            if_match=request.headers.get("If-Match"), body_version=payload.version
        ),
        **changes,
    )  # fmt: skip
    with_etag(response, template)
    return template_out(template, request.auth.user_id)


@router.delete("/imports/templates/{template_id}", response={204: None, **ERRORS},
               summary="Delete an import template")  # fmt: skip
def delete_template(request: HttpRequest, template_id: str) -> Status:
    template = _template(request, template_id, "delete")
    import_templates.delete_template(template=template, by=request.user)
    return Status(204, None)


@router.post("/imports/templates/{template_id}/apply", response={200: ImportOut, **ERRORS},
             summary="Map an import's columns with a template")  # fmt: skip
def apply_template(request: HttpRequest, template_id: str, payload: ApplyIn) -> dict:
    """Sets the import's mapping (the template's headers found in the file, as written or
    spelled alike), defaults and policy, checked like any mapping. The import must not have
    started."""
    template = _template(request, template_id)
    try:
        job = get_visible_or_404(
            ImportJob, user=request.auth, public_id=payload.import_id, action="change"
        )
    except NotFound:
        raise NotFound("import") from None
    return job_out(import_templates.apply_template(template=template, job=job))
