"""API: the audit trail (read and verify)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Query, Router, Schema

from . import audit
from .api import PageQuery, page, with_errors
from .models import AuditEvent
from .permissions import policy

router = Router(tags=["审计 audit"])


class AuditEventOut(Schema):
    seq: int
    occurred_at: dt.datetime
    actor_id: int | None
    actor_label: str
    action: str
    object_type: str
    object_id: str
    region_code: str
    summary: dict[str, Any]
    request_id: str
    channel: str
    hash: str


class AuditFilter(PageQuery):
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None


class VerifyOut(Schema):
    ok: bool
    checked: int
    broken_seq: int | None
    reason: str


@router.get("/events", response=with_errors(list[AuditEventOut]), summary="审计事件（本人数据范围内）")
def list_events(request, filters: Query[AuditFilter]):
    qs = policy.filter(request.auth, "audit.view", AuditEvent.objects.order_by("-seq"))
    for field in ("action", "object_type", "object_id"):
        value = getattr(filters, field)
        if value:
            qs = qs.filter(**{field: value[:64]})
    return page(qs, limit=filters.limit, offset=filters.offset)


@router.post("/verify", response=with_errors(VerifyOut), summary="校验审计链")
def verify(request):
    policy.require(request.auth, "audit.verify")
    result = audit.verify()
    return {"ok": result.ok, "checked": result.checked, "broken_seq": result.broken_seq, "reason": result.reason}
