"""Catalog items (基本目录), service items (实施清单) with immutable published versions, and bundles (一件事)."""

from __future__ import annotations

import datetime as dt
from functools import cached_property

from django.conf import settings
from django.db import models
from django.utils import timezone

from yiwang.directory.models import Department, Region, Window

from . import codes
from .elements import ItemElements


class CatalogItem(models.Model):
    """基本目录事项 — a nationally/provincially unified item with its basic elements."""

    class State(models.TextChoices):
        ACTIVE = "active", "在用"
        SUSPENDED = "suspended", "暂停"
        CANCELLED = "cancelled", "取消"

    code = models.CharField("基本编码", max_length=50, unique=True)
    name = models.CharField("事项名称", max_length=300)
    item_type = models.CharField("事项类型", max_length=2, db_index=True)
    legal_basis = models.JSONField("设定依据", default=list, blank=True, help_text="[{law, number, article, text}]")
    use_levels = models.JSONField("行使层级", default=list, blank=True, help_text="[1..6]")
    parent = models.ForeignKey(
        "self", verbose_name="主项", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    state = models.CharField("状态", max_length=16, choices=State.choices, default=State.ACTIVE)
    version = models.PositiveIntegerField("版本", default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    # Elements the catalog item defines; implementations may not change them (同源).
    LOCKED_ELEMENTS = ("item_type", "legal_basis", "use_levels")

    class Meta:
        verbose_name = "基本目录事项"
        verbose_name_plural = "基本目录"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def item_type_name(self) -> str:
        return codes.item_type_name(self.item_type)


class ServiceItem(models.Model):
    """实施清单事项 — the unit people apply for; stable identity by implementation code.

    Editing happens on ``draft`` (the element set as JSON); publishing freezes it into a
    :class:`ServiceItemVersion`. ``current_version`` is the version in force (latest published).
    """

    class State(models.TextChoices):
        DRAFT = "draft", "未发布"
        PUBLISHED = "published", "已发布"
        SUSPENDED = "suspended", "暂停"
        CANCELLED = "cancelled", "取消"

    code = models.CharField("实施编码", max_length=64, unique=True)
    handle_item_code = models.CharField("业务办理项编码", max_length=50, blank=True)
    catalog_item = models.ForeignKey(
        CatalogItem, verbose_name="基本目录事项", on_delete=models.PROTECT, related_name="implementations"
    )
    department = models.ForeignKey(
        Department, verbose_name="实施主体", on_delete=models.PROTECT, related_name="service_items"
    )
    region = models.ForeignKey(Region, verbose_name="实施区划", on_delete=models.PROTECT, related_name="service_items")
    name = models.CharField("事项名称", max_length=300)
    state = models.CharField("状态", max_length=16, choices=State.choices, default=State.DRAFT, db_index=True)
    current_version = models.ForeignKey(
        "ServiceItemVersion",
        verbose_name="现行版本",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    draft = models.JSONField("草稿要素", default=dict, blank=True)
    draft_changed = models.BooleanField("草稿有未发布修改", default=True)
    sort_order = models.PositiveIntegerField("排序", default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "实施清单事项"
        verbose_name_plural = "实施清单"
        ordering = ["region_id", "department_id", "sort_order", "code"]
        indexes = [
            models.Index(fields=["region", "state"], name="serviceitem_region_state_idx"),
            models.Index(fields=["department", "state"], name="serviceitem_dept_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def region_code(self) -> str:
        return self.region_id

    def draft_elements(self) -> ItemElements:
        return ItemElements.parse(self.draft)


class ServiceItemVersion(models.Model):
    """事项版本 — an immutable published snapshot of a service item's full element set.

    Only ``state``, ``withdrawn_at`` and ``superseded_at`` change after publication (suspension and
    cancellation keep history). A case points at the version it was filed under.
    """

    class State(models.TextChoices):
        PUBLISHED = "published", "已发布"
        SUSPENDED = "suspended", "暂停"
        CANCELLED = "cancelled", "取消"

    item = models.ForeignKey(ServiceItem, verbose_name="事项", on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField("版本号")
    published_at = models.DateTimeField("发布时间", db_index=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发布人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_by_label = models.CharField("发布人标识", max_length=150, blank=True)
    superseded_at = models.DateTimeField("被新版本取代时间", null=True, blank=True)
    state = models.CharField("状态", max_length=16, choices=State.choices, default=State.PUBLISHED)
    withdrawn_at = models.DateTimeField("暂停/取消时间", null=True, blank=True)
    note = models.CharField("版本说明", max_length=500, blank=True)
    content_hash = models.CharField("要素摘要", max_length=64)

    # Hot fields, copied from ``elements`` at publication for filtering and listing.
    name = models.CharField("事项名称", max_length=300)
    item_type = models.CharField("事项类型", max_length=2, db_index=True)
    catalog_code = models.CharField("基本编码", max_length=50, blank=True)
    department = models.ForeignKey(Department, verbose_name="实施主体", on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name="实施区划", on_delete=models.PROTECT, related_name="+")
    legal_limit = models.PositiveIntegerField("法定时限", null=True, blank=True)
    legal_limit_unit = models.CharField("法定时限单位", max_length=10, default=codes.TimeUnit.WORKDAY)
    promised_limit = models.PositiveIntegerField("承诺时限", null=True, blank=True)
    promised_limit_unit = models.CharField("承诺时限单位", max_length=10, default=codes.TimeUnit.WORKDAY)
    handling_type = models.CharField("办件类型", max_length=10, default=codes.HandlingType.PROMISED)
    visits = models.PositiveSmallIntegerField("到现场次数", default=0)
    online_depth = models.PositiveSmallIntegerField("网上办理深度", default=0)
    is_online = models.BooleanField("网办", default=False)
    is_express = models.BooleanField("物流快递", default=False)
    is_appointment = models.BooleanField("预约办理", default=False)
    is_pay_online = models.BooleanField("网上支付", default=False)
    in_hall = models.BooleanField("进驻大厅", default=True)
    self_service = models.BooleanField("自助终端", default=False)
    has_fees = models.BooleanField("收费", default=False)
    cross_scope = models.CharField("通办范围", max_length=2, blank=True)
    material_count = models.PositiveSmallIntegerField("材料数", default=0)
    themes = models.CharField("主题（|分隔，筛选用）", max_length=1000, blank=True)
    personal_themes = models.CharField("面向自然人主题（|分隔）", max_length=1000, blank=True)
    corporate_themes = models.CharField("面向法人主题（|分隔）", max_length=1000, blank=True)
    service_objects = models.CharField("服务对象（|分隔，筛选用）", max_length=50, blank=True)

    # The full element set (see ``elements.ItemElements``): materials, fees, steps, FAQ, conditions, form, …
    elements = models.JSONField("全部要素")

    HOT_FIELDS = (
        "name",
        "item_type",
        "catalog_code",
        "legal_limit",
        "legal_limit_unit",
        "promised_limit",
        "promised_limit_unit",
        "handling_type",
        "visits",
        "online_depth",
        "is_online",
        "is_express",
        "is_appointment",
        "is_pay_online",
        "in_hall",
        "self_service",
        "cross_scope",
    )

    class Meta:
        verbose_name = "事项版本"
        verbose_name_plural = "事项版本"
        ordering = ["item_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["item", "number"], name="serviceitemversion_unique_number")]
        indexes = [
            models.Index(fields=["item", "published_at"], name="itemversion_item_pub_idx"),
            models.Index(fields=["region", "state"], name="itemversion_region_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"

    @property
    def region_code(self) -> str:
        return self.region_id

    @cached_property
    def data(self) -> ItemElements:
        """The element set as typed data."""
        return ItemElements.model_validate(self.elements)

    @property
    def item_type_name(self) -> str:
        return codes.item_type_name(self.item_type)

    def state_at(self, at: dt.datetime) -> str:
        """The state this version had at ``at`` (``published`` before its suspension/cancellation)."""
        if self.withdrawn_at is not None and at >= self.withdrawn_at:
            return self.state
        return self.State.PUBLISHED

    def in_force_at(self, at: dt.datetime) -> bool:
        return self.published_at <= at and (self.superseded_at is None or at < self.superseded_at)


class Bundle(models.Model):
    """一件事 — several service items handled together with one form, one material list and one window."""

    class Audience(models.TextChoices):
        PERSONAL = "personal", "个人"
        CORPORATE = "corporate", "法人"

    class State(models.TextChoices):
        DRAFT = "draft", "未发布"
        PUBLISHED = "published", "已发布"
        WITHDRAWN = "withdrawn", "已撤回"

    code = models.SlugField("编码", max_length=64, unique=True)
    name = models.CharField("名称", max_length=200)
    audience = models.CharField("面向", max_length=16, choices=Audience.choices, default=Audience.PERSONAL)
    stage = models.CharField("生命周期阶段", max_length=50, blank=True)
    description = models.TextField("说明", blank=True)
    region = models.ForeignKey(Region, verbose_name="区划", on_delete=models.PROTECT, related_name="bundles")
    lead_department = models.ForeignKey(
        Department, verbose_name="牵头部门", on_delete=models.PROTECT, related_name="led_bundles"
    )
    cooperating_departments = models.ManyToManyField(
        Department, verbose_name="协办部门", blank=True, related_name="cooperating_bundles"
    )
    promised_days = models.PositiveIntegerField("承诺时限（工作日）", null=True, blank=True)
    windows = models.ManyToManyField(Window, verbose_name="服务窗口", blank=True, related_name="bundles")
    scenarios = models.JSONField(
        "情形问题", default=list, blank=True, help_text='[{"key", "question", "options": [..]}] 用于引导申请人'
    )
    state = models.CharField("状态", max_length=16, choices=State.choices, default=State.DRAFT, db_index=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "一件事"
        verbose_name_plural = "一件事"
        ordering = ["region_id", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def region_code(self) -> str:
        return self.region_id


class BundleMember(models.Model):
    """一件事成员事项 — a member item, when it applies (情形) and where it runs (order/parallel)."""

    bundle = models.ForeignKey(Bundle, verbose_name="一件事", on_delete=models.CASCADE, related_name="members")
    item = models.ForeignKey(
        ServiceItem, verbose_name="事项", on_delete=models.PROTECT, related_name="bundle_memberships"
    )
    order = models.PositiveSmallIntegerField("顺序", default=1, help_text="同一顺序号的事项并联办理")
    condition = models.JSONField(
        "适用情形",
        default=dict,
        blank=True,
        help_text='空：总是办理；{"key": "情形问题key", "in": ["选项", …]}：回答在其中时办理',
    )
    condition_text = models.CharField("情形说明", max_length=300, blank=True)
    is_optional = models.BooleanField("可选", default=False)

    class Meta:
        verbose_name = "一件事成员"
        verbose_name_plural = "一件事成员"
        ordering = ["bundle_id", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["bundle", "item"], name="bundlemember_unique_item")]

    def __str__(self) -> str:
        return f"{self.bundle} · {self.item}"

    def applies(self, answers: dict[str, object]) -> bool:
        """Does this member apply for the applicant's answers to the bundle's 情形 questions?"""
        from .bundles import condition_applies

        return condition_applies(self.condition, answers)
