"""Per-request context (request id, client IP) carried in context variables.

Set by :class:`yiwang.core.middleware.RequestContextMiddleware`; read by the audit trail so that the
action layer does not need the request object. CLI commands get a generated request id.
"""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip: str | None = None
    channel: str = "web"


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("yiwang_request", default=None)


def current() -> RequestContext:
    ctx = _current.get()
    if ctx is None:
        ctx = RequestContext(request_id=new_request_id(), channel="cli")
        _current.set(ctx)
    return ctx


def new_request_id() -> str:
    return uuid.uuid4().hex


def activate(ctx: RequestContext) -> contextvars.Token:
    return _current.set(ctx)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)
