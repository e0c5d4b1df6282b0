"""Platform services and the tenancy/visibility machinery they rely on."""

from __future__ import annotations

import pytest

from guanxi.platform import services
from guanxi.platform.context import WorkspaceNotActive, acting_in
from guanxi.platform.errors import ValidationFailed, VersionConflict
from guanxi.platform.models import AuditEvent, Membership, Team
from guanxi.platform.versioning import parse_if_match, save_versioned
from tests.factories import make_member, make_team, make_workspace, role

pytestmark = pytest.mark.django_db


class TestTenancy:
    def test_default_manager_needs_an_active_workspace(self, workspace):
        with pytest.raises(WorkspaceNotActive):
            list(Team.objects.all())

    def test_active_workspace_scopes_queries(self, workspace):
        other = make_workspace(slug="other")
        mine = make_team(workspace=workspace, name="Mine")
        make_team(workspace=other, name="Theirs")
        with acting_in(workspace):
            assert list(Team.objects.all()) == [mine]
        assert Team.objects.dangerously_all_workspaces().count() == 2

    def test_soft_deleted_rows_are_hidden(self, workspace, admin):
        team = make_team(workspace=workspace, name="Gone")
        services.delete_team(team=team, by=admin.user)
        assert not Team.objects.for_workspace(workspace).filter(pk=team.pk).exists()
        assert Team.objects.for_workspace(workspace, include_deleted=True).filter(pk=team.pk)

    def test_public_ids_are_prefixed_and_unique(self, workspace):
        a, b = make_team(workspace=workspace), make_team(workspace=workspace)
        assert a.public_id.startswith("team_") and len(a.public_id) == 31
        assert a.public_id != b.public_id
        assert workspace.public_id.startswith("ws_")

    def test_default_roles_are_created(self, workspace):
        keys = set(services.Role.objects.for_workspace(workspace).values_list("key", flat=True))
        assert keys == {
            "administrator",
            "sales_manager",
            "sales_rep",
            "marketer",
            "service_manager",
            "service_agent",
            "contact_center_agent",
            "dealer_user",
            "analyst",
        }

    def test_workspace_validation(self, db):
        with pytest.raises(ValidationFailed) as error:
            services.create_workspace(slug="Bad Slug", name="", region="China", currency="rmb")
        assert {field for field, _ in error.value.errors} == {"slug", "name", "region", "currency"}

    def test_duplicate_slug(self, workspace):
        with pytest.raises(ValidationFailed, match="already exists"):
            services.create_workspace(slug="acme", name="Again")

    def test_dealer_workspace_has_parent(self, workspace):
        dealer = services.create_workspace(slug="dealer-1", name="经销商一", parent=workspace)
        assert dealer.parent == workspace


class TestManagerTree:
    def test_subtree_sees_reports_of_reports(self, workspace):
        boss = make_member(workspace=workspace, role_key="sales_manager")
        middle = make_member(workspace=workspace, manager=boss)
        leaf = make_member(workspace=workspace, manager=middle)
        stranger = make_member(workspace=workspace)
        assert leaf.path == f"/{boss.pk}/{middle.pk}/{leaf.pk}/"
        services.update_role(
            role=boss.role,
            by=boss.user,
            expected_version=boss.role.version,
            permissions={"platform.membership": {"view": "subtree"}},
        )
        boss = Membership.objects.for_workspace(workspace).select_related("role").get(pk=boss.pk)
        visible = set(Membership.objects.visible_to(boss, "view"))
        assert visible == {boss, middle, leaf}
        assert stranger not in visible

    def test_moving_a_manager_moves_the_subtree(self, workspace, admin):
        a = make_member(workspace=workspace)
        b = make_member(workspace=workspace)
        child = make_member(workspace=workspace, manager=a)
        grandchild = make_member(workspace=workspace, manager=child)
        services.change_membership(
            membership=child, by=admin.user, expected_version=child.version, manager=b
        )
        grandchild.refresh_from_db()
        assert grandchild.path == f"/{b.pk}/{child.pk}/{grandchild.pk}/"
        event = AuditEvent.objects.get(action="membership.manager_changed")
        assert event.data == {"from": a.user.username, "to": b.user.username}

    def test_loops_are_refused(self, workspace, admin):
        top = make_member(workspace=workspace)
        below = make_member(workspace=workspace, manager=top)
        with pytest.raises(ValidationFailed, match="loop"):
            services.change_membership(
                membership=top, by=admin.user, expected_version=top.version, manager=below
            )
        with pytest.raises(ValidationFailed, match="loop"):
            services.change_membership(
                membership=top, by=admin.user, expected_version=top.version, manager=top
            )

    def test_cross_workspace_references_are_refused(self, workspace, admin):
        other = make_workspace(slug="other")
        member = make_member(workspace=workspace)
        with pytest.raises(ValidationFailed):
            services.change_membership(
                membership=member,
                by=admin.user,
                expected_version=member.version,
                role=role(other, "administrator"),
            )


class TestVersioning:
    def test_conflict_leaves_row_untouched(self, workspace):
        team = make_team(workspace=workspace, name="One")
        copy = Team.objects.for_workspace(workspace).get(pk=team.pk)
        team.name = "Two"
        save_versioned(team, expected_version=1, fields=["name"])
        copy.name = "Three"
        with pytest.raises(VersionConflict) as error:
            save_versioned(copy, expected_version=1, fields=["name"])
        assert error.value.current_version == 2
        assert Team.objects.for_workspace(workspace).get(pk=team.pk).name == "Two"

    @pytest.mark.parametrize(
        ("header", "version"), [('"3"', 3), ('W/"7"', 7), ("12", 12), ("*", None), ("", None)]
    )
    def test_parse_if_match(self, header, version):
        assert parse_if_match(header) == version

    def test_history_is_recorded(self, workspace, admin):
        team = make_team(workspace=workspace, name="Old")
        services.update_team(team=team, by=admin.user, expected_version=1, name="New")
        names = list(team.history.order_by("history_id").values_list("name", flat=True))
        assert names == ["Old", "New"]


class TestAuditLog:
    def test_append_only(self, workspace):
        event = AuditEvent.objects.filter(workspace=workspace).first()
        event.action = "tampered"
        with pytest.raises(TypeError):
            event.save()
        with pytest.raises(TypeError):
            event.delete()
        with pytest.raises(TypeError):
            AuditEvent.objects.all().update(action="x")
        with pytest.raises(TypeError):
            AuditEvent.objects.all().delete()

    def test_remove_member_revokes_tokens_and_audits(self, workspace, admin, api):
        member = make_member(workspace=workspace)
        _, raw = services.create_api_token(membership=member, name="t")
        services.remove_member(membership=member, by=admin.user)
        assert api(token=raw).get("/me").status_code == 401
        assert AuditEvent.objects.filter(action="membership.deleted", actor=admin.user).exists()


class TestSignInAudit:
    def test_success_and_failure(self, client, workspace):
        member = make_member(workspace=workspace, username="zhang", password="ok-long-passphrase")
        client.defaults["HTTP_HOST"] = "127.0.0.1"
        client.post("/login/", {"username": "zhang", "password": "wrong"})
        response = client.post("/login/", {"username": "zhang", "password": "ok-long-passphrase"})
        assert response.status_code == 302
        failed = AuditEvent.objects.get(action="auth.sign_in_failed")
        assert failed.workspace == workspace
        assert failed.data == {"username": "zhang", "known_user": True}
        assert failed.ip == "127.0.0.1"
        ok = AuditEvent.objects.get(action="auth.sign_in")
        assert ok.actor == member.user

    def test_unknown_user_failure_has_no_workspace(self, client, db):
        client.defaults["HTTP_HOST"] = "127.0.0.1"
        client.post("/login/", {"username": "ghost", "password": "x"})
        event = AuditEvent.objects.get(action="auth.sign_in_failed")
        assert event.workspace is None and event.actor_label == "ghost"


class TestLazyWorkspaceFilter:
    def test_queryset_built_before_a_workspace_is_active(self, workspace):
        other = make_workspace(slug="other")
        mine = make_team(workspace=workspace, name="Mine")
        theirs = make_team(workspace=other, name="Theirs")
        teams = Team.objects.all()  # built at "import time", evaluated later
        with acting_in(workspace):
            assert list(teams.all()) == [mine]
        with acting_in(other):
            assert list(teams.all()) == [theirs]
        with pytest.raises(WorkspaceNotActive):
            teams.count()
