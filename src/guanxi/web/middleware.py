"""Sign-in for requests htmx makes: a fragment cannot show the sign-in page, so the whole
page goes there, and back to where the user was after signing in."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url


def page_path(request: HttpRequest) -> str:
    """The page the user is on: htmx says so in ``HX-Current-URL``; else this request."""
    current = request.headers.get("HX-Current-URL", "")
    if current:
        parts = urlsplit(current)
        if parts.netloc in ("", request.get_host()):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.get_full_path()


def login_url_back_to(request: HttpRequest) -> str:
    return f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': page_path(request)}, safe='/')}"


class HtmxLoginRedirectMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        is_htmx = request.headers.get("HX-Request") == "true"
        login = resolve_url(settings.LOGIN_URL)
        if is_htmx and response.status_code == 302 and response["Location"].startswith(login):
            redirect = HttpResponse(status=204)
            redirect["HX-Redirect"] = login_url_back_to(request)
            return redirect
        return response
