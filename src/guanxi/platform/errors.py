"""Domain errors. Each has a stable ``code`` and an HTTP status; the API renders them as
RFC 9457 problem details, the CLI as one line, the web UI as a message."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _


class GuanxiError(Exception):
    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail: str = "") -> None:
        self.detail = detail or self.title
        super().__init__(self.detail)

    def extra(self) -> dict:
        return {}


class NotFound(GuanxiError):
    status = 404
    code = "not_found"
    title = "Not found"

    def __init__(self, what: object = "record") -> None:
        super().__init__(_("%(what)s not found.") % {"what": str(what).capitalize()})


class Forbidden(GuanxiError):
    status = 403
    code = "forbidden"
    title = "Forbidden"

    def __init__(self, *, action: str, object_type: str) -> None:
        self.action, self.object_type = action, object_type
        super().__init__(
            _("Your role does not allow “%(action)s” on %(type)s.")
            % {"action": action, "type": object_type}
        )


class ValidationFailed(GuanxiError):
    """One or more fields are invalid; ``errors`` pairs a field path with a message."""

    status = 422
    code = "validation_failed"
    title = "Validation failed"

    def __init__(self, errors: Iterable[tuple[str, str]]) -> None:
        self.errors = [(field, str(message)) for field, message in errors]
        summary = "; ".join(f"{field}: {message}" for field, message in self.errors)
        super().__init__(summary)

    def extra(self) -> dict:
        return {"errors": [{"field": f, "message": m} for f, m in self.errors]}


class VersionConflict(GuanxiError):
    """Someone saved the record since the client read it (optimistic locking)."""

    status = 409
    code = "version_conflict"
    title = "Version conflict"

    def __init__(self, *, current_version: int, expected_version: int) -> None:
        self.current_version = current_version
        self.expected_version = expected_version
        super().__init__(
            _(
                "The record was changed by someone else (you had version %(expected)s, it is now "
                "%(current)s). Reload it and apply your change again."
            )
            % {"expected": expected_version, "current": current_version}
        )

    def extra(self) -> dict:
        return {"current_version": self.current_version}


class VersionRequired(GuanxiError):
    status = 428
    code = "version_required"
    title = "Precondition required"

    def __init__(self) -> None:
        super().__init__(
            _("Send the version you read, in an If-Match header or a “version” field.")
        )


class Conflict(GuanxiError):
    status = 409
    code = "conflict"
    title = "Conflict"
