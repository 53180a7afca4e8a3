"""Follow-up records of a case: commitments (容缺/告知承诺), post-verification (核查), revocation (撤销),
credit records (信用记录), result delivery (出件/送达) and 督办 escalation.

Imported by :mod:`yiwang.cases.models`; the actions are in :mod:`.gaps`, :mod:`.delivery` and
:mod:`.supervision`, the pure rules in :mod:`.followup_rules`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .followup_rules import DELIVERY_LABELS, REVOCATION_LABELS, DeliveryStatus, RevocationState


class Commitment(models.Model):
    """信用承诺 — 容缺受理信用承诺书 (a non-essential material supplied later, by a due date) or
    告知承诺书 (the applicant's written commitment replaces a proof; verified afterwards).

    ``items`` lists the materials concerned: ``[{"index", "name", "state", "supplied_at", "checked_at",
    "note"}]`` with ``state`` ``deferred`` → ``supplied`` → ``accepted`` (or back to ``deferred`` when the
    check fails) for 容缺, and ``committed`` for 告知承诺.
    """

    class Kind(models.TextChoices):
        GAP = "gap", "容缺后补"
        PROOF = "proof", "告知承诺"

    class Status(models.TextChoices):
        PENDING = "pending", "履行中"
        FULFILLED = "fulfilled", "已履行"
        OVERDUE = "overdue", "逾期未履行"
        VERIFIED = "verified", "核查属实"
        FALSE = "false", "承诺不实"

    class Consequence(models.TextChoices):
        SUSPEND = "suspend", "中止办理（退回补正，停止计时）"
        REVOKE = "revoke", "终止办理（不予许可）"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="commitments")
    kind = models.CharField("类型", max_length=8, choices=Kind.choices)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    items = models.JSONField("涉及材料", default=list)
    text = models.TextField("承诺内容")
    signer_name = models.CharField("承诺人签名", max_length=100)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="签署账号",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_via = models.CharField("签署方式", max_length=10, default="online")  # online | window
    signed_at = models.DateTimeField("签署时间", default=timezone.now)
    due_date = models.DateField("补齐期限", null=True, blank=True)
    consequence = models.CharField(
        "逾期后果", max_length=8, choices=Consequence.choices, default=Consequence.SUSPEND, blank=True
    )
    warned_on = models.DateField("已提醒日", null=True, blank=True)
    overdue_at = models.DateTimeField("逾期时间", null=True, blank=True)
    consequence_applied_at = models.DateTimeField("后果执行时间", null=True, blank=True)
    fulfilled_at = models.DateTimeField("履行时间", null=True, blank=True)
    document = models.ForeignKey(
        "cases.CaseDocument", verbose_name="承诺书", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "信用承诺"
        verbose_name_plural = "信用承诺"
        ordering = ["case_id", "signed_at", "id"]
        indexes = [
            models.Index(fields=["due_date"], name="commitment_gap_due_idx", condition=Q(kind="gap", status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_kind_display()} {self.get_status_display()}"

    @property
    def material_names(self) -> list[str]:
        return [i.get("name", "") for i in self.items]


class Verification(models.Model):
    """核查 — the department's post-verification of a 告知承诺, with a deadline and an outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", "待核查"
        VERIFIED = "verified", "属实"
        FALSE = "false", "承诺不实"

    commitment = models.OneToOneField(Commitment, on_delete=models.CASCADE, related_name="verification")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="verifications")
    department = models.ForeignKey("directory.Department", on_delete=models.PROTECT, related_name="+")
    region_code = models.CharField("区划", max_length=12)
    due_date = models.DateField("核查期限")
    status = models.CharField("结果", max_length=10, choices=Status.choices, default=Status.PENDING)
    method = models.CharField("核查方式", max_length=200, blank=True)
    outcome_note = models.CharField("核查意见", max_length=2000, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField("核查时间", null=True, blank=True)
    warned_on = models.DateField("已提醒日", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "告知承诺核查"
        verbose_name_plural = "告知承诺核查"
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(
                fields=["due_date", "region_code"], name="verification_pending_idx", condition=Q(status="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} 核查 {self.get_status_display()}"


class Revocation(models.Model):
    """撤销程序 — revoking a permit granted on a commitment found false: notice, statement, decision."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="revocations")
    commitment = models.ForeignKey(Commitment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(
        "状态",
        max_length=10,
        choices=[(s.value, REVOCATION_LABELS[s]) for s in RevocationState],
        default=RevocationState.NOTICE,
    )
    reason = models.CharField("理由", max_length=2000)
    statement_due = models.DateField("陈述申辩期限")
    statement = models.CharField("陈述申辩", max_length=2000, blank=True)
    decision_note = models.CharField("决定意见", max_length=2000, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "撤销程序"
        verbose_name_plural = "撤销程序"
        ordering = ["case_id", "started_at"]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(state="notice"), name="revocation_one_open"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} 撤销 {self.get_state_display()}"


class CreditRecord(models.Model):
    """信用记录 — a dishonesty record (失信) for a commitment not honoured or found false.

    While a record is in force the subject may not use 容缺受理 or 告知承诺制 again.
    """

    class Kind(models.TextChoices):
        FALSE_COMMITMENT = "false", "虚假承诺"
        UNFULFILLED = "unfulfilled", "未履行承诺"

    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="信用主体", on_delete=models.PROTECT, related_name="credit_records"
    )
    subject_name = models.CharField("主体名称", max_length=200)
    subject_id_masked = models.CharField("证件号码", max_length=30, blank=True)
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="credit_records")
    commitment = models.ForeignKey(Commitment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    department = models.ForeignKey("directory.Department", on_delete=models.PROTECT, related_name="+")
    note = models.CharField("说明", max_length=2000)
    recorded_at = models.DateTimeField("记录时间", default=timezone.now)
    valid_until = models.DateField("有效期至")
    repaired_at = models.DateTimeField("信用修复时间", null=True, blank=True)

    class Meta:
        verbose_name = "信用记录"
        verbose_name_plural = "信用记录"
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["subject", "valid_until"], name="credit_subject_idx")]

    def __str__(self) -> str:
        return f"{self.subject_name} {self.get_kind_display()}"


class Delivery(models.Model):
    """出件/送达 — how and when an approved result reached the applicant.

    Opened when the decision approves (the 10-working-day issue clock of 行政许可法 §44 starts); issued at
    the unified output window (a pick-up code, collected with a signature), by post (address, waybill,
    delivered or returned) or electronically; the 送达回执 is the proof of delivery.
    """

    class Method(models.TextChoices):
        WINDOW = "window", "窗口领取"
        POST = "post", "邮寄送达"
        ONLINE = "online", "电子送达"

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="result_delivery")
    region_code = models.CharField("区划", max_length=12)
    method = models.CharField("送达方式", max_length=10, choices=Method.choices, default=Method.WINDOW)
    status = models.CharField(
        "状态",
        max_length=10,
        choices=[(s.value, DELIVERY_LABELS[s]) for s in DeliveryStatus],
        default=DeliveryStatus.PENDING,
    )
    due_date = models.DateField("出件期限")
    yellow_on = models.DateField("出件预警日")
    warned_level = models.PositiveSmallIntegerField("已发预警级别", default=0)
    window = models.ForeignKey(
        "directory.Window", verbose_name="出件窗口", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pickup_code_hash = models.CharField("取件码散列", max_length=64, blank=True, db_index=True)
    pickup_code_tail = models.CharField("取件码末两位", max_length=2, blank=True)
    recipient_name = models.CharField("收件人", max_length=100, blank=True)
    recipient_phone = models.CharField("收件人电话", max_length=20, blank=True)
    address = models.CharField("邮寄地址", max_length=300, blank=True)
    carrier = models.CharField("寄递企业", max_length=50, blank=True)
    waybill_no = models.CharField("运单号", max_length=40, blank=True)
    issued_at = models.DateTimeField("出件时间", null=True, blank=True)
    issued_on_time = models.BooleanField("按期出件", null=True, blank=True)
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)
    signer_name = models.CharField("签收人", max_length=100, blank=True)
    signer_id_masked = models.CharField("签收人证件号", max_length=30, blank=True)
    signature = models.OneToOneField(
        "cases.StoredFile", verbose_name="签名", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    returned_at = models.DateTimeField("退回时间", null=True, blank=True)
    return_reason = models.CharField("退回原因", max_length=500, blank=True)
    receipt = models.ForeignKey(
        "cases.CaseDocument",
        verbose_name="送达回执",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "出件送达"
        verbose_name_plural = "出件送达"
        indexes = [
            models.Index(fields=["status", "region_code"], name="delivery_status_region_idx"),
            models.Index(
                fields=["due_date", "region_code"], name="delivery_pending_due_idx", condition=Q(status="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_method_display()} {self.get_status_display()}"


class SupervisionEscalation(models.Model):
    """督办升级 — a 督办单 left unanswered past its feedback date is escalated (level 1, then 2)."""

    supervision = models.ForeignKey("cases.Supervision", on_delete=models.CASCADE, related_name="escalations")
    level = models.PositiveSmallIntegerField("升级级别")
    at = models.DateTimeField("升级时间", default=timezone.now)
    notified = models.JSONField("通知对象", default=list)
    note = models.CharField("说明", max_length=500, blank=True)

    class Meta:
        verbose_name = "督办升级"
        verbose_name_plural = "督办升级"
        ordering = ["supervision_id", "level"]
        constraints = [
            models.UniqueConstraint(fields=["supervision", "level"], name="escalation_unique_level"),
        ]

    def __str__(self) -> str:
        return f"{self.supervision_id} L{self.level}"
