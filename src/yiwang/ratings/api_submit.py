"""POST /api/v1/ratings/invitations/<token>/rating without the Ninja machinery (decision 0008).

The busiest endpoint of the platform — thousands of citizens' ratings a second — is routed here before
the API's URL patterns (``yiwang.urls``): resolving it among the API's patterns and running Ninja's
parameter and response models cost more CPU than writing the rating. This view accepts exactly what
:class:`yiwang.ratings.api.RatingIn` accepts in its plain JSON form and answers exactly what the Ninja
operation answers (same body, status and error format); any other request — another method, a body that
is not a plain JSON object of the expected types, a session, a bearer token or an evaluator key — is
handed to the Ninja operation unchanged, so validation errors, authentication and the OpenAPI description
stay the API's.
"""

from __future__ import annotations

import functools
import json

from django.conf import settings
from django.db import DataError
from django.http import HttpResponse
from django.urls import URLResolver
from django.urls.resolvers import RegexPattern
from django.views.decorators.csrf import csrf_exempt

from yiwang.core.errors import DomainError

from . import scale, services
from .api import _device

# field → (type, maximum length); the constraints of RatingIn
_STRINGS = {"channel": 12, "text": 500, "contact_name": 100, "contact_phone": 20}
_FIELDS = {"level", "indicators", "reasons", "anonymous", *_STRINGS}
_CONTENT_TYPE = "application/json; charset=utf-8"


def _payload(body: bytes) -> dict | None:
    """The submission as keyword arguments when the body is plainly valid, else None (Ninja decides)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        return None
    if not isinstance(data, dict) or not set(data) <= _FIELDS:
        return None
    level = data.get("level")
    if type(level) is not int or not 1 <= level <= 5:
        return None
    out = {"level": level, "channel": "qr", "indicators": {}, "reasons": [], "text": "", "anonymous": False}
    out.update({"contact_name": "", "contact_phone": ""})
    for name, limit in _STRINGS.items():
        if name in data:
            value = data[name]
            if type(value) is not str or len(value) > limit:
                return None
            out[name] = value
    if "anonymous" in data:
        if type(data["anonymous"]) is not bool:
            return None
        out["anonymous"] = data["anonymous"]
    if "indicators" in data:
        indicators = data["indicators"]
        if type(indicators) is not dict or any(type(v) is not int for v in indicators.values()):
            return None
        out["indicators"] = indicators
    if "reasons" in data:
        reasons = data["reasons"]
        if type(reasons) is not list or len(reasons) > 10 or any(type(r) is not str for r in reasons):
            return None
        out["reasons"] = reasons
    return out


@functools.cache
def _api_resolver() -> URLResolver:
    from yiwang.api import api

    patterns, app_name, namespace = api.urls
    return URLResolver(RegexPattern(r"^/api/v1/"), patterns, app_name=app_name, namespace=namespace)


def _ninja(request, token: str):
    match = _api_resolver().resolve(request.path_info)
    request.resolver_match = match
    return match.func(request, *match.args, **match.kwargs)


def _json(data: dict, status: int) -> HttpResponse:
    return HttpResponse(json.dumps(data, ensure_ascii=False), status=status, content_type=_CONTENT_TYPE)


def _error(status: int, code: str, message: str, details=None) -> tuple[int, dict]:
    return status, {"code": code, "message": message, "details": details}


def outcome(*, token: str, payload: dict, device: str) -> tuple[int, dict]:
    """(status, body) of an anonymous plain submission — exactly what the Ninja operation and its
    exception handlers (``yiwang.api``) answer, for this view and for the WSGI route (decision 0014)."""
    try:
        rating = services.rating_submit_answer(token=token, actor=None, device=device, evaluator_device=None, **payload)
    except DomainError as exc:
        return exc.status, exc.as_dict()
    except OverflowError:
        return _error(400, "value_out_of_range", "数值超出允许范围。")
    except DataError:
        return _error(400, "invalid_value", "请求中的数值或文本不合法。")
    except ValueError as exc:
        if "NUL (0x00)" not in str(exc):
            raise
        return _error(400, "invalid_value", "请求中的数值或文本不合法。")
    return 201, {
        "id": rating.pk,
        "kind": rating.kind,
        "level": rating.level,
        "level_label": str(scale.Level(rating.level).label),
        "bad": rating.is_bad,
        "follow_up_token": rating.follow_up_token,
    }


def eligible(*, method: str, content_type: str, meta, has_session: bool) -> bool:
    """Whether a request may skip the Ninja operation (before its body is looked at)."""
    return (
        method == "POST"
        and "HTTP_X_EVALUATOR_KEY" not in meta
        and "HTTP_AUTHORIZATION" not in meta
        and not has_session
        and content_type.startswith("application/json")
    )


@csrf_exempt
def submit(request, token: str):
    meta = request.META
    if not eligible(
        method=request.method,
        content_type=meta.get("CONTENT_TYPE", ""),
        meta=meta,
        has_session=settings.SESSION_COOKIE_NAME in request.COOKIES,
    ):
        return _ninja(request, token)
    payload = _payload(request.body)
    if payload is None:
        return _ninja(request, token)
    status, body = outcome(token=token, payload=payload, device=_device(request))
    return _json(body, status)
