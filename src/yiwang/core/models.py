"""Append-only audit trail (审计日志) with a hash chain."""

from __future__ import annotations

from django.db import models

GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    """审计事件 — one state change, written by the action layer, never updated or deleted.

    ``hash`` = SM3 over the canonical JSON of the row including ``prev_hash``, so editing or deleting any
    row breaks the chain at that point (``yiwang audit verify``). On PostgreSQL a trigger also rejects
    UPDATE and DELETE on this table.
    """

    seq = models.BigIntegerField("序号", unique=True)
    occurred_at = models.DateTimeField("时间")  # no query filters or sorts on it (seq is the order)
    actor_id = models.BigIntegerField("操作人ID", null=True, blank=True)
    actor_label = models.CharField("操作人", max_length=150, blank=True)
    action = models.CharField("动作", max_length=64)
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象ID", max_length=64, blank=True)
    region_code = models.CharField("区划代码", max_length=12, blank=True)
    summary = models.JSONField("变更摘要", default=dict, blank=True)
    request_id = models.CharField("请求ID", max_length=64, blank=True)
    ip = models.CharField("IP", max_length=45, null=True, blank=True)
    channel = models.CharField("渠道", max_length=16, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "审计事件"
        verbose_name_plural = "审计事件"
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "seq"], name="audit_object_idx"),
            models.Index(fields=["actor_id", "seq"], name="audit_actor_idx"),
            # Six indexes, not nine (decision 0014): none on occurred_at (no query uses it), and one per
            # column instead of db_index's two on PostgreSQL (plain + a varchar_pattern_ops copy): action is
            # only compared with = (the API's filter), region_code only with LIKE 'prefix%' (the audit.view
            # scope), which the pattern_ops index serves as well as =.
            models.Index(fields=["action"], name="audit_action_idx"),
            models.Index(fields=["region_code"], name="audit_region_idx", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """The last link of the chain; locked while appending so links are written one at a time."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = "审计链头"

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"


class PendingAuditEvent(models.Model):
    """待入链审计事件 — an event of a high-volume action (a citizen's rating), written in the action's own
    transaction without taking the chain head, and moved into the chain in batches by
    :func:`yiwang.core.audit.flush_pending` (after commit, and by ``yiwang audit flush``). The chain stays
    complete and ordered; it is only behind by the events not yet flushed."""

    occurred_at = models.DateTimeField("时间")
    actor_id = models.BigIntegerField("操作人ID", null=True, blank=True)
    actor_label = models.CharField("操作人", max_length=150, blank=True)
    action = models.CharField("动作", max_length=64)
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象ID", max_length=64, blank=True)
    region_code = models.CharField("区划代码", max_length=12, blank=True)
    summary = models.JSONField("变更摘要", default=dict, blank=True)
    request_id = models.CharField("请求ID", max_length=64, blank=True)
    ip = models.CharField("IP", max_length=45, null=True, blank=True)
    channel = models.CharField("渠道", max_length=16, blank=True)

    class Meta:
        verbose_name = "待入链审计事件"
        verbose_name_plural = "待入链审计事件"

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"
