"""API plumbing shared by every router: the error format, error responses and pagination."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Schema
from pydantic import Field

from .errors import DomainError


class ErrorOut(Schema):
    """Every 4xx/5xx body: a stable ``code``, a Chinese ``message`` and optional ``details``."""

    code: str
    message: str
    details: Any = None


ERROR_STATUSES = (400, 401, 403, 404, 409, 422, 429)
ALWAYS = (400, 422)  # a body that is not JSON (400) or does not fit the schema (422) is possible everywhere


def with_errors(ok: dict[int, Any] | Any, *statuses: int) -> dict[int, Any]:
    """Response map: the success schema(s) plus ``ErrorOut`` for the error statuses the operation may return.

    With no ``statuses`` every error status is documented; otherwise ``statuses`` plus 400 and 422.
    """
    responses = dict(ok) if isinstance(ok, dict) else {200: ok}
    for status in (statuses + ALWAYS) if statuses else ERROR_STATUSES:
        responses.setdefault(status, ErrorOut)
    return responses


def error_body(exc: DomainError) -> dict[str, Any]:
    return exc.as_dict()


MAX_OFFSET = 100_000

#: A database row id as it may arrive in a request: positive and within a 64-bit signed integer.
DbId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class PageQuery(Schema):
    """Offset pagination: ``limit`` 1–200, ``offset`` 0–100000 (use filters to narrow deeper)."""

    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


def page(queryset, *, limit: int, offset: int, max_limit: int = 200):
    limit = max(1, min(int(limit), max_limit))
    offset = max(0, min(int(offset), MAX_OFFSET))
    return queryset[offset : offset + limit]
