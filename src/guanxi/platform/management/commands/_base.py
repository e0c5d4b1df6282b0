"""Shared behaviour of Guanxi's commands: one-line errors and exit status 2 on bad input."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

from guanxi.platform.errors import GuanxiError
from guanxi.platform.models import Membership, User, Workspace


def fail(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def _unmigrated() -> bool:
    """Whether the database lacks migrations the code has (a new database, say)."""
    try:
        executor = MigrationExecutor(connection)
        return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    except DatabaseError:
        return True


class GuanxiCommand(BaseCommand):
    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except GuanxiError as exc:
            raise fail(exc.detail) from exc
        except DatabaseError as exc:
            if _unmigrated():
                raise fail(
                    "the database is not set up (migrations not applied): "
                    "run `guanxi migrate` first"
                ) from exc
            raise

    @staticmethod
    def workspace(slug: str) -> Workspace:
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            raise fail(f"unknown workspace {slug!r}")
        return workspace

    @staticmethod
    def user(username: str) -> User:
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            raise fail(f"unknown user {username!r}")
        return user

    @staticmethod
    def membership(workspace: Workspace, username: str) -> Membership:
        membership = (
            Membership.objects.for_workspace(workspace)
            .select_related("user", "workspace")
            .filter(user__username__iexact=username)
            .first()
        )
        if membership is None:
            raise fail(f"user {username!r} is not a member of workspace {workspace.slug!r}")
        return membership

    def acting_member(self, workspace: Workspace, username: str | None) -> Membership:
        """Who a command acts as: the named user, else the workspace's first administrator
        (their rights apply to what the command reads and writes)."""
        if username:
            return self.membership(workspace, username)
        admin = (
            Membership.objects.for_workspace(workspace)
            .filter(role__key="administrator", is_active=True)
            .select_related("user", "workspace")
            .order_by("id")
            .first()
        )
        if admin is None:
            raise fail("the workspace has no administrator; name the user with --user")
        return admin
