"""Sign-ins into the audit log. Django announces them with signals; we only listen."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from guanxi.platform.audit import record_audit
from guanxi.platform.context import serving_client


def _home_workspace(user: Any) -> Any:
    from guanxi.platform.models import Membership

    membership = (
        Membership.objects.dangerously_all_workspaces()
        .select_related("workspace")
        .filter(user=user)
        .order_by("created_at", "pk")
        .first()
    )
    return membership.workspace if membership else None


def _client(request: Any) -> tuple[str | None, str]:
    if request is None:
        return None, ""
    from guanxi.platform.middleware import client_ip

    return client_ip(request), request.headers.get("User-Agent", "")


@receiver(user_logged_in)
def audit_sign_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    with serving_client(*_client(request)):
        record_audit(action="auth.sign_in", actor=user, workspace=_home_workspace(user))


@receiver(user_login_failed)
def audit_failed_sign_in(sender: Any, credentials: dict, request: Any = None, **kw: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    user = get_user_model().objects.filter(username__iexact=username).first()
    with serving_client(*_client(request)):
        record_audit(
            action="auth.sign_in_failed",
            workspace=_home_workspace(user) if user else None,
            actor_label=username,
            data={"username": username, "known_user": user is not None},
        )
