"""The API framework every app's router plugs into: authentication, problem+json errors,
keyset (cursor) pagination and optimistic-locking helpers."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer
from pydantic import Field

from guanxi.platform.errors import GuanxiError, ValidationFailed
from guanxi.platform.problems import problem_response
from guanxi.platform.versioning import etag

T = TypeVar("T")

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


# --- authentication ---------------------------------------------------------------------------
class TokenAuth(HttpBearer):
    """``Authorization: Bearer gx_…``; the middleware has already checked the token."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        if getattr(request, "auth_method", None) == "token":
            return request.membership
        return None


class SessionAuth(APIKeyCookie):
    """The web UI's session cookie, with Django's CSRF check on unsafe methods."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        # Without a signed-in session there is nothing to protect from CSRF: answer 401.
        if getattr(request, "auth_method", None) != "session":
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if getattr(request, "auth_method", None) == "session" and request.membership is not None:
            return request.membership
        return None


# --- errors -----------------------------------------------------------------------------------
def _field_path(loc: list[Any]) -> str:
    """``["body", "payload", "name"]`` -> ``name``; ``["query", "limit"]`` -> ``query.limit``."""
    if len(loc) > 2 and loc[0] == "body":
        loc = loc[2:]
    return ".".join(str(part) for part in loc)


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(GuanxiError)
    def guanxi_error(request: HttpRequest, exc: GuanxiError) -> HttpResponse:
        return problem_response(
            status=exc.status, code=exc.code, title=exc.title, detail=exc.detail, **exc.extra()
        )

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [
            {"field": _field_path(list(err.get("loc", []))), "message": err.get("msg", "")}
            for err in exc.errors
        ]
        return problem_response(
            status=422,
            code=ValidationFailed.code,
            title=ValidationFailed.title,
            detail="; ".join(f"{e['field']}: {e['message']}" for e in errors),
            errors=errors,
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        invalid = getattr(request, "auth_method", None) == "invalid_token"
        response = problem_response(
            status=401,
            code="invalid_token" if invalid else "not_authenticated",
            title="Not authenticated",
            detail=(
                "The bearer token is unknown, revoked or expired."
                if invalid
                else "Send Authorization: Bearer <token>, or sign in."
            ),
        )
        response["WWW-Authenticate"] = 'Bearer realm="guanxi"'
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        codes = {400: "malformed_request", 403: "forbidden", 405: "method_not_allowed"}
        if exc.status_code == 403 and "CSRF" in str(exc):
            return problem_response(
                status=403,
                code="csrf_failed",
                title="CSRF check failed",
                detail="Session-authenticated writes need the X-CSRFToken header.",
            )
        return problem_response(
            status=exc.status_code,
            code=codes.get(exc.status_code, "http_error"),
            title=str(exc),
            detail=str(exc),
        )

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem_response(status=404, code="not_found", title="Not found")

    @api.exception_handler(ObjectDoesNotExist)
    def does_not_exist(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem_response(status=404, code="not_found", title="Not found")

    @api.exception_handler(PermissionDenied)
    def permission_denied(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem_response(status=403, code="forbidden", title="Forbidden", detail=str(exc))


class ProblemError(Schema):
    field: str
    message: str


class Problem(Schema):
    """RFC 9457 problem details, with a stable ``code`` for programs to branch on."""

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    errors: list[ProblemError] | None = None
    current_version: int | None = None


# --- pagination -------------------------------------------------------------------------------
class CursorPage(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        None, description="Pass as ?cursor= to get the next page; null on the last page."
    )


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "dt" in value:
        return datetime.fromisoformat(value["dt"])
    if isinstance(value, dict) and "dec" in value:
        return Decimal(value["dec"])
    return value


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, width: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != width:
        raise ValidationFailed([("query.cursor", "not a cursor this list gave out")])
    return [_decode_value(v) for v in values]


def keyset_page(
    queryset: QuerySet, *, ordering: tuple[str, ...], cursor: str | None, limit: int | None
) -> tuple[list[Any], str | None]:
    """One page of ``queryset`` after ``cursor`` in ``ordering`` (which must end in a unique
    field, e.g. ``("-created_at", "-id")``). Costs one query whatever the page number."""
    size = DEFAULT_PAGE_SIZE if limit is None else limit
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationFailed([("query.limit", f"must be between 1 and {MAX_PAGE_SIZE}")])
    fields = [name.lstrip("-") for name in ordering]
    queryset = queryset.order_by(*ordering)
    if cursor:
        after = decode_cursor(cursor, width=len(fields))
        # (a, b, c) > (x, y, z) spelled out as a disjunction, per-field direction aware.
        condition = Q()
        for position, name in enumerate(ordering):
            field = fields[position]
            op = "lt" if name.startswith("-") else "gt"
            step = Q(**{f"{field}__{op}": after[position]})
            for earlier in range(position):
                step &= Q(**{fields[earlier]: after[earlier]})
            condition |= step
        # The leading field's bound, said again on its own: the index scan then starts at
        # the cursor instead of walking every earlier row and filtering it out.
        first = ordering[0]
        bound = {f"{fields[0]}__{'lte' if first.startswith('-') else 'gte'}": after[0]}
        queryset = queryset.filter(Q(**bound), condition)
    rows = list(queryset[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = encode_cursor([_attr(last, f) for f in fields])
    return rows, next_cursor


def _attr(obj: Any, path: str) -> Any:
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj


# --- optimistic locking -----------------------------------------------------------------------
def with_etag(response: HttpResponse, obj: Any) -> HttpResponse:
    response["ETag"] = etag(obj)
    return response


def create_api(**kwargs: Any) -> NinjaAPI:
    api = NinjaAPI(auth=[TokenAuth(), SessionAuth()], **kwargs)
    install_error_handlers(api)
    return api
