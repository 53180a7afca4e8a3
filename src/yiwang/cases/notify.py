"""Telling people about their cases: an in-app message (站内消息) now, an SMS after commit.

The message row is written in the action's transaction (so it exists exactly when the change does); the
SMS goes through the foundation's SMS seam (``accounts.sms``) only once the transaction has committed.
"""

from __future__ import annotations

from typing import Any

from yiwang.accounts import sms
from yiwang.core.actions import on_commit

from .models import Case, Message


def to_user(user: Any, *, case: Case | None, title: str, body: str = "", phone: str = "") -> Message | None:
    if user is None or getattr(user, "pk", None) is None:
        return None
    message = Message.objects.create(user=user, case=case, title=title[:200], body=body[:2000])
    number = phone or getattr(user, "phone", "") or ""
    if number:
        text = f"【一网】{title}" + (f"：{body}" if body else "")
        on_commit(lambda: sms.send_sms(number, text[:300]))
    return message


def to_applicant(case: Case, *, title: str, body: str = "") -> Message | None:
    """The applicant (and the agent or contact who filed it, when different)."""
    subject = f"{title}（{case.item_name}，{case.number or '草稿'}）"
    message = to_user(case.applicant, case=case, title=subject, body=body, phone=case.contact_phone)
    # the agent (经办人/代理人/帮办代办员, under an authorisation) hears everything the applicant hears
    if case.filed_by_id != case.applicant_id and (
        case.authorization_id or not getattr(case.filed_by, "is_staff_member", False)
    ):
        to_user(case.filed_by, case=case, title=subject, body=body)
    return message
