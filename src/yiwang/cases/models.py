"""办件 — cases, their events, materials, documents and deadlines; case numbers, uploads, idempotency keys."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


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
