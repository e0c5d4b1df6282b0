"""Who is asking, in which workspace: bearer tokens on /api/, sessions everywhere."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.translation import check_for_language

from guanxi.platform.context import acting_in, serving_client
from guanxi.platform.models import Membership
from guanxi.platform.services import authenticate_token

SESSION_WORKSPACE_KEY = "guanxi.workspace_id"


def client_ip(request: HttpRequest) -> str | None:
    if getattr(settings, "GUANXI_BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def bearer_token(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def session_membership(request: HttpRequest) -> Membership | None:
    """The membership of the workspace chosen in this session, else the user's first one."""
    memberships = (
        Membership.objects.dangerously_all_workspaces()
        .select_related("role", "workspace")
        .filter(user=request.user, is_active=True, workspace__is_active=True)
        .order_by("created_at", "pk")
    )
    chosen = request.session.get(SESSION_WORKSPACE_KEY)
    if chosen is not None:
        membership = memberships.filter(workspace_id=chosen).first()
        if membership is not None:
            return membership
    return memberships.first()


class WorkspaceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        ip = client_ip(request)
        request.membership = None
        request.api_token = None
        request.auth_method = None
        with ExitStack() as stack:
            stack.enter_context(serving_client(ip, request.headers.get("User-Agent", "")))
            raw = bearer_token(request) if request.path.startswith("/api/") else None
            if raw is not None:
                token = authenticate_token(raw, ip=ip)
                if token is None:
                    request.user = AnonymousUser()
                    request.auth_method = "invalid_token"
                else:
                    request.user = token.membership.user
                    request.membership = token.membership
                    request.api_token = token
                    request.auth_method = "token"
            elif request.user.is_authenticated:
                request.membership = session_membership(request)
                request.auth_method = "session"
            language = (
                getattr(request.user, "language", "") if request.user.is_authenticated else ""
            )
            if language and check_for_language(language):
                # the language a user chose is theirs on every device, over cookie and browser
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
            membership = request.membership
            if membership is not None:
                stack.enter_context(acting_in(membership.workspace, membership))
                zone = request.user.time_zone or membership.workspace.time_zone
                stack.callback(timezone.deactivate)
                timezone.activate(zone)
            return self.get_response(request)
