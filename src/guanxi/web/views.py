from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views import i18n as i18n_views
from django.views.decorators.http import require_POST

from guanxi.customers.models import Contact
from guanxi.platform.middleware import SESSION_WORKSPACE_KEY
from guanxi.platform.models import Membership
from guanxi.timeline import selectors as timeline_selectors
from guanxi.timeline.models import Activity


@login_required(login_url="web:login")
def home(request: HttpRequest) -> HttpResponse:
    """My open activities, overdue first, and the customers most recently worked on."""
    membership = request.membership
    activities, recent = [], []
    if membership is not None:
        activities = list(
            timeline_selectors.activities(user=membership)
            .filter(assigned_to=request.user, status=Activity.Status.OPEN)
            .order_by(F("due_at").asc(nulls_last=True), "id")[:20]
        )
        recent = list(
            Contact.objects.visible_to(membership, "view")
            .filter(owner=request.user)
            .order_by("-updated_at", "-id")
            .only("public_id", "display_name", "updated_at")[:10]
        )
    workspaces = [
        m.workspace
        for m in Membership.objects.dangerously_all_workspaces()
        .filter(user=request.user, is_active=True, workspace__is_active=True, deleted_at=None)
        .select_related("workspace")
        .order_by("workspace__name")
    ]
    return render(
        request,
        "web/home.html",
        {"activities": activities, "recent": recent, "now": timezone.now(),
         "workspaces": workspaces if len(workspaces) > 1 else []},
    )  # fmt: skip


@login_required(login_url="web:login")
@require_POST
def switch_workspace(request: HttpRequest) -> HttpResponse:
    """Work in another workspace the user belongs to (remembered for the session)."""
    membership = (
        Membership.objects.dangerously_all_workspaces()
        .filter(
            user=request.user,
            is_active=True,
            workspace__is_active=True,
            deleted_at=None,
            workspace__public_id=request.POST.get("workspace", ""),
        )
        .first()
    )
    if membership is None:
        raise Http404
    request.session[SESSION_WORKSPACE_KEY] = membership.workspace_id
    return redirect("web:home")


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, remembered on the user for their other devices."""
    response = i18n_views.set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and check_for_language(language):
        request.user.language = language
        request.user.save(update_fields=["language"])
    return response


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and `guanxi demo`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent with a stale token — mostly a session that expired while the page was
    open: sign in again and come back to the page; signed in, say so and link back."""
    referer = request.headers.get("Referer", "")
    back = "/"
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        parts = urlsplit(referer)
        back = parts.path + (f"?{parts.query}" if parts.query else "")
    if not request.user.is_authenticated:
        messages.warning(request, _("Your session has expired. Sign in again to continue."))
        target = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': back}, safe='/')}"
        if request.headers.get("HX-Request") == "true":
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)
    return render(
        request,
        "web/message.html",
        {"heading": _("This form has expired"),
         "message": _("The page was open too long or in another window. Nothing was saved: "
                      "go back, reload the page and send it again."),
         "back": back},
        status=403,
    )  # fmt: skip
