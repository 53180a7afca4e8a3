"""Editable holiday table (节假日调整) over the official schedule."""

from __future__ import annotations

from django.db import models


class CalendarDay(models.Model):
    """节假日/调休 — one day that differs from the Monday–Friday rule.

    Rows with ``source = "chinesecalendar"`` mirror the package; ``import`` rows come from a holiday-cn
    JSON file; ``manual`` rows are entered by an administrator and win over both. A non-empty
    ``region_code`` limits a row to that region and its descendants (e.g. 广西 三月三).
    """

    class Source(models.TextChoices):
        PACKAGE = "chinesecalendar", "chinesecalendar 软件包"
        IMPORT = "import", "导入"
        MANUAL = "manual", "手工维护"

    date = models.DateField("日期")
    is_workday = models.BooleanField("是否上班", help_text="勾选表示调休上班日，不勾选表示放假。")
    name = models.CharField("名称", max_length=64, blank=True)
    region_code = models.CharField("适用区划", max_length=12, blank=True, default="", help_text="留空表示全国。")
    source = models.CharField("来源", max_length=16, choices=Source.choices, default=Source.MANUAL)
    note = models.CharField("备注", max_length=200, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "节假日调整"
        verbose_name_plural = "节假日调整"
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["date", "region_code"], name="calendarday_unique_date_region")]

    def __str__(self) -> str:
        kind = "上班" if self.is_workday else "放假"
        return f"{self.date} {self.name} {kind}"


class CalendarYear(models.Model):
    """年度放假安排 — a year whose official schedule has been entered (its dates are no longer provisional)."""

    year = models.PositiveSmallIntegerField("年份", unique=True)
    published = models.BooleanField("已公布", default=False)
    papers = models.JSONField("依据文件", default=list, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "年度放假安排"
        verbose_name_plural = "年度放假安排"
        ordering = ["year"]

    def __str__(self) -> str:
        return f"{self.year}{'（已公布）' if self.published else '（未公布）'}"
