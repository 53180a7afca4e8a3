"""The JSON API at /api/v1/: one NinjaAPI, one error format, token and session auth.

Routers live in the domain apps (``<app>/api.py``); this module only assembles them.
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer

from yiwang.accounts.api import router as accounts_router
from yiwang.accounts.api_auth import AUTH
from yiwang.cases.api import router as cases_router
from yiwang.cases.api_followups import router as followups_router
from yiwang.catalog.api import router as catalog_router
from yiwang.core.errors import DomainError
from yiwang.core.routers import router as audit_router
from yiwang.directory.api import router as directory_router
from yiwang.hotline.api import router as hotline_router
from yiwang.ratings.api import router as ratings_router
from yiwang.search.api import router as search_router
from yiwang.workdays.api import router as workdays_router

log = logging.getLogger("yiwang.api")


class Utf8JSONRenderer(JSONRenderer):
    """Chinese text as UTF-8, not \\u escapes."""

    json_dumps_params = {"ensure_ascii": False}


class YiwangAPI(NinjaAPI):
    """NinjaAPI whose schema documents 413 on every operation that takes a body (see ``on_body_too_large``)."""

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        too_large = {
            "description": "Payload Too Large",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
        }
        for operations in schema["paths"].values():
            for operation in operations.values():
                if "requestBody" in operation:
                    operation["responses"].setdefault(413, too_large)
        return schema


api = YiwangAPI(
    title="一网 yiwang API",
    version="1",
    description=(
        '一体化政务服务平台接口。错误统一为 `{"code", "message", "details"}`；`code` 为稳定的英文标识，'
        "`message` 为中文说明。认证：`Authorization: Bearer <token>`（POST /auth/token 获取）或浏览器会话（需 CSRF）。"
    ),
    auth=AUTH,
    renderer=Utf8JSONRenderer(),
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)

api.add_router("", accounts_router)
api.add_router("", directory_router)
api.add_router("/workdays", workdays_router)
api.add_router("/audit", audit_router)
api.add_router("/catalog", catalog_router)
api.add_router("/hotline", hotline_router)
api.add_router("", search_router)
api.add_router("", cases_router)
api.add_router("", followups_router)
api.add_router("/ratings", ratings_router)


def _error(request, status: int, code: str, message: str, details=None):
    return api.create_response(request, {"code": code, "message": message, "details": details}, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    details = [
        {"loc": [str(p) for p in e.get("loc", [])], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors
    ]
    return _error(request, 422, "validation_failed", "请求参数不正确。", details)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return _error(request, 401, "not_authenticated", "请先登录或提供有效的令牌。")


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, 404, "not_found", "对象不存在或您无权查看。")


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    codes = {
        400: "bad_request",
        401: "not_authenticated",
        403: "permission_denied",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "payload_too_large",
        429: "throttled",
    }
    return _error(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc.message))


@api.exception_handler(RequestDataTooBig)
def on_body_too_large(request, exc: RequestDataTooBig):
    # A body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused before it is read: bad input, not a server error.
    return _error(request, 413, "payload_too_large", "请求体过大。")


@api.exception_handler(OverflowError)
def on_overflow(request, exc: OverflowError):
    # A number beyond what the database stores (SQLite: 64-bit) is bad input, not a server error.
    return _error(request, 400, "value_out_of_range", "数值超出允许范围。")


@api.exception_handler(DataError)
def on_data_error(request, exc: DataError):
    # PostgreSQL rejects out-of-range numbers and NUL bytes in text: bad input, nothing was written.
    return _error(request, 400, "invalid_value", "请求中的数值或文本不合法。")


@api.exception_handler(Exception)
def on_unexpected(request, exc: Exception):
    if isinstance(exc, ValueError) and "NUL (0x00)" in str(exc):
        # psycopg refuses NUL characters in text parameters: bad input, nothing was written.
        return _error(request, 400, "invalid_value", "请求中的数值或文本不合法。")
    log.exception("unhandled API error")
    return _error(
        request,
        500,
        "internal_error",
        "服务器内部错误，请稍后再试。",
        {"request_id": getattr(request, "request_id", "")},
    )
