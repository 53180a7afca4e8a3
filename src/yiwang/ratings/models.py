"""好差评 models: window service contacts, invitations, ratings, rectifications, ledger and rollups.

The rules live in :mod:`.scale` (ratings), :mod:`.transitions` (rectification) and :mod:`.deadlines`;
these models only store what happened. Rollup tables (:class:`RatingRollup`, :class:`ServiceRollup`,
:class:`ReasonRollup`) are maintained by the services as ratings arrive, so reports never scan ratings.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from yiwang.core import crypto
from yiwang.directory.models import Department, ServiceHall, Window

from . import scale, targets
from .transitions import Classification, Event, State

LEVEL_CHOICES = [(int(level), level.label) for level in scale.LEVELS_DESC]
CHANNEL_CHOICES = [(c.value, c.label) for c in scale.Channel]
MODE_CHOICES = [(scale.Mode.ONLINE.value, "网上服务"), (scale.Mode.ONSITE.value, "现场服务")]
KIND_CHOICES = [(scale.Kind.FIRST.value, "首次评价"), (scale.Kind.FOLLOW_UP.value, "追评")]


class ServiceContact(models.Model):
    """窗口服务记录 — one service at a window (现场服务"一次一评"): who served whom, when, for what."""

    window = models.ForeignKey(Window, verbose_name="窗口", on_delete=models.PROTECT, related_name="+")
    hall = models.ForeignKey(ServiceHall, verbose_name="服务大厅", on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        Department, verbose_name="服务部门", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="窗口人员", on_delete=models.PROTECT, related_name="+", null=True
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="服务对象",
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )
    phone_encrypted = models.CharField("联系电话（加密）", max_length=200, blank=True)
    phone_masked = models.CharField("联系电话", max_length=20, blank=True)
    item_code = models.CharField("事项编码", max_length=64, blank=True)
    item_name = models.CharField("事项名称", max_length=200, blank=True)
    ticket_no = models.CharField("排队号", max_length=30, blank=True)
    region_code = models.CharField("区划代码", max_length=12, db_index=True)
    started_at = models.DateTimeField("开始时间", default=timezone.now)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        verbose_name = "窗口服务记录"
        verbose_name_plural = "窗口服务记录"
        indexes = [models.Index(fields=["window", "-started_at"], name="contact_window_started_idx")]

    def __str__(self) -> str:
        return f"{self.window_id}号窗口服务 #{self.pk}"

    @property
    def is_ended(self) -> bool:
        return self.ended_at is not None


class EvaluatorDevice(models.Model):
    """窗口评价器 — a tablet at one window showing five faces after each service; only its key's SHA-256
    is stored."""

    window = models.ForeignKey(Window, verbose_name="窗口", on_delete=models.CASCADE, related_name="+")
    name = models.CharField("名称", max_length=100)
    key_prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    last_seen_at = models.DateTimeField("最近在线", null=True, blank=True)
    revoked_at = models.DateTimeField("停用时间", null=True, blank=True)

    class Meta:
        verbose_name = "窗口评价器"
        verbose_name_plural = "窗口评价器"

    def __str__(self) -> str:
        return self.name


class RatingInvitation(models.Model):
    """评价邀请 — a signed single-use link (and QR code) to rate one target, sent after the service."""

    target_kind = models.CharField("评价对象类型", max_length=16)
    target_id = models.CharField("评价对象", max_length=40)
    purpose = models.CharField("用途", max_length=12, choices=KIND_CHOICES, default=scale.Kind.FIRST.value)
    nonce = models.CharField(max_length=32)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="受邀人",
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        db_index=False,  # a partial index below: most invitations (and every 追评 of an anonymous rating) have none
    )
    phone_masked = models.CharField("短信号码", max_length=20, blank=True)
    # A snapshot of the target when the service happened: the rating is attributed from it (and the
    # rateable-services rollup rebuilt from it) without reading the case, contact or work order again.
    target_label = models.CharField("评价对象名称", max_length=300, blank=True)
    mode = models.CharField("服务方式", max_length=8, choices=MODE_CHOICES, default=scale.Mode.ONSITE.value)
    service_state = models.CharField("服务状态", max_length=20, blank=True)
    item_name = models.CharField("事项名称", max_length=200, blank=True)
    phone_encrypted = models.CharField("短信号码（加密）", max_length=200, blank=True)
    region_code = models.CharField("区划代码", max_length=12)
    department_id = models.BigIntegerField("部门", null=True)
    hall_id = models.BigIntegerField("大厅", null=True)
    window_id = models.BigIntegerField("窗口", null=True)
    staff_id = models.BigIntegerField("工作人员", null=True)
    item_code = models.CharField("事项编码", max_length=64, blank=True)
    served_at = models.DateTimeField("服务时间")
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    expires_at = models.DateTimeField("失效时间")
    used_at = models.DateTimeField("使用时间", null=True, blank=True)

    class Meta:
        verbose_name = "评价邀请"
        verbose_name_plural = "评价邀请"
        constraints = [
            models.UniqueConstraint(fields=["target_kind", "target_id", "purpose"], name="invitation_one_per_target")
        ]
        # used_at is not indexed, so claiming an invitation is a HOT update (fillfactor 80, decision 0008)
        indexes = [
            models.Index(fields=["purpose", "served_at"], name="invitation_served_idx"),
            # only invitations sent to a person are listed per person (decision 0024)
            models.Index(fields=["person"], condition=models.Q(person__isnull=False), name="invitation_person_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.target_kind}:{self.target_id} {self.get_purpose_display()}"

    def snapshot(self) -> targets.Target:
        """The target as it was when the service happened."""
        return targets.Target(
            kind=self.target_kind,
            id=self.target_id,
            label=self.target_label,
            mode=scale.Mode(self.mode),
            served_at=self.served_at,
            state=self.service_state,
            region_code=self.region_code,
            department_id=self.department_id,
            hall_id=self.hall_id,
            window_id=self.window_id,
            staff_id=self.staff_id,
            item_code=self.item_code,
            item_name=self.item_name,
            person_id=self.person_id,
            phone=crypto.decrypt(self.phone_encrypted) if self.phone_encrypted else "",
        )


class Rating(models.Model):
    """评价 (好差评) — one rating of one target; at most one first rating and one 追评 per target.

    Attribution (department, hall, window, staff, item, region) is copied from the target when the rating
    is given, so reports and rectifications do not depend on the target staying the same.
    """

    target_kind = models.CharField("评价对象类型", max_length=16)
    target_id = models.CharField("评价对象", max_length=40)
    target_label = models.CharField("评价对象名称", max_length=300, blank=True)
    kind = models.CharField("类型", max_length=12, choices=KIND_CHOICES, default=scale.Kind.FIRST.value)
    level = models.PositiveSmallIntegerField("评价等级", choices=LEVEL_CHOICES)
    channel = models.CharField("评价渠道", max_length=12, choices=CHANNEL_CHOICES)
    mode = models.CharField("服务方式", max_length=8, choices=MODE_CHOICES)
    indicators = models.JSONField("指标评价", default=dict, blank=True)
    reasons = models.JSONField("评价选项", default=list, blank=True)
    text = models.TextField("评价内容", blank=True)
    is_default = models.BooleanField("系统默认评价", default=False)
    anonymous = models.BooleanField("匿名评价", default=False)
    # Evaluator identity: shown only to the owner of a resulting rectification (every view audited).
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="评价人",
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        db_index=False,  # a partial index below: most ratings have no evaluator account
        db_constraint=False,  # enforced by Django, not by a trigger on every insert (decision 0018)
    )
    evaluator_name = models.CharField("评价人姓名", max_length=100, blank=True)
    evaluator_phone_encrypted = models.CharField("评价人电话（加密）", max_length=200, blank=True)
    phone_hash = models.CharField("电话散列码", max_length=64, blank=True)
    device_hash = models.CharField("设备散列码", max_length=64, blank=True)
    # Attribution.
    region_code = models.CharField("区划代码", max_length=12)
    # Attribution is read from the rollups, never by scanning ratings per hall, window or staff member:
    # no index of their own (each costs every one of ~100 million inserts a year; decision 0008). The
    # department is the first column of rating_dept_rated_idx. The references are Django's (PROTECT, SET_NULL)
    # without database constraints: a constraint costs every insert a trigger that locks the department's,
    # hall's, window's and staff member's rows (FOR KEY SHARE, shared by every concurrent rating), and the
    # values come from the invitation's snapshot, itself plain ids like the rollups' (decision 0018).
    department = models.ForeignKey(
        Department,
        verbose_name="责任部门",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        db_index=False,
        db_constraint=False,
    )
    hall = models.ForeignKey(
        ServiceHall,
        verbose_name="服务大厅",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        db_index=False,
        db_constraint=False,
    )
    window = models.ForeignKey(
        Window,
        verbose_name="窗口",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        db_index=False,
        db_constraint=False,
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="工作人员",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        db_index=False,
        db_constraint=False,
    )
    item_code = models.CharField("事项编码", max_length=64, blank=True)
    item_name = models.CharField("事项名称", max_length=200, blank=True)
    service_state = models.CharField("评价时办件状态", max_length=20, blank=True)
    served_at = models.DateTimeField("服务时间")
    rated_at = models.DateTimeField("评价时间", default=timezone.now)
    rated_on = models.DateField("评价日期")
    # Nothing reads ratings by invitation (an invitation is never deleted; if one were, SET_NULL would scan).
    invitation = models.ForeignKey(
        RatingInvitation,
        verbose_name="评价邀请",
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        db_index=False,
        db_constraint=False,
    )
    # 申诉成立: the rating stays, excluded from the figures, with the reason kept.
    excluded_at = models.DateTimeField("不计入时间", null=True, blank=True)
    excluded_reason = models.TextField("不计入原因", blank=True)

    class Meta:
        verbose_name = "评价"
        verbose_name_plural = "评价"
        constraints = [
            models.UniqueConstraint(fields=["target_kind", "target_id", "kind"], name="rating_one_per_target_kind"),
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=5), name="rating_level_1_5"),
        ]
        indexes = [
            models.Index(fields=["department", "-rated_at"], name="rating_dept_rated_idx"),
            models.Index(fields=["region_code", "-rated_at"], name="rating_region_rated_idx"),
            # only ratings with a phone are counted per phone: most have none (decision 0018)
            models.Index(
                fields=["phone_hash", "rated_at"], condition=~models.Q(phone_hash=""), name="rating_phone_idx"
            ),
            models.Index(fields=["device_hash", "rated_at"], name="rating_device_rated_idx"),
            models.Index(
                fields=["evaluator"], condition=models.Q(evaluator__isnull=False), name="rating_evaluator_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} · {self.target_label or self.target_id}"

    @property
    def is_bad(self) -> bool:
        return scale.Level(self.level).is_bad

    @property
    def is_excluded(self) -> bool:
        return self.excluded_at is not None

    @property
    def reason_labels(self) -> list[str]:
        return [scale.REASON_LABELS.get(code, code) for code in self.reasons or []]

    @property
    def indicator_rows(self) -> list[tuple[str, str]]:
        labels = scale.indicator_labels()
        return [(labels.get(k, k), scale.Level(v).label) for k, v in (self.indicators or {}).items()]

    @property
    def is_real_name(self) -> bool:
        return not self.anonymous and bool(self.evaluator_id or self.evaluator_name or self.evaluator_phone_encrypted)


STATE_CHOICES = [(s.value, s.label) for s in State]
CLASSIFICATION_CHOICES = [(c.value, c.label) for c in Classification]
EVENT_CHOICES = [(e.value, e.label) for e in Event] + [("create", "生成整改单")]


class Rectification(models.Model):
    """差评整改 — the work a 差评 creates for the department responsible (谁办理、谁负责)."""

    rating = models.OneToOneField(Rating, verbose_name="差评", on_delete=models.PROTECT, related_name="rectification")
    department = models.ForeignKey(
        Department, verbose_name="责任部门", on_delete=models.PROTECT, related_name="+", null=True
    )
    region_code = models.CharField("区划代码", max_length=12)
    state = models.CharField("状态", max_length=12, choices=STATE_CHOICES, default=State.PENDING.value)
    classification = models.CharField("定性", max_length=12, choices=CLASSIFICATION_CHOICES, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="承办人", on_delete=models.PROTECT, related_name="+", null=True
    )
    appeal_rejected = models.BooleanField("申诉已驳回", default=False)
    created_at = models.DateTimeField("生成时间", default=timezone.now)
    created_on = models.DateField("生成日期")
    verify_due = models.DateField("核实时限")
    feedback_due = models.DateField("整改反馈时限")
    revisit_due = models.DateField("回访时限", null=True, blank=True)
    appeal_due = models.DateField("申诉复核时限", null=True, blank=True)
    due_provisional = models.BooleanField("时限暂定", default=False)
    verified_at = models.DateTimeField("核实时间", null=True, blank=True)
    verify_reached = models.BooleanField("已联系评价人", null=True)
    verify_note = models.TextField("核实情况", blank=True)
    classified_at = models.DateTimeField("定性时间", null=True, blank=True)
    classification_note = models.TextField("定性说明", blank=True)
    appealed_at = models.DateTimeField("申诉时间", null=True, blank=True)
    appeal_reason = models.TextField("申诉理由", blank=True)
    appeal_decided_at = models.DateTimeField("复核时间", null=True, blank=True)
    appeal_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="复核人", on_delete=models.PROTECT, related_name="+", null=True
    )
    appeal_decision_note = models.TextField("复核意见", blank=True)
    feedback_at = models.DateTimeField("反馈时间", null=True, blank=True)
    feedback_text = models.TextField("整改情况", blank=True)
    public_summary = models.TextField("公开摘要", blank=True, help_text="在门户公开，不含个人信息。")
    revisit_at = models.DateTimeField("回访时间", null=True, blank=True)
    revisit_reached = models.BooleanField("回访联系上评价人", null=True)
    revisit_level = models.PositiveSmallIntegerField("整改满意度", choices=LEVEL_CHOICES, null=True, blank=True)
    revisit_note = models.TextField("回访情况", blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "差评整改"
        verbose_name_plural = "差评整改"
        indexes = [
            models.Index(fields=["department", "state"], name="rectif_dept_state_idx"),
            models.Index(fields=["region_code", "state"], name="rectif_region_state_idx"),
            models.Index(fields=["assignee", "state"], name="rectif_assignee_state_idx"),
            models.Index(fields=["state", "closed_at"], name="rectif_state_closed_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        """整改单号."""
        return f"ZG{self.created_on:%Y%m%d}{self.pk or 0:06d}"

    @property
    def state_label(self) -> str:
        return State(self.state).label

    @property
    def is_final(self) -> bool:
        return State(self.state).is_final


class RectificationEvent(models.Model):
    """整改过程 — one step of a rectification (append-only)."""

    rectification = models.ForeignKey(Rectification, on_delete=models.CASCADE, related_name="events")
    event = models.CharField("环节", max_length=24, choices=EVENT_CHOICES)
    from_state = models.CharField("原状态", max_length=12, blank=True)
    to_state = models.CharField("新状态", max_length=12)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    actor_label = models.CharField("办理人", max_length=150)
    note = models.TextField("意见", blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "整改过程"
        verbose_name_plural = "整改过程"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.rectification_id} {self.event}"


class LedgerEntry(models.Model):
    """整改台账 — the ledger entry of a 限期整改: the problem, the measures, who, and by when."""

    rectification = models.OneToOneField(Rectification, on_delete=models.CASCADE, related_name="ledger")
    problem = models.TextField("存在问题")
    measures = models.TextField("整改措施")
    responsible = models.CharField("责任人", max_length=100)
    deadline = models.DateField("整改期限")
    created_at = models.DateTimeField("建账时间", default=timezone.now)
    completed_at = models.DateTimeField("销账时间", null=True, blank=True)

    class Meta:
        verbose_name = "整改台账"
        verbose_name_plural = "整改台账"

    def __str__(self) -> str:
        return f"台账 {self.rectification_id}"


class RatedItem(models.Model):
    """事项名称 — the names of the items seen in ratings, so reports can label item codes without joining
    the catalog (kept up to date when invitations are created)."""

    code = models.CharField("事项编码", max_length=64, primary_key=True)
    name = models.CharField("事项名称", max_length=200)

    class Meta:
        verbose_name = "评价事项"
        verbose_name_plural = "评价事项"

    def __str__(self) -> str:
        return self.name


# --- rollups ---------------------------------------------------------------------------------------
# Dimension columns are plain values (0 / "" = none) so the unique keys work on every database and the
# upsert is one statement. ``grain``: "d"/"m" rows carry every dimension (period = the day / the first of
# the month); the summary grains keep fewer ("dd"/"md": region and department; "ms": down to the staff
# member; "mi": the item) and are what province-wide reports and rankings read
# (``rollups.SUMMARIES``, ``reports.grain_for``).
class Grain(models.TextChoices):
    DAY = "d", "日"
    MONTH = "m", "月"
    DAY_DEPARTMENT = "dd", "日（部门）"
    MONTH_DEPARTMENT = "md", "月（部门）"
    MONTH_STAFF = "ms", "月（大厅、窗口、人员）"
    MONTH_ITEM = "mi", "月（事项）"


ROLLUP_DIMENSIONS = ("region_code", "department_id", "hall_id", "window_id", "staff_id", "item_code")


class RatingRollup(models.Model):
    """评价汇总 — counts of first ratings per period × region × department × hall × window × staff × item ×
    channel × level; updated in the same transaction as each rating and rectification step, except the
    ratings of the one-statement path, which are queued and added by :func:`rollups.flush` (decision 0018)."""

    grain = models.CharField(max_length=2, choices=Grain.choices)
    period = models.DateField()
    region_code = models.CharField(max_length=12)
    department_id = models.BigIntegerField(default=0)
    hall_id = models.BigIntegerField(default=0)
    window_id = models.BigIntegerField(default=0)
    staff_id = models.BigIntegerField(default=0)
    item_code = models.CharField(max_length=64, default="")
    channel = models.CharField(max_length=12)
    level = models.PositiveSmallIntegerField()
    rated = models.IntegerField(default=0)  # counted ratings (excluded ones are not)
    active = models.IntegerField(default=0)  # given by a person (not the default job)
    defaulted = models.IntegerField(default=0)  # 默认评价
    invalidated = models.IntegerField(default=0)  # 申诉成立、不计入
    rectified = models.IntegerField(default=0)  # 差评整改办结
    revisited = models.IntegerField(default=0)  # 差评回访联系上

    class Meta:
        verbose_name = "评价汇总"
        verbose_name_plural = "评价汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "period", *ROLLUP_DIMENSIONS, "channel", "level"], name="rating_rollup_key"
            )
        ]
        indexes = [
            models.Index(fields=["grain", "period", "region_code"], name="rrollup_period_region_idx"),
            models.Index(fields=["department_id", "grain", "period"], name="rrollup_dept_idx"),
            models.Index(fields=["hall_id", "grain", "period"], name="rrollup_hall_idx"),
            models.Index(fields=["window_id", "grain", "period"], name="rrollup_window_idx"),
            models.Index(fields=["staff_id", "grain", "period"], name="rrollup_staff_idx"),
            models.Index(fields=["item_code", "grain", "period"], name="rrollup_item_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.grain}{self.period} {self.level}"


class ServiceRollup(models.Model):
    """可评价服务汇总 — services that could be rated (the denominator of 主动评价率)."""

    grain = models.CharField(max_length=2, choices=Grain.choices)
    period = models.DateField()
    region_code = models.CharField(max_length=12)
    department_id = models.BigIntegerField(default=0)
    hall_id = models.BigIntegerField(default=0)
    window_id = models.BigIntegerField(default=0)
    staff_id = models.BigIntegerField(default=0)
    item_code = models.CharField(max_length=64, default="")
    target_kind = models.CharField(max_length=16)
    served = models.IntegerField(default=0)

    class Meta:
        verbose_name = "可评价服务汇总"
        verbose_name_plural = "可评价服务汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "period", *ROLLUP_DIMENSIONS, "target_kind"], name="service_rollup_key"
            )
        ]
        indexes = [
            models.Index(fields=["grain", "period", "region_code"], name="srollup_period_region_idx"),
            models.Index(fields=["department_id", "grain", "period"], name="srollup_dept_idx"),
            models.Index(fields=["hall_id", "grain", "period"], name="srollup_hall_idx"),
            models.Index(fields=["window_id", "grain", "period"], name="srollup_window_idx"),
            models.Index(fields=["staff_id", "grain", "period"], name="srollup_staff_idx"),
            models.Index(fields=["item_code", "grain", "period"], name="srollup_item_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.grain}{self.period} {self.served}"


class ReasonRollup(models.Model):
    """评价原因汇总 — how often each reason was chosen (for 主要问题 / top reasons)."""

    grain = models.CharField(max_length=2, choices=Grain.choices)
    period = models.DateField()
    region_code = models.CharField(max_length=12)
    department_id = models.BigIntegerField(default=0)
    hall_id = models.BigIntegerField(default=0)
    window_id = models.BigIntegerField(default=0)
    staff_id = models.BigIntegerField(default=0)
    item_code = models.CharField(max_length=64, default="")
    level = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=32)
    n = models.IntegerField(default=0)

    class Meta:
        verbose_name = "评价原因汇总"
        verbose_name_plural = "评价原因汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "period", *ROLLUP_DIMENSIONS, "level", "reason"], name="reason_rollup_key"
            )
        ]
        indexes = [
            models.Index(fields=["grain", "period", "region_code"], name="qrollup_period_region_idx"),
            models.Index(fields=["department_id", "grain", "period"], name="qrollup_dept_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.grain}{self.period} {self.reason}"


class QueuedRating(models.Model):
    """The day and rollup dimensions of a rating queued by the one-statement path (decision 0018); the
    queues below add what their rollup counts by."""

    rated_on = models.DateField()
    region_code = models.CharField(max_length=12)
    department_id = models.BigIntegerField(default=0)
    hall_id = models.BigIntegerField(default=0)
    window_id = models.BigIntegerField(default=0)
    staff_id = models.BigIntegerField(default=0)
    item_code = models.CharField(max_length=64, default="")
    level = models.PositiveSmallIntegerField()

    class Meta:
        abstract = True


class PendingRatingRollup(QueuedRating):
    """待汇总评价 — a first rating written by the one-statement path (decision 0018) whose rollup rows are not
    yet counted. :func:`yiwang.ratings.rollups.flush` takes queued rows out (``DELETE … RETURNING``) and
    adds them to :class:`RatingRollup` in the same statement, so each is counted exactly once; readers of the
    rollups flush first. No foreign keys and no index but the primary key: the row is gone within a second."""

    channel = models.CharField(max_length=12)

    class Meta:
        verbose_name = "待汇总评价"
        verbose_name_plural = "待汇总评价"

    def __str__(self) -> str:
        return f"{self.rated_on} {self.level}"


class PendingReasonRollup(QueuedRating):
    """待汇总评价原因 — the reasons of a queued rating (only ratings with reasons have one), for
    :class:`ReasonRollup`; drained like :class:`PendingRatingRollup`."""

    reasons = models.JSONField(default=list)  # distinct reason codes

    class Meta:
        verbose_name = "待汇总评价原因"
        verbose_name_plural = "待汇总评价原因"

    def __str__(self) -> str:
        return f"{self.rated_on} {self.reasons}"
