"""12345 hotline: work orders (工单), their assignments and history, categories, dispatch rules, time limits,
the knowledge base (知识库) and Open311 clients."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from yiwang.core.ids import mask_phone
from yiwang.directory.models import Department, Region

from .timelimits import LimitUnit
from .transitions import LABELS, State


class Category(models.Model):
    """诉求分类 — one node of the three-level category tree (大类/中类/小类, GB/T 39666 style)."""

    code = models.CharField("分类代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=100)
    level = models.PositiveSmallIntegerField("层级", choices=[(1, "大类"), (2, "中类"), (3, "小类")])
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField("完整路径", max_length=300, blank=True)
    is_active = models.BooleanField("有效", default=True)

    class Meta:
        verbose_name = "诉求分类"
        verbose_name_plural = "诉求分类"
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="hotline_category_unique_name")]

    def __str__(self) -> str:
        return self.path or self.name

    def ancestors(self) -> list[Category]:
        """This node and its ancestors, nearest first."""
        chain, node = [], self
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    @property
    def top(self) -> Category:
        return self.ancestors()[-1]


class WorkOrder(models.Model):
    """工单 — one citizen demand taken by the 12345 hotline, from intake to 回访 and 归档."""

    class Channel(models.TextChoices):
        PHONE = "phone", "电话"
        WEB = "web", "网站"
        MOBILE = "mobile", "移动端"
        WECHAT = "wechat", "微信"
        SMS = "sms", "短信"
        MAILBOX = "mailbox", "信箱"
        OPEN311 = "open311", "Open311接口"

    class Kind(models.TextChoices):
        CONSULT = "consult", "咨询"
        HELP = "help", "求助"
        COMPLAINT = "complaint", "投诉"
        REPORT = "report", "举报"
        SUGGESTION = "suggestion", "建议"
        PRAISE = "praise", "表扬"

    class Urgency(models.TextChoices):
        NORMAL = "normal", "一般"
        URGENT = "urgent", "紧急"
        CRITICAL = "critical", "特急"

    class CallerType(models.TextChoices):
        PERSON = "person", "自然人"
        ENTERPRISE = "enterprise", "企业"

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", "满意"
        BASIC = "basic", "基本满意"
        UNSATISFIED = "unsatisfied", "不满意"

    number = models.CharField("工单编号", max_length=20, unique=True, null=True, blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=[(s.value, LABELS[s]) for s in State], default=State.NEW, db_index=True
    )
    channel = models.CharField("受理渠道", max_length=10, choices=Channel.choices, default=Channel.PHONE)
    kind = models.CharField("诉求类型", max_length=12, choices=Kind.choices, default=Kind.CONSULT)
    urgency = models.CharField("紧急程度", max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    # 五要素: caller, time, place, cause, details
    caller_name = models.CharField("来电人", max_length=100, blank=True)
    caller_phone = models.CharField("联系电话", max_length=30, blank=True)
    caller_type = models.CharField("诉求人类型", max_length=10, choices=CallerType.choices, default=CallerType.PERSON)
    caller_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="诉求人账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hotline_orders",
    )
    is_confidential = models.BooleanField("保密", default=False)
    occurred_at = models.DateTimeField("发生时间", null=True, blank=True)
    region = models.ForeignKey(Region, verbose_name="发生地（区划）", on_delete=models.PROTECT, related_name="+")
    address = models.CharField("详细地点", max_length=300, blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    title = models.CharField("主题", max_length=200)
    cause = models.TextField("起因", blank=True)
    content = models.TextField("诉求内容（经过）")
    category = models.ForeignKey(
        Category, verbose_name="分类", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    suggested_category = models.ForeignKey(
        Category, verbose_name="建议分类", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    suggested_department = models.ForeignKey(
        Department, verbose_name="建议承办单位", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    suggestion_confidence = models.FloatField("建议置信度", null=True, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name="主办单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hotline_orders",
    )
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="受理坐席",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("受理时间", default=timezone.now, db_index=True)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)
    dispatched_at = models.DateTimeField("派单时间", null=True, blank=True)
    sign_due_at = models.DateTimeField("签收时限", null=True, blank=True)
    signed_at = models.DateTimeField("签收时间", null=True, blank=True)
    handle_due_at = models.DateTimeField("办理时限", null=True, blank=True, db_index=True)
    replied_at = models.DateTimeField("答复时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    reply = models.TextField("答复内容", blank=True)
    kb_entry = models.ForeignKey(
        "KnowledgeEntry", verbose_name="引用知识", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_into = models.ForeignKey(
        "self", verbose_name="并入工单", null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )
    refusal_reason = models.CharField("不予受理原因", max_length=30, blank=True)
    satisfaction = models.CharField("满意度", max_length=12, choices=Satisfaction.choices, blank=True)
    visited_at = models.DateTimeField("回访时间", null=True, blank=True)
    return_count = models.PositiveSmallIntegerField("退单次数", default=0)
    reopen_count = models.PositiveSmallIntegerField("重办次数", default=0)
    supervision_count = models.PositiveSmallIntegerField("督办次数", default=0)
    extension_days = models.PositiveSmallIntegerField("已批延期（工作日）", default=0)
    is_hot = models.BooleanField("热点", default=False)
    # Open311
    service_code = models.CharField("Open311服务代码", max_length=20, blank=True)
    media_url = models.URLField("图片链接", max_length=500, blank=True)
    open311_token = models.CharField("Open311令牌", max_length=32, unique=True, null=True, blank=True)
    open311_client = models.ForeignKey(
        "Open311Client", verbose_name="Open311客户端", null=True, blank=True, on_delete=models.SET_NULL
    )
    account_id = models.CharField("外部账号", max_length=100, blank=True)
    device_id = models.CharField("设备标识", max_length=100, blank=True)
    email = models.EmailField("电子邮箱", blank=True)

    class Meta:
        verbose_name = "工单"
        verbose_name_plural = "工单"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "department"], name="hotline_order_status_dept_idx"),
            models.Index(fields=["region", "created_at"], name="hotline_order_region_idx"),
            models.Index(fields=["caller_user", "created_at"], name="hotline_order_caller_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number or '（未编号）'} {self.title}"

    @property
    def region_code(self) -> str:
        return self.region_id

    @property
    def state(self) -> State:
        return State(self.status)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.caller_phone)

    @property
    def display_caller(self) -> str:
        if self.is_confidential:
            return "（保密）"
        name = self.caller_name or "匿名"
        return f"{name[:1]}{'*' * max(len(name) - 1, 1)}" if name != "匿名" else name


class Assignment(models.Model):
    """派单记录 — one dispatch of an order to a department as 主办 or 协办, with 签收 and 退单."""

    class Role(models.TextChoices):
        LEAD = "lead", "主办"
        ASSIST = "assist", "协办"

    class Status(models.TextChoices):
        PENDING = "pending", "待签收"
        SIGNED = "signed", "已签收"
        RETURNED = "returned", "已退单"
        DONE = "done", "已办结"
        WITHDRAWN = "withdrawn", "已撤回"

    order = models.ForeignKey(WorkOrder, verbose_name="工单", on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey(Department, verbose_name="承办单位", on_delete=models.PROTECT, related_name="+")
    role = models.CharField("角色", max_length=8, choices=Role.choices, default=Role.LEAD)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="派单人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    dispatched_at = models.DateTimeField("派单时间", default=timezone.now)
    sign_due_at = models.DateTimeField("签收时限", null=True, blank=True)
    signed_at = models.DateTimeField("签收时间", null=True, blank=True)
    returned_at = models.DateTimeField("退单时间", null=True, blank=True)
    return_reason = models.CharField("退单理由", max_length=500, blank=True)
    note = models.CharField("派单意见", max_length=500, blank=True)
    automatic = models.BooleanField("自动派单", default=False)

    class Meta:
        verbose_name = "派单记录"
        verbose_name_plural = "派单记录"
        ordering = ["order_id", "dispatched_at", "id"]
        indexes = [models.Index(fields=["department", "status"], name="hotline_assign_dept_idx")]

    def __str__(self) -> str:
        return f"{self.order_id} → {self.department}（{self.get_role_display()}）"


class OrderEvent(models.Model):
    """办理过程 — the visible history of an order (the audit chain keeps the tamper-evident copy)."""

    order = models.ForeignKey(WorkOrder, verbose_name="工单", on_delete=models.CASCADE, related_name="events")
    event = models.CharField("事件", max_length=20)
    from_status = models.CharField("原状态", max_length=16, blank=True)
    to_status = models.CharField("新状态", max_length=16, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField("操作人名称", max_length=150, blank=True)
    department = models.ForeignKey(
        Department, verbose_name="部门", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField("说明", blank=True)
    at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "办理过程"
        verbose_name_plural = "办理过程"
        ordering = ["order_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.event} {self.at:%Y-%m-%d %H:%M}"


class Attachment(models.Model):
    """附件 — a photo or document added to a work order (stored privately through :mod:`yiwang.cases.uploads`:
    type sniffed from the content, SHA-256 recorded, served only through a permission-checked view)."""

    order = models.ForeignKey(WorkOrder, verbose_name="工单", on_delete=models.CASCADE, related_name="attachments")
    file = models.OneToOneField(
        "cases.StoredFile", verbose_name="文件", on_delete=models.PROTECT, related_name="hotline_attachment"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = "工单附件"
        verbose_name_plural = "工单附件"
        ordering = ["order_id", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.file_id}"


class ExtensionRequest(models.Model):
    """延期申请 — a department asks for more working days; the hotline platform approves or refuses."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "未批准"

    order = models.ForeignKey(WorkOrder, verbose_name="工单", on_delete=models.CASCADE, related_name="extensions")
    department = models.ForeignKey(Department, verbose_name="申请单位", on_delete=models.PROTECT, related_name="+")
    days = models.PositiveSmallIntegerField("延期工作日")
    reason = models.CharField("理由", max_length=500)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decision_note = models.CharField("审核意见", max_length=500, blank=True)

    class Meta:
        verbose_name = "延期申请"
        verbose_name_plural = "延期申请"
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.order_id} 延期{self.days}日（{self.get_status_display()}）"


class Visit(models.Model):
    """回访 — the citizen's satisfaction after a reply (不满意 reopens the order: 重办)."""

    order = models.ForeignKey(WorkOrder, verbose_name="工单", on_delete=models.CASCADE, related_name="visits")
    result = models.CharField("回访结果", max_length=12, choices=WorkOrder.Satisfaction.choices)
    resolved = models.BooleanField("问题已解决", default=True)
    method = models.CharField(
        "回访方式", max_length=20, default="phone", choices=[("phone", "电话"), ("sms", "短信"), ("web", "网上")]
    )
    note = models.CharField("回访记录", max_length=500, blank=True)
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="回访人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    visited_at = models.DateTimeField("回访时间", default=timezone.now)
    department = models.ForeignKey(
        Department, verbose_name="被评价单位", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "回访"
        verbose_name_plural = "回访"
        ordering = ["order_id", "visited_at"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.get_result_display()}"


class DispatchRule(models.Model):
    """派单目录 — category × region → 主办 department (+ 协办). The most specific matching rule wins."""

    category = models.ForeignKey(Category, verbose_name="分类", on_delete=models.CASCADE, related_name="rules")
    region = models.ForeignKey(
        Region, verbose_name="区划（含下级）", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    department = models.ForeignKey(Department, verbose_name="主办单位", on_delete=models.CASCADE, related_name="+")
    assist_departments = models.ManyToManyField(Department, verbose_name="协办单位", blank=True, related_name="+")
    priority = models.IntegerField("优先级", default=0, help_text="同等具体程度时数值大者优先")
    is_active = models.BooleanField("有效", default=True)
    note = models.CharField("依据（三定/权责清单）", max_length=300, blank=True)

    class Meta:
        verbose_name = "派单目录"
        verbose_name_plural = "派单目录"
        ordering = ["category__code", "region_id", "-priority"]

    def __str__(self) -> str:
        return f"{self.category} @ {self.region_id or '全部'} → {self.department}"


class TimeLimit(models.Model):
    """工单时限 — overrides the default 签收/办理 limits for a demand type (blank = any) and urgency."""

    kind = models.CharField("诉求类型", max_length=12, choices=WorkOrder.Kind.choices, blank=True)
    urgency = models.CharField("紧急程度", max_length=10, choices=WorkOrder.Urgency.choices)
    sign_value = models.PositiveIntegerField("签收时限")
    sign_unit = models.CharField("签收时限单位", max_length=14, choices=[(u.value, u.label) for u in LimitUnit])
    handle_value = models.PositiveIntegerField("办理时限")
    handle_unit = models.CharField("办理时限单位", max_length=14, choices=[(u.value, u.label) for u in LimitUnit])

    class Meta:
        verbose_name = "工单时限"
        verbose_name_plural = "工单时限"
        constraints = [models.UniqueConstraint(fields=["kind", "urgency"], name="hotline_timelimit_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display() or '全部'}/{self.get_urgency_display()}"


class KnowledgeEntry(models.Model):
    """知识库条目 — a question with its authoritative answer, owned by a department, valid for a window."""

    question = models.CharField("问题", max_length=500)
    answer = models.TextField("答复口径")
    department = models.ForeignKey(
        Department, verbose_name="责任部门", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    department_name = models.CharField("责任部门名称", max_length=200, blank=True)
    keywords = models.CharField("关键词", max_length=500, blank=True)
    region = models.ForeignKey(
        Region, verbose_name="适用区划", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    valid_from = models.DateField("生效日期", null=True, blank=True)
    valid_until = models.DateField("失效日期", null=True, blank=True)
    source = models.CharField("来源", max_length=100, blank=True)
    source_ref = models.CharField("来源编号", max_length=100, unique=True, null=True, blank=True)
    contact_phone = models.CharField("咨询电话", max_length=100, blank=True)
    search_text = models.TextField("检索文本", blank=True, editable=False)
    is_active = models.BooleanField("有效", default=True)
    use_count = models.PositiveIntegerField("引用次数", default=0)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "知识库条目"
        verbose_name_plural = "知识库"
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.question[:60]

    @property
    def region_code(self) -> str:
        if self.region_id:
            return self.region_id
        return self.department.region_id if self.department_id else ""

    def is_stale(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.valid_until is not None and self.valid_until < today


class Open311Client(models.Model):
    """Open311 客户端 — a partner system allowed to POST service requests with an ``api_key``."""

    name = models.CharField("名称", max_length=100, unique=True)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    region = models.ForeignKey(Region, verbose_name="默认区划", on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField("有效", default=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = "Open311客户端"
        verbose_name_plural = "Open311客户端"

    def __str__(self) -> str:
        return self.name
