"""API plumbing shared by every router: the error format, error responses and pagination."""

from __future__ import annotations

from typing import Any

from ninja import Schema

from .errors import DomainError


class ErrorOut(Schema):
    """Every 4xx/5xx body: a stable ``code``, a Chinese ``message`` and optional ``details``."""

    code: str
    message: str
    details: Any = None


ERROR_STATUSES = (400, 401, 403, 404, 409, 422, 429)


def with_errors(ok: dict[int, Any] | Any, *statuses: int) -> dict[int, Any]:
    """Response map: the success schema(s) plus ``ErrorOut`` for every error status the API may return."""
    responses = dict(ok) if isinstance(ok, dict) else {200: ok}
    for status in statuses or ERROR_STATUSES:
        responses.setdefault(status, ErrorOut)
    return responses


def error_body(exc: DomainError) -> dict[str, Any]:
    return exc.as_dict()


def page(queryset, *, limit: int, offset: int, max_limit: int = 200):
    limit = max(1, min(int(limit), max_limit))
    offset = max(0, int(offset))
    return queryset[offset : offset + limit]
