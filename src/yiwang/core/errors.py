"""Typed domain errors with stable codes.

Every error that reaches a user carries a stable snake_case ``code`` (for programs), a message in
Chinese (for people) and optional ``details`` (English hints, field names). The API turns them into
``{"code": ..., "message": ..., "details": ...}`` with the error's HTTP status; views show the message.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of all expected, user-facing errors (业务错误)."""

    status = 400
    default_code = "bad_request"
    default_message = "请求有误。"

    def __init__(self, message: str | None = None, *, code: str | None = None, details: Any = None):
        self.code = code or self.default_code
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class ValidationFailed(DomainError):
    """Input does not satisfy a rule (输入不合规)."""

    status = 422
    default_code = "validation_failed"
    default_message = "输入内容不符合要求。"


class NotAuthenticated(DomainError):
    status = 401
    default_code = "not_authenticated"
    default_message = "请先登录。"


class PermissionDenied(DomainError):
    """The policy refused the action (无权限)."""

    status = 403
    default_code = "permission_denied"
    default_message = "您没有执行此操作的权限。"


class NotFound(DomainError):
    status = 404
    default_code = "not_found"
    default_message = "对象不存在或您无权查看。"


class Conflict(DomainError):
    """The object changed under us, or the request repeats one already done (冲突)."""

    status = 409
    default_code = "conflict"
    default_message = "数据已被他人修改，请刷新后重试。"


class InvalidTransition(Conflict):
    """The object is not in a state that allows this action (状态不允许)."""

    default_code = "invalid_transition"
    default_message = "当前状态不允许此操作。"


class Throttled(DomainError):
    status = 429
    default_code = "throttled"
    default_message = "操作过于频繁，请稍后再试。"
