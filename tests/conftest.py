from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from guanxi.platform import services
from guanxi.platform.models import Membership
from tests.factories import make_member, make_team, make_workspace


class ApiClient:
    """A test client that calls /api/v1/ with a bearer token of one membership."""

    def __init__(self, membership: Membership | None = None, token: str | None = None) -> None:
        self.client = Client(HTTP_HOST="127.0.0.1")
        self.membership = membership
        if token is None and membership is not None:
            _, token = services.create_api_token(membership=membership, name="tests")
        self.token = token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        result = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        result.update(headers or {})
        return result

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any):
        return self.client.get("/api/v1" + path, params, headers=self._headers(headers))

    def _send(self, method: str, path: str, body: Any, headers: dict[str, str] | None):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return getattr(self.client, method)(
            "/api/v1" + path,
            data=data,
            content_type="application/json",
            headers=self._headers(headers),
        )

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None):
        return self._send("post", path, {} if body is None else body, headers)

    def patch(self, path: str, body: Any = None, headers: dict[str, str] | None = None):
        return self._send("patch", path, {} if body is None else body, headers)

    def delete(self, path: str, headers: dict[str, str] | None = None):
        return self.client.delete("/api/v1" + path, headers=self._headers(headers))


@pytest.fixture(autouse=True)
def _forget_form_memos():
    """A public form's settings are remembered by the process for two seconds; each test's
    database is new, so nothing is remembered from one test to the next."""
    yield
    from guanxi.sales import web_to_lead

    web_to_lead.forget_memos()


@pytest.fixture
def workspace(db):
    return make_workspace(slug="acme", name="ACME 贸易")


@pytest.fixture
def team(workspace):
    return make_team(workspace=workspace, name="华东销售部")


@pytest.fixture
def admin(workspace):
    return make_member(workspace=workspace, role_key="administrator", username="root")


@pytest.fixture
def rep(workspace, team):
    return make_member(workspace=workspace, role_key="sales_rep", team=team, username="li.na")


@pytest.fixture
def api():
    return ApiClient
