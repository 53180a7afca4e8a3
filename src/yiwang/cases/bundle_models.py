"""一件事办件 — one application for a bundle (the parent) and its child cases, one per applicable member.

Imported by :mod:`yiwang.cases.models`; the flow is in :mod:`yiwang.cases.bundles` and the pure rules in
:mod:`yiwang.cases.bundle_flow`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .bundle_flow import CHILD_LABELS, PARENT_LABELS, ChildStatus, ParentState


class BundleCase(models.Model):
    """一件事办件 — a bundle applied for once (一表申请、一套材料、一次提交); parent of the child cases.

    ``form_data`` is the one merged form, ``answers`` the 情形 answers that chose the members; the
    children run in stages (parallel within a stage, one stage after another). ``savings`` records what
    the bundle saved against filing the members one by one, as computed at submission.
    """

    class Channel(models.TextChoices):
        ONLINE = "online", "网上申报"
        WINDOW = "window", "一件事窗口"

    number = models.CharField("一件事编号", max_length=50, unique=True)
    bundle = models.ForeignKey("catalog.Bundle", verbose_name="一件事", on_delete=models.PROTECT, related_name="+")
    bundle_name = models.CharField("名称", max_length=200)
    region_code = models.CharField("区划", max_length=12)
    lead_department = models.ForeignKey(
        "directory.Department", verbose_name="牵头部门", on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        "状态",
        max_length=12,
        choices=[(s.value, PARENT_LABELS[s]) for s in ParentState],
        default=ParentState.IN_PROGRESS,
    )
    channel = models.CharField("申请渠道", max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT, related_name="bundle_cases"
    )
    applicant_kind = models.CharField("申请人类型", max_length=12)
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
    )
    window = models.ForeignKey(
        "directory.Window", verbose_name="收件窗口", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contact_phone = models.CharField("联系电话", max_length=20, blank=True)
    answers = models.JSONField("情形", default=dict, blank=True)
    form_data = models.JSONField("合并申请表", default=dict, blank=True)
    materials = models.JSONField("合并材料清单", default=list, blank=True, help_text="[{key, name, item_codes, ...}]")
    savings = models.JSONField("与逐项办理相比", default=dict, blank=True)
    promised_days = models.PositiveIntegerField("承诺时限（工作日）", null=True, blank=True)
    promised_due = models.DateField("承诺办结日", null=True, blank=True)
    submitted_at = models.DateTimeField("申请时间", default=timezone.now)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    outcome_note = models.CharField("办理结果说明", max_length=2000, blank=True)
    evaluation_invited_at = models.DateTimeField("评价邀请时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)

    class Meta:
        verbose_name = "一件事办件"
        verbose_name_plural = "一件事办件"
        indexes = [
            models.Index(fields=["applicant", "-submitted_at"], name="bundlecase_applicant_idx"),
            models.Index(fields=["state", "region_code"], name="bundlecase_state_region_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.bundle_name}"

    @property
    def state_label(self) -> str:
        return PARENT_LABELS[ParentState(self.state)]

    @property
    def is_open(self) -> bool:
        return self.state == ParentState.IN_PROGRESS


class BundleChild(models.Model):
    """一件事子办件 — one applicable member: its stage and, once started, its case.

    A child of the first stage starts at submission; a later one waits (no case yet) until every child of
    the earlier stages has completed with approval, and is cancelled when one of them ends otherwise.
    """

    parent = models.ForeignKey(BundleCase, on_delete=models.CASCADE, related_name="children")
    item = models.ForeignKey("catalog.ServiceItem", verbose_name="事项", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(
        "catalog.ServiceItemVersion", verbose_name="事项版本", on_delete=models.PROTECT, related_name="+"
    )
    item_name = models.CharField("事项名称", max_length=300)
    department = models.ForeignKey(
        "directory.Department", verbose_name="实施主体", on_delete=models.PROTECT, related_name="+"
    )
    stage = models.PositiveSmallIntegerField("阶段")
    position = models.PositiveSmallIntegerField("序号")
    status = models.CharField(
        "状态",
        max_length=10,
        choices=[(s.value, CHILD_LABELS[s]) for s in ChildStatus],
        default=ChildStatus.WAITING,
    )
    case = models.OneToOneField(
        "cases.Case", verbose_name="办件", null=True, blank=True, on_delete=models.PROTECT, related_name="bundle_link"
    )
    started_at = models.DateTimeField("分送时间", null=True, blank=True)
    cancelled_note = models.CharField("未启动原因", max_length=500, blank=True)

    class Meta:
        verbose_name = "一件事子办件"
        verbose_name_plural = "一件事子办件"
        ordering = ["parent_id", "stage", "position"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "item"], name="bundlechild_unique_item"),
        ]

    def __str__(self) -> str:
        return f"{self.parent_id} · {self.item_name}"


class BundleFile(models.Model):
    """一套材料 — a file uploaded once for the merged material list; each child gets its own linked copy."""

    parent = models.ForeignKey(BundleCase, on_delete=models.CASCADE, related_name="files")
    material_key = models.CharField("材料标识", max_length=320)
    file = models.OneToOneField("cases.StoredFile", on_delete=models.PROTECT, related_name="bundle_file")

    class Meta:
        verbose_name = "一件事材料文件"
        verbose_name_plural = "一件事材料文件"

    def __str__(self) -> str:
        return self.material_key


class BundleEvent(models.Model):
    """一件事办理过程 — the parent's own timeline lines (submitted, a child started or ended, concluded)."""

    parent = models.ForeignKey(BundleCase, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField("时间", default=timezone.now)
    action = models.CharField("动作", max_length=32)
    actor_label = models.CharField("操作人", max_length=150, blank=True)
    note = models.CharField("说明", max_length=2000, blank=True)
    child = models.ForeignKey(BundleChild, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = "一件事办理过程"
        verbose_name_plural = "一件事办理过程"
        ordering = ["parent_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.parent_id} {self.action}"
