"""Demo 好差评: six months of window ratings at 天河区政务服务中心, rectified 差评 for the public page, open
rectifications for the workbench, and an evaluator tablet at window 8.

History is written directly and the rollups rebuilt once (``rollups.rebuild``); today's 差评 go through
the actions so their rectifications, deadlines and audit events are real. Idempotent.
"""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from yiwang.accounts.models import User
from yiwang.core.actors import SystemActor
from yiwang.directory.models import Window
from yiwang.ratings import rollups, scale, services, tokens
from yiwang.ratings.models import (
    EvaluatorDevice,
    RatedItem,
    Rating,
    RatingInvitation,
    Rectification,
    RectificationEvent,
    ServiceContact,
)
from yiwang.workdays.calendar import get_calendar

# The evaluator tablet of window 8 opens /rate/device/<this key>/ (documented in README; demo only).
DEMO_DEVICE_KEY = "ywd_demo-tianhe-window-8"
ITEMS = [
    ("11440106MB2C91002A4440117001", "食品经营许可（新办）"),
    ("11440106MB2C91002A4440117002", "个体工商户设立登记"),
    ("11440106MB2C91003A4440117003", "婚姻登记（结婚）"),
    ("11440106MB2C91005A4440117004", "灵活就业人员社保登记"),
    ("11440106MB2C91001A4440117005", "居住证签注"),
]
LEVEL_WEIGHTS = [(5, 70), (4, 18), (3, 7), (2, 3), (1, 2)]
SUMMARIES = [
    "已对窗口人员进行服务规范培训，并在窗口增设引导员。",
    "已优化取号分流，高峰时段增开综合窗口。",
    "已更新办事指南中的材料说明，做到一次性告知。",
    "已向申请人解释法定要求，并提供预约办理服务。",
]


def _level(rng: random.Random) -> int:
    return rng.choices([lv for lv, _ in LEVEL_WEIGHTS], weights=[w for _, w in LEVEL_WEIGHTS])[0]


def load() -> dict[str, object]:
    if EvaluatorDevice.objects.filter(key_hash=tokens.device_key_hash(DEMO_DEVICE_KEY)).exists():
        return {}
    windows = list(
        Window.objects.filter(hall__name="天河区政务服务中心", number__in=["1", "2", "8"]).select_related("hall")
    )
    clerk = User.objects.filter(username="clerk").first()
    head = User.objects.filter(username="head").first()
    reviewer = User.objects.filter(username="reviewer").first()
    if not windows or clerk is None:
        return {}
    for code, name in ITEMS:
        RatedItem.objects.update_or_create(code=code, defaults={"name": name})
    rng = random.Random(20260307)  # noqa: S311 - demo data, not security
    now = timezone.now()
    calendar = get_calendar("440106000000")
    window_depts = {w.pk: list(w.departments.values_list("pk", flat=True)) for w in windows}
    made = 0
    for days_ago in range(180, 0, -1):
        day = now - dt.timedelta(days=days_ago)
        if not calendar.is_workday(rollups.local_date(day)):
            continue
        for n in range(rng.randint(3, 8)):
            window = rng.choice(windows)
            department_id = rng.choice(window_depts[window.pk])
            code, name = rng.choice(ITEMS)
            started = day.replace(hour=1 + n % 7, minute=rng.randint(0, 50), second=0, microsecond=0)
            ended = started + dt.timedelta(minutes=rng.randint(5, 25))
            contact = ServiceContact.objects.create(
                window=window,
                hall=window.hall,
                department_id=department_id,
                staff=clerk,
                item_code=code,
                item_name=name,
                region_code=window.hall.region_id,
                started_at=started,
                ended_at=ended,
            )
            invitation = RatingInvitation.objects.create(
                target_kind="contact",
                target_id=str(contact.pk),
                nonce=tokens.new_nonce(),
                target_label=f"{window.hall.name} {window.number}号窗口 · {name}",
                mode="onsite",
                service_state="ended",
                item_name=name,
                region_code=contact.region_code,
                department_id=department_id,
                hall_id=window.hall_id,
                window_id=window.pk,
                staff_id=clerk.pk,
                item_code=code,
                served_at=ended,
                expires_at=ended + dt.timedelta(days=30),
                created_at=ended,
            )
            if rng.random() < 0.12:  # not rated: lowers 主动评价率 a little
                continue
            level = _level(rng)
            mode = scale.Mode.ONSITE
            reasons = [o.code for o in rng.sample(scale.reason_options(level, mode)[:-1], 1)] if level < 5 else []
            rated_at = ended + dt.timedelta(minutes=2)
            invitation.used_at = rated_at
            invitation.save(update_fields=["used_at"])
            rating = Rating.objects.create(
                target_kind="contact",
                target_id=str(contact.pk),
                target_label=f"{window.hall.name} {window.number}号窗口 · {name}",
                level=level,
                channel=rng.choice(["evaluator", "evaluator", "qr", "sms"]),
                mode=mode,
                reasons=reasons,
                region_code=contact.region_code,
                department_id=department_id,
                hall_id=window.hall_id,
                window_id=window.pk,
                staff_id=clerk.pk,
                item_code=code,
                item_name=name,
                service_state="ended",
                served_at=ended,
                rated_at=rated_at,
                rated_on=rollups.local_date(rated_at),
                invitation=invitation,
            )
            made += 1
            if level <= 2:
                _closed_rectification(rating, rng, head or clerk)
    rollups.rebuild()

    window8 = next((w for w in windows if w.number == "8"), windows[0])
    EvaluatorDevice.objects.create(
        window=window8,
        name="8号窗口评价器",
        key_prefix=DEMO_DEVICE_KEY[:12],
        key_hash=tokens.device_key_hash(DEMO_DEVICE_KEY),
    )
    # Today: two 差评 through the actions — one waiting for assignment, one assigned to the reviewer.
    system = SystemActor("demo")
    for i, reasons in enumerate((["b_wait"], ["b_notice"])):
        contact = services.contact_start(
            actor=system, window_id=window8.pk, item_code=ITEMS[i][0], item_name=ITEMS[i][1]
        )
        invitation = services.contact_end(actor=system, contact_id=contact.pk)
        rating = services.rating_submit(
            token=invitation.token,
            level=2,
            channel="qr",
            reasons=reasons,
            text="等了很久才轮到我" if i == 0 else "材料要求没有一次说清楚",
        )
        if i == 1 and head is not None and reviewer is not None:
            services.rectification_assign(actor=head, rectification_id=rating.rectification.pk, assignee_id=reviewer.pk)
    return {"ratings": made}


def _closed_rectification(rating: Rating, rng: random.Random, handler: User) -> None:
    created = rating.rated_at
    closed = created + dt.timedelta(days=rng.randint(1, 4))
    rect = Rectification.objects.create(
        rating=rating,
        department_id=rating.department_id,
        region_code=rating.region_code,
        state="closed",
        classification=rng.choice(["rectify_now", "rectify_now", "explain"]),
        assignee=handler,
        created_at=created,
        created_on=rating.rated_on,
        verify_due=rating.rated_on + dt.timedelta(days=1),
        feedback_due=rating.rated_on + dt.timedelta(days=7),
        verified_at=created + dt.timedelta(hours=3),
        verify_reached=True,
        verify_note="已电话联系评价人核实情况。",
        classified_at=created + dt.timedelta(hours=4),
        classification_note="情况属实。",
        feedback_at=closed - dt.timedelta(hours=2),
        feedback_text="已整改。",
        public_summary=rng.choice(SUMMARIES),
        revisit_at=closed,
        revisit_reached=True,
        revisit_level=rng.choice([3, 4, 4, 5]),
        closed_at=closed,
    )
    RectificationEvent.objects.create(
        rectification=rect,
        event="return_visit",
        from_state="feedback",
        to_state="closed",
        actor=handler,
        actor_label=handler.get_username(),
        note="回访满意，办结。",
        at=closed,
    )
