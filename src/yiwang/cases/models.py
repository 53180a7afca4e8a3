"""办件 — cases, their events, materials, documents and deadlines; case numbers, uploads, idempotency keys."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .states import STATE_LABELS, State


class CaseNumberCounter(models.Model):
    """办件编号计数器 — the last serial handed out for one region and day (see :mod:`.numbering`)."""

    region_code = models.CharField("区划代码", max_length=12)
    day = models.DateField("日期")
    last = models.PositiveIntegerField("当日已用序号", default=0)

    class Meta:
        verbose_name = "办件编号计数器"
        verbose_name_plural = "办件编号计数器"
        constraints = [models.UniqueConstraint(fields=["region_code", "day"], name="case_counter_region_day")]

    def __str__(self) -> str:
        return f"{self.region_code} {self.day} #{self.last}"


class StoredFile(models.Model):
    """上传材料文件 — a file stored privately under a random name; served only through a checked view.

    ``kind`` and ``content_type`` come from the file's first bytes, never from its name or the browser.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="+"
    )
    original_name = models.CharField("文件名", max_length=200)
    kind = models.CharField("类型", max_length=10)
    content_type = models.CharField("内容类型", max_length=100)
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    storage_name = models.CharField("存储路径", max_length=200, unique=True)
    created_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = "上传文件"
        verbose_name_plural = "上传文件"

    def __str__(self) -> str:
        return self.original_name


class IdempotencyRecord(models.Model):
    """幂等键 — a client's ``Idempotency-Key`` and what the first request with it produced.

    Keys are per user: another user's key never matches. A key reused with a different request is an error.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField("幂等键", max_length=100)
    scope = models.CharField("操作", max_length=64)
    fingerprint = models.CharField("请求摘要", max_length=64)
    result_type = models.CharField("结果类型", max_length=64, blank=True)
    result_id = models.CharField("结果ID", max_length=64, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "幂等键"
        verbose_name_plural = "幂等键"
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


STATE_CHOICES = [(s.value, STATE_LABELS[s]) for s in State]


class Case(models.Model):
    """办件 — one application for one service item, filed under the exact version in force at the time.

    Deadlines are stored (recomputed by the engine in :mod:`.deadlines` after every pause, extension and
    calendar change) so queues are plain indexed date comparisons.
    """

    class Channel(models.TextChoices):
        ONLINE = "online", "网上申报"
        WINDOW = "window", "窗口收件"

    class ApplicantKind(models.TextChoices):
        PERSON = "person", "自然人"
        ENTERPRISE = "enterprise", "法人"

    class Decision(models.TextChoices):
        NONE = "", "—"
        APPROVED = "approved", "准予许可"
        REJECTED = "rejected", "不予许可"

    class Delivery(models.TextChoices):
        WINDOW = "window", "窗口领取"
        POST = "post", "邮寄送达"
        ONLINE = "online", "电子送达"

    # unique through Meta.constraints: the same check without PostgreSQL's extra ``LIKE`` index on the column
    number = models.CharField("办件编号", max_length=50, null=True, blank=True)
    item = models.ForeignKey("catalog.ServiceItem", verbose_name="事项", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(
        "catalog.ServiceItemVersion", verbose_name="事项版本", on_delete=models.PROTECT, related_name="+"
    )
    item_name = models.CharField("事项名称", max_length=300)
    department = models.ForeignKey(
        "directory.Department", verbose_name="实施主体", on_delete=models.PROTECT, related_name="+"
    )
    region_code = models.CharField("实施区划", max_length=12)
    intake_region_code = models.CharField("收件区划", max_length=12, blank=True)
    state = models.CharField("状态", max_length=20, choices=STATE_CHOICES, default=State.DRAFT)
    channel = models.CharField("申请渠道", max_length=10, choices=Channel.choices, default=Channel.ONLINE)

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="申请人",
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,  # case_applicant_idx (applicant, -created_at) serves every lookup by applicant
    )
    applicant_kind = models.CharField("申请人类型", max_length=12, choices=ApplicantKind.choices)
    applicant_name = models.CharField("申请人名称", max_length=200)
    applicant_id_masked = models.CharField("证件号码", max_length=30, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="经办人", on_delete=models.PROTECT, related_name="+"
    )
    authorization = models.ForeignKey(
        "accounts.Authorization",
        verbose_name="授权委托",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # partial index in Meta (most cases have none)
    )
    contact_name = models.CharField("联系人", max_length=100, blank=True)
    contact_phone = models.CharField("联系电话", max_length=20, blank=True)
    form_data = models.JSONField("申请表", default=dict, blank=True)
    window = models.ForeignKey(
        "directory.Window",
        verbose_name="收件窗口",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # partial index in Meta (online cases have none)
    )
    current_step = models.PositiveSmallIntegerField("当前环节", default=0)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="当前承办人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # partial index in Meta (unassigned cases have none)
    )
    supplement_round = models.PositiveSmallIntegerField("补正次数", default=0)
    return_note = models.CharField("退回/不予受理理由", max_length=2000, blank=True)

    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)
    submitted_at = models.DateTimeField("申请时间", null=True, blank=True)
    received_at = models.DateTimeField("收件时间", null=True, blank=True)
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    decided_at = models.DateTimeField("决定时间", null=True, blank=True)
    completed_at = models.DateTimeField("办结时间", null=True, blank=True)
    closed_at = models.DateTimeField("终止时间", null=True, blank=True)

    decision = models.CharField("审批结果", max_length=10, choices=Decision.choices, default="", blank=True)
    decision_reason = models.CharField("决定理由", max_length=2000, blank=True)
    delivery = models.CharField("送达方式", max_length=10, choices=Delivery.choices, blank=True)

    # Deadlines (办理时限), recomputed by services.recompute_deadlines / the calendar-change task.
    promised_limit = models.PositiveIntegerField("承诺时限", null=True, blank=True)
    promised_unit = models.CharField("承诺时限单位", max_length=10, blank=True)
    legal_limit = models.PositiveIntegerField("法定时限", null=True, blank=True)
    legal_unit = models.CharField("法定时限单位", max_length=10, blank=True)
    accepted_on = models.DateField("起算日（受理日）", null=True, blank=True)
    extension_days = models.PositiveIntegerField("已批准延期", default=0)
    promised_due = models.DateField("承诺办结日", null=True, blank=True)
    legal_due = models.DateField("法定办结日", null=True, blank=True)
    yellow_on = models.DateField("黄灯预警日", null=True, blank=True)
    deadlines_provisional = models.BooleanField("时限待定（节假日未公布）", default=False)
    warning_level = models.PositiveSmallIntegerField("预警级别", default=0)
    deemed_acceptance_on = models.DateField("视为受理日", null=True, blank=True)
    deemed_accepted = models.BooleanField("已视为受理", default=False)
    delivery_due = models.DateField("出件期限", null=True, blank=True)

    class Meta:
        verbose_name = "办件"
        verbose_name_plural = "办件"
        constraints = [models.UniqueConstraint(fields=["number"], name="case_number_unique")]
        indexes = [
            models.Index(fields=["applicant", "-created_at"], name="case_applicant_idx"),
            models.Index(fields=["state", "region_code"], name="case_state_region_idx"),
            models.Index(fields=["state", "department", "region_code"], name="case_state_dept_idx"),
            # 即将超期 / 已超期 (and 在办) queues: only cases under the clock, in exactly the queue's order
            # (promised_due, id), so a page is the first 50 matching index entries: no sort, whatever the scope.
            # The region range and the yellow-light day are key columns after the unique id: they do not change
            # the order but are checked inside the index, so rows out of scope are never read from the heap.
            models.Index(
                fields=["promised_due", "id", "region_code", "yellow_on"],
                name="case_queue_due_idx",
                condition=Q(state="in_process"),
            ),
            # Optional foreign keys, indexed only where set: every insert and every bulk deadline rewrite of a
            # row without them skips these indexes (lookups by value still use them).
            models.Index(fields=["handler"], name="case_handler_idx", condition=Q(handler__isnull=False)),
            models.Index(fields=["window"], name="case_window_idx", condition=Q(window__isnull=False)),
            models.Index(
                fields=["authorization"], name="case_authorization_idx", condition=Q(authorization__isnull=False)
            ),
            # recompute after a calendar change: open cases under deadlines
            models.Index(
                fields=["accepted_on"],
                name="case_open_deadline_idx",
                condition=Q(state__in=["in_process", "review_supplement", "special"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number or '草稿'} {self.item_name}"

    @property
    def state_label(self) -> str:
        return STATE_LABELS[State(self.state)]

    @property
    def is_open(self) -> bool:
        from .states import OPEN

        return State(self.state) in OPEN


class CaseEvent(models.Model):
    """办件过程记录 — one append-only line of the case timeline (never updated or deleted)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField("时间", default=timezone.now)
    action = models.CharField("动作", max_length=32)
    from_state = models.CharField("原状态", max_length=20, blank=True)
    to_state = models.CharField("新状态", max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField("操作人", max_length=150, blank=True)
    note = models.CharField("说明", max_length=2000, blank=True)
    data = models.JSONField("详情", default=dict, blank=True)
    public = models.BooleanField("申请人可见", default=True)

    class Meta:
        verbose_name = "办件过程"
        verbose_name_plural = "办件过程"
        ordering = ["case_id", "at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="caseevent_case_at_idx")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class CaseMaterial(models.Model):
    """材料清单 — one line of the case's material checklist (from the version's materials)."""

    class Status(models.TextChoices):
        MISSING = "missing", "未提交"
        PROVIDED = "provided", "已提交"
        REQUESTED = "requested", "需补正"
        DEFERRED = "deferred", "容缺后补"
        NOT_NEEDED = "not_needed", "无需提交"
        COMMITTED = "committed", "告知承诺"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="materials")
    index = models.PositiveSmallIntegerField("序号")
    name = models.CharField("材料名称", max_length=300)
    necessity = models.CharField("必要性", max_length=12)
    format = models.CharField("形式", max_length=12, blank=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.MISSING)
    paper_received = models.BooleanField("已收纸质件", default=False)
    note = models.CharField("补正要求/说明", max_length=1000, blank=True)

    class Meta:
        verbose_name = "办件材料"
        verbose_name_plural = "办件材料"
        ordering = ["case_id", "index"]
        constraints = [models.UniqueConstraint(fields=["case", "index"], name="casematerial_unique_index")]

    def __str__(self) -> str:
        return self.name


class CaseFile(models.Model):
    """材料附件 — a stored file attached to one material of a case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="files")
    material = models.ForeignKey(CaseMaterial, on_delete=models.CASCADE, related_name="files")
    file = models.OneToOneField(StoredFile, on_delete=models.PROTECT, related_name="attachment")
    attached_at = models.DateTimeField(default=timezone.now)
    attached_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "材料附件"
        verbose_name_plural = "材料附件"
        ordering = ["case_id", "material_id", "attached_at"]

    def __str__(self) -> str:
        return self.file.original_name


class CaseStep(models.Model):
    """办理环节 — who handled which step (受理/审查/决定/…), with the opinion and the time."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    index = models.PositiveSmallIntegerField("环节序号")
    kind = models.CharField("环节类型", max_length=12)
    name = models.CharField("环节名称", max_length=100)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handler_label = models.CharField("办理人", max_length=150, blank=True)
    opinion = models.CharField("办理意见", max_length=2000, blank=True)
    started_at = models.DateTimeField("开始时间")
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "办理环节"
        verbose_name_plural = "办理环节"
        ordering = ["case_id", "index", "started_at"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.name}"


class CasePause(models.Model):
    """停止计时 — 补正 or 特别程序: the decision clock stops from ``start`` until ``end`` (exclusive)."""

    class Kind(models.TextChoices):
        SUPPLEMENT = "supplement", "补正"
        SPECIAL = "special", "特别程序"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="pauses")
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    special_type = models.CharField("特别程序种类", max_length=20, blank=True)
    reason = models.CharField("理由或依据", max_length=2000, blank=True)
    time_limit_days = models.PositiveIntegerField("特别程序时限（工作日）", null=True, blank=True)
    start = models.DateField("开始日")
    end = models.DateField("结束日（不含）", null=True, blank=True)
    started_at = models.DateTimeField("开始时间", default=timezone.now)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    result = models.CharField("结果", max_length=2000, blank=True)

    class Meta:
        verbose_name = "停止计时"
        verbose_name_plural = "停止计时"
        ordering = ["case_id", "start", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_kind_display()} {self.start}"


class CaseExtension(models.Model):
    """延期 — an extension requested by the handler and approved (or not) by the department head."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "不批准"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveIntegerField("延期天数")
    reason = models.CharField("延期理由", max_length=2000)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField("审批意见", max_length=2000, blank=True)

    class Meta:
        verbose_name = "延期申请"
        verbose_name_plural = "延期申请"
        ordering = ["case_id", "requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(status="pending"), name="caseextension_one_pending")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} +{self.days}"


class CaseDocument(models.Model):
    """办件文书 — a notice or receipt issued for the case, stored with it (content and PDF)."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "收件凭证"
        ACCEPT = "accept", "受理通知书"
        NOT_ACCEPT = "not_accept", "不予受理通知书"
        SUPPLEMENT = "supplement", "补正告知书"
        SPECIAL = "special", "特别程序告知书"
        EXTENSION = "extension", "延长办理期限通知书"
        APPROVE = "approve", "准予许可决定书"
        REJECT = "reject", "不予许可决定书"
        COMPLETION = "completion", "办结通知书"
        SUPERVISION = "supervision", "督办通知"
        GAP_PLEDGE = "gap_pledge", "容缺受理信用承诺书"
        PLEDGE = "pledge", "告知承诺书"
        PICKUP = "pickup", "领取通知书"
        DELIVERY_RECEIPT = "dlv_receipt", "送达回执"
        REVOCATION_NOTICE = "revoke_ntc", "撤销告知书"
        REVOCATION = "revocation", "撤销决定书"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    number = models.CharField("文书编号", max_length=60, unique=True)
    title = models.CharField("标题", max_length=100)
    content = models.JSONField("内容")
    pdf_name = models.CharField("PDF 存储路径", max_length=200, blank=True)
    pdf_sha256 = models.CharField("PDF SHA-256", max_length=64, blank=True)
    issued_at = models.DateTimeField("出具时间", default=timezone.now)
    public = models.BooleanField("申请人可见", default=True)

    class Meta:
        verbose_name = "办件文书"
        verbose_name_plural = "办件文书"
        ordering = ["case_id", "issued_at", "id"]

    def __str__(self) -> str:
        return f"{self.title} {self.number}"


class Supervision(models.Model):
    """督办 — a supervisor's notice to the handling department, requiring feedback by a date."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supervisions")
    supervisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    target = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="督办对象",
    )
    note = models.CharField("督办意见", max_length=2000)
    feedback_due = models.DateField("反馈期限")
    created_at = models.DateTimeField(default=timezone.now)
    feedback = models.CharField("反馈", max_length=2000, blank=True)
    feedback_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    feedback_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "督办"
        verbose_name_plural = "督办"
        ordering = ["case_id", "created_at"]

    def __str__(self) -> str:
        return f"{self.case_id} 督办 {self.created_at:%Y-%m-%d}"


class Message(models.Model):
    """站内消息 — a short message to a user about a case (also sent by SMS when a phone is known)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="case_messages")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="messages")
    title = models.CharField("标题", max_length=200)
    body = models.CharField("内容", max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "站内消息"
        verbose_name_plural = "站内消息"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="message_user_idx")]

    def __str__(self) -> str:
        return self.title


# Follow-up models (一件事, 容缺/告知承诺, 出件送达, 督办升级) live in their own modules of this app.
from .bundle_models import BundleCase, BundleChild, BundleEvent, BundleFile  # noqa: E402, F401
from .followup_models import (  # noqa: E402, F401
    Commitment,
    CreditRecord,
    Delivery,
    Revocation,
    SupervisionEscalation,
    Verification,
)
