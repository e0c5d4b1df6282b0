"""The workspace (tenant) and membership a request or job acts in.

Set by the middleware for web requests, by token authentication for the API and explicitly
with ``acting_in(...)`` by CLI commands and jobs. Tenant-scoped managers read it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from guanxi.platform.models import Membership, Workspace

_workspace: ContextVar[Workspace | None] = ContextVar("guanxi_workspace", default=None)
_membership: ContextVar[Membership | None] = ContextVar("guanxi_membership", default=None)


class WorkspaceNotActive(RuntimeError):
    """A tenant-scoped query ran with no workspace active: use for_workspace() or acting_in()."""


def current_workspace() -> Workspace | None:
    return _workspace.get()


def current_membership() -> Membership | None:
    return _membership.get()


def require_workspace() -> Workspace:
    workspace = _workspace.get()
    if workspace is None:
        raise WorkspaceNotActive(
            "No workspace is active. Use Model.objects.for_workspace(ws), or run the code "
            "inside guanxi.platform.context.acting_in(...)."
        )
    return workspace


@contextmanager
def acting_in(workspace: Workspace, membership: Membership | None = None) -> Iterator[Workspace]:
    ws_token = _workspace.set(workspace)
    m_token = _membership.set(membership)
    try:
        yield workspace
    finally:
        _membership.reset(m_token)
        _workspace.reset(ws_token)


_client: ContextVar[tuple[str | None, str]] = ContextVar("guanxi_client", default=(None, ""))


def current_client() -> tuple[str | None, str]:
    """(IP address, user agent) of the request being served, for the audit log."""
    return _client.get()


@contextmanager
def serving_client(ip: str | None, user_agent: str) -> Iterator[None]:
    token = _client.set((ip, user_agent[:300]))
    try:
        yield
    finally:
        _client.reset(token)
