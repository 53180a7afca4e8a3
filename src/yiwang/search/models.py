"""Search data (搜索): synonyms, the query log, zero-result queries, hot searches and result clicks."""

from __future__ import annotations

from django.db import models


class Synonym(models.Model):
    """同义词 — a word people type and the catalogue words a search for it should also find."""

    term = models.CharField("用户用词", max_length=50, unique=True)
    alternatives = models.TextField("对应词", help_text="逗号或换行分隔，例如：社会保险, 社会保障")
    two_way = models.BooleanField("双向", default=False, help_text="勾选后搜索对应词也会找到用户用词。")
    weight = models.PositiveIntegerField("常用度", default=0, help_text="越大越优先（拼音首字母有歧义时）。")
    is_active = models.BooleanField("启用", default=True)
    note = models.CharField("备注", max_length=200, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "同义词"
        verbose_name_plural = "同义词"
        ordering = ["-weight", "term"]

    def __str__(self) -> str:
        return f"{self.term} → {self.alternatives}"

    def alternative_list(self) -> list[str]:
        raw = self.alternatives.replace("，", ",").replace("\n", ",").replace("、", ",")
        return [a.strip() for a in raw.split(",") if a.strip()]


class SearchLog(models.Model):
    """搜索日志 — one search as typed (cleaned), where from and how many results."""

    query = models.CharField("检索词", max_length=100, db_index=True)
    raw = models.CharField("原始输入", max_length=200, blank=True)
    region_code = models.CharField("用户区划", max_length=12, blank=True)
    results = models.PositiveIntegerField("结果数", default=0)
    channel = models.CharField("渠道", max_length=16, default="portal")
    took_ms = models.FloatField("耗时(毫秒)", default=0)
    created_at = models.DateTimeField("时间", db_index=True)

    class Meta:
        verbose_name = "搜索日志"
        verbose_name_plural = "搜索日志"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at", "query"], name="search_log_time_query_idx")]

    def __str__(self) -> str:
        return self.query


class ZeroResultQuery(models.Model):
    """无结果检索词 — a query that found nothing, counted, for catalogue managers to act on."""

    query = models.CharField("检索词", max_length=100, unique=True)
    count = models.PositiveIntegerField("次数", default=0)
    first_seen = models.DateTimeField("首次出现")
    last_seen = models.DateTimeField("最近出现", db_index=True)
    last_region = models.CharField("最近区划", max_length=12, blank=True)
    handled = models.BooleanField("已处理", default=False)
    note = models.CharField("处理说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "无结果检索词"
        verbose_name_plural = "无结果检索词"
        ordering = ["handled", "-count"]

    def __str__(self) -> str:
        return self.query


class HotSearch(models.Model):
    """热门搜索设置 — a term pinned to the hot list or hidden from it by an administrator."""

    term = models.CharField("检索词", max_length=100, unique=True)
    pinned = models.BooleanField("置顶", default=False)
    hidden = models.BooleanField("隐藏", default=False)
    position = models.PositiveSmallIntegerField("置顶顺序", default=0)
    note = models.CharField("备注", max_length=200, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "热门搜索设置"
        verbose_name_plural = "热门搜索设置"
        ordering = ["-pinned", "position", "term"]

    def __str__(self) -> str:
        return self.term


class SearchClick(models.Model):
    """结果点击 — a result opened from a search; popularity for ranking comes from these."""

    kind = models.CharField("类型", max_length=16)
    code = models.CharField("编码", max_length=64)
    query = models.CharField("检索词", max_length=100, blank=True)
    created_at = models.DateTimeField("时间", db_index=True)

    class Meta:
        verbose_name = "结果点击"
        verbose_name_plural = "结果点击"
        indexes = [models.Index(fields=["kind", "code"], name="search_click_target_idx")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.code}"
