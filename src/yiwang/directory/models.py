"""Regions (行政区划), departments (实施主体), service halls (政务服务中心/站) and windows (窗口)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from yiwang.core.errors import ValidationFailed
from yiwang.core.ids import validate_credit_code

from . import codes


class Region(models.Model):
    """行政区划 — one node of the five-level tree (省/市/县/乡镇(街道)/村(社区)), keyed by its 12-digit code."""

    class Level(models.IntegerChoices):
        PROVINCE = codes.PROVINCE, "省级"
        CITY = codes.CITY, "市级"
        COUNTY = codes.COUNTY, "县级"
        TOWN = codes.TOWN, "乡镇（街道）级"
        VILLAGE = codes.VILLAGE, "村（社区）级"

    code = models.CharField("区划代码", max_length=12, primary_key=True)
    name = models.CharField("名称", max_length=100)
    full_name = models.CharField("全称", max_length=300, blank=True)
    level = models.PositiveSmallIntegerField("层级", choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_active = models.BooleanField("有效", default=True)

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]
        indexes = [models.Index(fields=["parent", "code"], name="region_parent_code_idx")]

    def __str__(self) -> str:
        return self.full_name or self.name

    @property
    def prefix(self) -> str:
        return self.code[: codes.LEVEL_DIGITS[self.level]]

    def contains(self, code: str) -> bool:
        return code.startswith(self.prefix)


def validate_credit_code_field(value: str) -> None:
    try:
        validate_credit_code(value)
    except ValidationFailed as exc:
        raise ValidationError(exc.message, code=exc.code) from None


class Department(models.Model):
    """实施主体/部门 — a government body; with ``holds_items`` it implements service items."""

    name = models.CharField("名称", max_length=200)
    short_name = models.CharField("简称", max_length=100, blank=True)
    credit_code = models.CharField(
        "统一社会信用代码",
        max_length=18,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_credit_code_field],
    )
    region = models.ForeignKey(Region, verbose_name="所属区划", on_delete=models.PROTECT, related_name="departments")
    parent = models.ForeignKey(
        "self", verbose_name="上级部门", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    holds_items = models.BooleanField("承担政务服务事项", default=True)
    phone = models.CharField("联系电话", max_length=50, blank=True)
    address = models.CharField("地址", max_length=300, blank=True)
    sort_order = models.PositiveIntegerField("排序", default=0)
    is_active = models.BooleanField("有效", default=True)

    class Meta:
        verbose_name = "部门"
        verbose_name_plural = "部门"
        ordering = ["region_id", "sort_order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="department_unique_name_in_region"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def region_code(self) -> str:
        return self.region_id


class ServiceHall(models.Model):
    """政务服务中心/便民服务中心/便民服务站 — a physical place where people are served."""

    class Kind(models.TextChoices):
        CENTER = "center", "政务服务中心"
        TOWN_CENTER = "town_center", "便民服务中心"
        STATION = "station", "便民服务站"

    name = models.CharField("名称", max_length=200)
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    region = models.ForeignKey(Region, verbose_name="所属区划", on_delete=models.PROTECT, related_name="halls")
    address = models.CharField("地址", max_length=300)
    opening_hours = models.CharField(
        "办公时间", max_length=300, help_text="例如：周一至周五 9:00-12:00，13:30-17:30（法定节假日除外）"
    )
    phone = models.CharField("咨询电话", max_length=50, blank=True)
    traffic = models.CharField("交通指引", max_length=300, blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    is_active = models.BooleanField("有效", default=True)

    class Meta:
        verbose_name = "服务大厅"
        verbose_name_plural = "服务大厅"
        ordering = ["region_id", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def region_code(self) -> str:
        return self.region_id


class Window(models.Model):
    """窗口 — a counter in a hall, of one kind, serving one or more departments."""

    class Kind(models.TextChoices):
        COMPREHENSIVE = "comprehensive", "综合窗口"
        SPECIALIZED = "specialized", "专业窗口"
        BUNDLE = "bundle", "一件事窗口"
        AGENCY = "agency", "帮办代办窗口"
        PRIORITY = "priority", "适老/绿色通道窗口"
        PICKUP = "pickup", "统一出件窗口"

    hall = models.ForeignKey(ServiceHall, verbose_name="服务大厅", on_delete=models.CASCADE, related_name="windows")
    number = models.CharField("窗口号", max_length=20)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    departments = models.ManyToManyField(Department, verbose_name="服务部门", blank=True, related_name="windows")
    is_active = models.BooleanField("有效", default=True)

    class Meta:
        verbose_name = "窗口"
        verbose_name_plural = "窗口"
        ordering = ["hall_id", "number"]
        constraints = [models.UniqueConstraint(fields=["hall", "number"], name="window_unique_number_in_hall")]

    def __str__(self) -> str:
        return f"{self.hall.name} {self.number}号 {self.name}"

    @property
    def region_code(self) -> str:
        return self.hall.region_id
