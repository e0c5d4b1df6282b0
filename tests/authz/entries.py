"""Matrix entries of the platform: users (memberships), API tokens, teams, roles."""

from __future__ import annotations

from guanxi.platform import services
from guanxi.platform.models import Membership
from tests.authz.harness import MatrixEntry, register


def _token_for(owner: Membership):
    token, _ = services.create_api_token(membership=owner, name=f"token of {owner.user}")
    return token


def _team_for(owner: Membership):
    return services.create_team(workspace=owner.workspace, name=f"team of {owner.user}")


def _role_for(owner: Membership):
    return services.create_role(
        workspace=owner.workspace, key=f"custom-{owner.pk}", name="Custom", permissions={}
    )


register(
    MatrixEntry(
        object_type="platform.membership",
        make_record=lambda owner: owner,
        calls={
            "view": lambda api, m: api.get(f"/users/{m.public_id}"),
            "change": lambda api, m: api.patch(f"/users/{m.public_id}", {"version": m.version}),
            "delete": lambda api, m: api.delete(f"/users/{m.public_id}"),
        },
        add=lambda api: api.post("/users", {"username": "newbie", "role": "sales_rep"}),
    )
)
register(
    MatrixEntry(
        object_type="platform.apitoken",
        make_record=_token_for,
        calls={
            "view": lambda api, t: api.get(f"/tokens/{t.public_id}"),
            "delete": lambda api, t: api.delete(f"/tokens/{t.public_id}"),
        },
        add=lambda api: api.post("/tokens", {"name": "script"}),
    )
)
register(
    MatrixEntry(
        object_type="platform.team",
        make_record=_team_for,
        calls={
            "view": lambda api, t: api.get(f"/teams/{t.public_id}"),
            "change": lambda api, t: api.patch(
                f"/teams/{t.public_id}", {"name": "renamed", "version": t.version}
            ),
            "delete": lambda api, t: api.delete(f"/teams/{t.public_id}"),
        },
        add=lambda api: api.post("/teams", {"name": "new team"}),
    )
)
register(
    MatrixEntry(
        object_type="platform.role",
        make_record=_role_for,
        calls={
            "view": lambda api, r: api.get(f"/roles/{r.public_id}"),
            "change": lambda api, r: api.patch(
                f"/roles/{r.public_id}", {"name": "renamed", "version": r.version}
            ),
        },
        add=lambda api: api.post("/roles", {"key": "auditor", "name": "Auditor"}),
    )
)
