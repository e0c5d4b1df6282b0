"""The admin site, opened to each workspace's administrators as well as to operators.

Django's admin normally needs ``is_staff`` plus model permissions; here a member may open a
page when their role grants the action on that object type in the active workspace, so the
same roles govern the admin, the API and the web UI.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.platform.permissions import ADMINISTRATOR


def acting_membership(request: HttpRequest) -> Any:
    return getattr(request, "membership", None)


class GuanxiAdminSite(admin.AdminSite):
    site_header = _("Guanxi administration")
    site_title = _("Guanxi")
    index_title = _("Workspace administration")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        if not user.is_active:
            return False
        if user.is_superuser:
            return True
        membership = acting_membership(request)
        return membership is not None and membership.role.key == ADMINISTRATOR

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """One sign-in page for the whole app (audited, translated)."""
        if request.user.is_authenticated:
            # Signed in but not an administrator: sending them to sign in again would loop.
            raise PermissionDenied
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(next_url, reverse("web:login"))
