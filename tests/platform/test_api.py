"""The API framework through the platform endpoints: contract, errors, pagination,
optimistic locking, idempotency, session auth with CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.platform import services
from guanxi.platform.models import ApiToken, AuditEvent, Team
from tests.factories import make_member, make_team

pytestmark = pytest.mark.django_db


def test_me_contract(api, rep):
    response = api(rep).get("/me")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "li.na"
    assert body["workspace"] == {"id": rep.workspace.public_id, "slug": "acme", "name": "ACME 贸易"}
    assert body["role"] == "sales_rep"
    assert body["permissions"]["platform.apitoken"]["view"] == "own"
    assert body["permissions"]["platform.membership"]["change"] == "none"
    assert body["team"] == rep.team.public_id


def test_me_query_budget(api, rep, django_assert_max_num_queries):
    client = api(rep)
    client.get("/me")  # first use writes last_used_at and an audit event
    with django_assert_max_num_queries(4):
        assert client.get("/me").status_code == 200


def test_single_record_query_budget(api, rep, team, django_assert_max_num_queries):
    client = api(rep)
    mate = make_member(workspace=rep.workspace, team=team)
    client.get("/me")
    with django_assert_max_num_queries(4):
        assert client.get(f"/users/{mate.public_id}").status_code == 200


def test_display_name_han_family_first(api, workspace):
    user = services.create_user(username="zw", last_name="张", first_name="伟")
    member = services.add_member(
        workspace=workspace, user=user, role=workspace_role(workspace, "sales_rep")
    )
    assert api(member).get("/me").json()["display_name"] == "张伟"


def workspace_role(workspace, key):
    from guanxi.platform.models import Role

    return Role.objects.for_workspace(workspace).get(key=key)


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "not_authenticated"),
        ("Bearer gx_not-a-real-token", "invalid_token"),
        ("Bearer ", "invalid_token"),
        ("Basic Zm9vOmJhcg==", "not_authenticated"),
    ],
)
def test_missing_or_wrong_token_is_401_problem(header, code, rep):
    client = Client(HTTP_HOST="127.0.0.1")
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_expired_revoked_and_deactivated_tokens_are_refused(api, rep, admin):
    token, raw = services.create_api_token(
        membership=rep, name="short", expires_at=timezone.now() + timedelta(seconds=30)
    )
    client = api(token=raw)
    assert client.get("/me").status_code == 200
    ApiToken.objects.for_workspace(rep.workspace).filter(pk=token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert client.get("/me").status_code == 401

    token, raw = services.create_api_token(membership=rep, name="revoked")
    services.revoke_api_token(token=token, by=admin.user)
    assert api(token=raw).get("/me").status_code == 401

    _, raw = services.create_api_token(membership=rep, name="deactivated")
    services.change_membership(
        membership=rep, by=admin.user, expected_version=rep.version, is_active=False
    )
    assert api(token=raw).get("/me").status_code == 401


def test_tokens_are_stored_hashed(rep):
    token, raw = services.create_api_token(membership=rep, name="x")
    stored = ApiToken.objects.for_workspace(rep.workspace).get(pk=token.pk)
    assert raw not in (stored.token_hash, stored.prefix)
    assert stored.token_hash == services.hash_token(raw)


def test_token_use_is_audited_not_on_every_request(api, rep):
    client = api(rep)
    for _ in range(3):
        client.get("/me")
    uses = AuditEvent.objects.filter(action="token.used", actor=rep.user)
    assert uses.count() == 1
    assert uses.get().ip == "127.0.0.1"


def test_malformed_json_is_400(api, admin):
    response = api(admin).post("/teams", "{not json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_invalid_fields_are_422_naming_each_field(api, admin):
    response = api(admin).post("/users", {"username": "", "role": 5})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    fields = {error["field"] for error in body["errors"]}
    assert {"username", "role"} <= fields


def test_service_validation_is_422_with_field(api, admin):
    response = api(admin).post("/users", {"username": "x", "role": "astronaut"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "role", "message": "no role with key 'astronaut' in this workspace"}
    ]


def test_weak_password_is_refused_and_nothing_written(api, admin):
    response = api(admin).post(
        "/users", {"username": "newbie", "role": "sales_rep", "password": "123"}
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"password"}
    from guanxi.platform.models import User

    assert not User.objects.filter(username="newbie").exists()


def test_create_user_through_api(api, admin, team):
    response = api(admin).post(
        "/users",
        {
            "username": "wang.fang",
            "role": "sales_manager",
            "team": team.public_id,
            "password": "a-long-and-unusual-passphrase",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["team"] == team.public_id
    assert body["role"] == "sales_manager"
    assert AuditEvent.objects.filter(action="membership.created", object_id=body["id"]).exists()


class TestOptimisticLocking:
    def test_etag_and_if_match(self, api, admin, team):
        client = api(admin)
        response = client.get(f"/teams/{team.public_id}")
        assert response["ETag"] == '"1"'
        renamed = client.patch(f"/teams/{team.public_id}", {"name": "East"}, {"If-Match": '"1"'})
        assert renamed.status_code == 200
        assert renamed.json()["version"] == 2
        assert renamed["ETag"] == '"2"'

    def test_stale_version_is_409_with_current_version(self, api, admin, team):
        client = api(admin)
        assert (
            client.patch(f"/teams/{team.public_id}", {"name": "A", "version": 1}).status_code == 200
        )
        stale = client.patch(f"/teams/{team.public_id}", {"name": "B", "version": 1})
        assert stale.status_code == 409
        assert stale.json()["code"] == "version_conflict"
        assert stale.json()["current_version"] == 2
        assert Team.objects.for_workspace(team.workspace).get(pk=team.pk).name == "A"

    def test_missing_version_is_428(self, api, admin, team):
        response = api(admin).patch(f"/teams/{team.public_id}", {"name": "X"})
        assert response.status_code == 428
        assert response.json()["code"] == "version_required"


class TestIdempotency:
    def test_repeat_returns_first_result_and_creates_once(self, api, admin):
        client = api(admin)
        headers = {"Idempotency-Key": "k-1"}
        first = client.post("/teams", {"name": "North"}, headers)
        second = client.post("/teams", {"name": "North"}, headers)
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        assert second["Idempotent-Replayed"] == "true"
        assert Team.objects.for_workspace(admin.workspace).filter(name="North").count() == 1

    def test_same_key_other_body_is_422(self, api, admin):
        client = api(admin)
        client.post("/teams", {"name": "North"}, {"Idempotency-Key": "k-2"})
        response = client.post("/teams", {"name": "South"}, {"Idempotency-Key": "k-2"})
        assert response.status_code == 422
        assert response.json()["code"] == "idempotency_key_reused"

    def test_keys_are_per_user(self, api, admin, workspace):
        other_admin = make_member(workspace=workspace, role_key="administrator")
        api(admin).post("/teams", {"name": "North"}, {"Idempotency-Key": "same"})
        response = api(other_admin).post("/teams", {"name": "South"}, {"Idempotency-Key": "same"})
        assert response.status_code == 201

    def test_in_progress_then_abandoned(self, api, admin):
        from guanxi.platform.models import IdempotencyRecord

        scope = f"membership:{admin.pk}"
        record = IdempotencyRecord.objects.create(scope=scope, key="k-4", fingerprint="x")
        client = api(admin)
        busy = client.post("/teams", {"name": "West"}, {"Idempotency-Key": "k-4"})
        assert busy.status_code == 409
        assert busy.json()["code"] == "idempotency_key_in_progress"
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            created_at=timezone.now() - timedelta(minutes=10)
        )
        retried = client.post("/teams", {"name": "West"}, {"Idempotency-Key": "k-4"})
        assert retried.status_code == 201

    def test_failed_request_can_be_retried(self, api, admin):
        client = api(admin)
        headers = {"Idempotency-Key": "k-3"}
        assert client.post("/teams", {"name": ""}, headers).status_code == 422
        # Client errors are answers too: the same request gets the same answer.
        assert client.post("/teams", {"name": ""}, headers).status_code == 422


class TestPagination:
    def test_cursor_walks_every_row_once(self, api, admin, workspace):
        for index in range(7):
            make_team(workspace=workspace, name=f"T{index}")
        client = api(admin)
        seen, cursor, pages = [], None, 0
        while True:
            params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
            body = client.get("/teams", **params).json()
            seen += [team["name"] for team in body["items"]]
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == [f"T{index}" for index in range(7)]
        assert pages == 3

    @pytest.mark.parametrize("cursor", ["garbage", "W10", "eyJ4IjoxfQ"])
    def test_bad_cursor_is_422(self, api, admin, cursor):
        response = api(admin).get("/teams", cursor=cursor)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "query.cursor"

    def test_limit_bounds(self, api, admin):
        assert api(admin).get("/teams", limit=0).status_code == 422
        assert api(admin).get("/teams", limit=201).status_code == 422


class TestSessionAuth:
    def test_session_reads_and_csrf_on_writes(self, admin):
        client = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=True)
        client.get("/login/")  # sets the CSRF cookie, as the web UI does
        client.force_login(admin.user)
        assert client.get("/api/v1/me").json()["username"] == "root"
        refused = client.post("/api/v1/teams", {"name": "X"}, content_type="application/json")
        assert refused.status_code == 403
        assert refused.json()["code"] == "csrf_failed"
        token = client.cookies["csrftoken"].value
        accepted = client.post(
            "/api/v1/teams",
            {"name": "X"},
            content_type="application/json",
            headers={"X-CSRFToken": token},
        )
        assert accepted.status_code == 201

    def test_user_without_membership_is_401(self, db):
        user = services.create_user(username="loner")
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        assert client.get("/api/v1/me").status_code == 401


class TestWorkspaceEndpoint:
    def test_admin_changes_workspace(self, api, admin):
        response = api(admin).patch("/workspace", {"name": "ACME Ltd", "version": 1})
        assert response.status_code == 200
        assert response.json()["name"] == "ACME Ltd"
        assert AuditEvent.objects.filter(action="workspace.changed").exists()

    def test_rep_reads_but_cannot_change(self, api, rep):
        assert api(rep).get("/workspace").json()["slug"] == "acme"
        assert api(rep).patch("/workspace", {"name": "Mine", "version": 1}).status_code == 403

    def test_invalid_time_zone(self, api, admin):
        response = api(admin).patch("/workspace", {"time_zone": "Mars/Base", "version": 1})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "time_zone"


class TestAuditLogEndpoint:
    def test_admin_reads_own_workspace_events(self, api, admin, rep):
        client = api(admin)
        body = client.get("/audit-events", action="membership.created").json()
        usernames = {event["data"]["user"] for event in body["items"]}
        assert usernames == {"root", "li.na"}

    def test_other_roles_get_404(self, api, rep):
        assert api(rep).get("/audit-events").status_code == 404

    def test_other_workspace_events_are_not_listed(self, api, admin):
        from tests.factories import make_workspace

        make_workspace(slug="other")
        body = api(admin).get("/audit-events", action="workspace.created").json()
        assert [event["object_id"] for event in body["items"]] == [admin.workspace.public_id]


def test_role_permission_change_is_audited_and_applied(api, admin, rep):
    role = workspace_role(admin.workspace, "sales_rep")
    response = api(admin).patch(
        f"/roles/{role.public_id}",
        {"permissions": {"platform.team": {"add": "all"}}, "version": role.version},
    )
    assert response.status_code == 200
    assert response.json()["permissions"]["platform.team"]["add"] == "all"
    event = AuditEvent.objects.get(action="role.permissions_changed")
    assert event.data["changes"]["platform.team"]["to"]["add"] == "all"
    assert api(rep).post("/teams", {"name": "Reps' own"}).status_code == 201


def test_unknown_grant_is_422(api, admin):
    role = workspace_role(admin.workspace, "sales_rep")
    response = api(admin).patch(
        f"/roles/{role.public_id}",
        {"permissions": {"platform.team": {"fly": "all"}, "x.y": {}}, "version": 1},
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"permissions.platform.team.fly", "permissions.x.y"}
