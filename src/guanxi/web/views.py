from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import check_for_language
from django.views import i18n as i18n_views

from guanxi.customers.models import Contact
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
    return render(
        request,
        "web/home.html",
        {"activities": activities, "recent": recent, "now": timezone.now()},
    )


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
