"""Open311 GeoReport v2 facade at ``/open311/v2/`` (anchors.md §2.4, the frozen spec).

Discovery, services (our 中类 categories, grouped by 大类), service definitions, POST requests (``api_key``),
tokens, GET requests with the spec's filters and request by id — in XML (required by the spec) and JSON
(the "Spark convention" mapping), chosen by the ``.xml``/``.json`` suffix. Errors are
``errors → error{code, description}`` with the HTTP status as the code.

Requests become work orders through the same action as every other channel (``channel=open311``), acting
as the system on behalf of the registered :class:`Open311Client`. Confidential orders never appear; ID and
mobile numbers in descriptions are masked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import xml.etree.ElementTree as ET
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from yiwang.core import audit
from yiwang.core.actions import action
from yiwang.core.actors import SystemActor
from yiwang.core.errors import DomainError
from yiwang.core.ids import mask_identifiers_in_text
from yiwang.core.permissions import policy
from yiwang.directory.models import Region

from . import services, text
from .models import Category, Open311Client, WorkOrder
from .transitions import OPEN_STATES, State

SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-01-01T00:00:00+08:00"
MAX_WINDOW_DAYS = 90
MAX_REQUESTS = 1000
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")

KIND_VALUES = [(k.value, k.label) for k in WorkOrder.Kind]
URGENCY_VALUES = [(u.value, u.label) for u in WorkOrder.Urgency]


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


# --- rendering ----------------------------------------------------------------------------------------
def _xml_value(parent: ET.Element, key: str, value: Any, item_names: dict[str, str]) -> None:
    node = ET.SubElement(parent, key)
    if isinstance(value, list):
        child = item_names.get(key, key.rstrip("s"))
        for item in value:
            if isinstance(item, dict):
                sub = ET.SubElement(node, child)
                for k, v in item.items():
                    _xml_value(sub, k, v, item_names)
            else:
                ET.SubElement(node, child).text = _scalar(item)
    elif isinstance(value, dict):
        for k, v in value.items():
            _xml_value(node, k, v, item_names)
    else:
        node.text = _scalar(value)


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


def render(fmt: str, data: Any, *, root: str, item: str | None = None, status: int = 200) -> HttpResponse:
    """JSON (Spark convention: lists of objects) or XML (``<root><item>…</item></root>``)."""
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False, default=str)
        return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
    top = ET.Element(root)
    rows = data if isinstance(data, list) else [data]
    for row in rows:
        parent = ET.SubElement(top, item) if item else top
        for key, value in row.items():
            _xml_value(parent, key, value, ITEMS)
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")
    return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")


def error(fmt: str, status: int, description: str) -> HttpResponse:
    return render(fmt, [{"code": status, "description": description}], root="errors", item="error", status=status)


def endpoint(view):
    """Parse the format suffix, check the jurisdiction, turn :class:`Open311Error` into the spec's errors."""

    def wrapper(request: HttpRequest, *args, fmt: str, **kwargs) -> HttpResponse:
        if fmt not in ("json", "xml"):
            return error("xml", 404, f"format not supported: {fmt}")
        data = request.POST if request.method == "POST" else request.GET
        jurisdiction = data.get("jurisdiction_id")
        if jurisdiction and jurisdiction != settings.OPEN311_JURISDICTION:
            return error(fmt, 404, f"jurisdiction_id not found: {jurisdiction}")
        try:
            return view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as exc:
            return error(fmt, exc.status, exc.description)
        except DomainError as exc:
            return error(fmt, 400 if exc.status in (409, 422) else exc.status, f"{exc.code}: {exc.message}")

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return csrf_exempt(require_http_methods(["GET", "POST"] if view.__name__ == "requests_view" else ["GET"])(wrapper))


# --- clients and keys ---------------------------------------------------------------------------------
def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@action
def client_create(*, actor: Any, name: str, region_code: str) -> tuple[Open311Client, str]:
    """Register a partner system; returns the client and its api_key (shown once, only the hash is kept)."""
    policy.require(actor, "hotline.rules.manage", region_code)
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        raise services.ValidationFailed("区划不存在。", code="invalid_region")
    key = "o311_" + secrets.token_urlsafe(24)
    client = Open311Client.objects.create(name=name[:100], prefix=key[:12], key_hash=_hash(key), region=region)
    audit.record(
        actor=actor,
        action="hotline.open311.client_create",
        obj=client,
        region_code=region.code,
        summary={"name": client.name},
    )
    return client, key


def client_for(api_key: str) -> Open311Client | None:
    if not api_key:
        return None
    return Open311Client.objects.filter(key_hash=_hash(api_key), is_active=True).select_related("region").first()


# --- services ------------------------------------------------------------------------------------------
def _services() -> list[Category]:
    return list(
        Category.objects.filter(level=2, is_active=True)
        .select_related("parent")
        .prefetch_related("children")
        .order_by("code")
    )


def _service(category: Category) -> dict[str, Any]:
    keywords = ",".join(c.name for c in category.children.all() if c.is_active)
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": f"{category.path}：{keywords}" if keywords else category.path,
        "metadata": True,
        "type": "realtime",
        "keywords": keywords,
        "group": category.parent.name if category.parent else "",
    }


def _definition(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": "kind",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": "诉求类型（默认：投诉）",
                "order": 1,
                "description": "诉求类型",
                "values": [{"key": k, "name": n} for k, n in KIND_VALUES],
            },
            {
                "variable": True,
                "code": "urgency",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": "紧急程度（默认：一般）",
                "order": 2,
                "description": "紧急程度",
                "values": [{"key": k, "name": n} for k, n in URGENCY_VALUES],
            },
            {
                "variable": True,
                "code": "title",
                "datatype": "string",
                "required": False,
                "datatype_description": "不超过200字",
                "order": 3,
                "description": "诉求主题",
                "values": [],
            },
        ],
    }


def _category(code: str) -> Category:
    category = Category.objects.filter(code=code.replace("\x00", ""), is_active=True).select_related("parent").first()
    if category is None:
        raise Open311Error(404, f"service_code not found: {code}")
    return category


# --- requests ------------------------------------------------------------------------------------------
def _iso(value: dt.datetime | None) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


def _mask(value: str) -> str:
    return _MOBILE.sub(r"\1****\2", mask_identifiers_in_text(value or ""))


def _status_notes(order: WorkOrder) -> str:
    note = order.get_status_display()
    if order.status in (State.ANSWERED, State.CLOSED, State.VISITING, State.REFUSED) and order.reply:
        note = f"{note}：{_mask(order.reply)[:500]}"
    if order.status == State.MERGED and order.merged_into_id:
        note = f"{note}（并入 {order.merged_into.number}）"
    return note


def request_row(order: WorkOrder) -> dict[str, Any]:
    closed = order.status not in OPEN_STATES
    return {
        "service_request_id": order.number,
        "status": "closed" if closed else "open",
        "status_notes": _status_notes(order),
        "service_name": order.category.name if order.category_id else "",
        "service_code": order.category.code if order.category_id else order.service_code,
        "description": _mask(order.content)[:4000],
        "agency_responsible": order.department.name if order.department_id else "",
        "service_notice": "",
        "requested_datetime": _iso(order.created_at),
        "updated_datetime": _iso(order.updated_at),
        "expected_datetime": _iso(order.handle_due_at),
        "address": order.address or (order.region.full_name or order.region.name),
        "address_id": order.region_id,
        "zipcode": "",
        "lat": str(order.latitude) if order.latitude is not None else "",
        "long": str(order.longitude) if order.longitude is not None else "",
        "media_url": order.media_url,
    }


def _public() -> Any:
    return (
        WorkOrder.objects.filter(is_confidential=False)
        .exclude(number=None)
        .select_related("category", "department", "region", "merged_into")
    )


def _when(value: str, name: str) -> dt.datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise Open311Error(400, f"{name} must be a W3C datetime, e.g. 2026-03-01T00:00:00+08:00")
        parsed = dt.datetime.combine(day, dt.time.min)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.replace("\x00", "").split(",") if v.strip()][:MAX_REQUESTS]


def _list_requests(params) -> list[dict[str, Any]]:
    qs = _public()
    ids = _split(params.get("service_request_id", ""))
    if ids:  # overrides every other parameter
        return [request_row(o) for o in qs.filter(number__in=ids).order_by("-created_at")[:MAX_REQUESTS]]
    now = timezone.now()
    end = _when(params["end_date"], "end_date") if params.get("end_date") else None
    start = _when(params["start_date"], "start_date") if params.get("start_date") else None
    if start and end and end < start:
        raise Open311Error(400, "end_date is before start_date")
    if start and end and end - start > dt.timedelta(days=MAX_WINDOW_DAYS):
        raise Open311Error(400, f"the date range may span at most {MAX_WINDOW_DAYS} days")
    if start is None:
        start = (end or now) - dt.timedelta(days=MAX_WINDOW_DAYS)
    qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lte=end)
    codes = _split(params.get("service_code", ""))
    if codes:
        qs = qs.filter(Q(category__code__in=codes) | Q(category__parent__code__in=codes) | Q(service_code__in=codes))
    status = params.get("status", "")
    if status:
        wanted = set(_split(status))
        if not wanted <= {"open", "closed"}:
            raise Open311Error(400, "status must be open or closed")
        if wanted == {"open"}:
            qs = qs.filter(status__in=[s.value for s in OPEN_STATES])
        elif wanted == {"closed"}:
            qs = qs.exclude(status__in=[s.value for s in OPEN_STATES])
    return [request_row(o) for o in qs.order_by("-created_at")[:MAX_REQUESTS]]


def _decimal(value: str, name: str, low: int, high: int) -> Decimal:
    try:
        number = Decimal(value.strip())
    except (InvalidOperation, AttributeError):
        raise Open311Error(400, f"{name} must be a decimal number") from None
    if not number.is_finite() or not low <= number <= high:
        raise Open311Error(400, f"{name} is out of range")
    return number.quantize(Decimal("0.000001"))


def _attributes(post) -> dict[str, str]:
    result = {}
    for key in post:
        match = re.fullmatch(r"attribute\[([^\]]+)\](\[\])?", key)
        if match:
            result[match.group(1)] = post.get(key, "")
    return result


def _create(post, client: Open311Client) -> WorkOrder:
    code = post.get("service_code", "")
    if not code:
        raise Open311Error(400, "service_code is required")
    category = _category(code)
    lat, lon = post.get("lat", ""), post.get("long", "")
    address = text.clean(post.get("address_string", ""))[:300]
    address_id = post.get("address_id", "").replace("\x00", "").strip()
    if not ((lat and lon) or address or address_id):
        raise Open311Error(400, "a location is required: lat and long, address_string or address_id")
    latitude = _decimal(lat, "lat", -90, 90) if lat else None
    longitude = _decimal(lon, "long", -180, 180) if lon else None
    region_code = client.region_id
    if address_id:
        if not Region.objects.filter(code=address_id, is_active=True).exists():
            raise Open311Error(400, f"address_id is not a known region code: {address_id}")
        region_code = address_id
    description = text.clean(post.get("description", ""))
    if len(description) > 4000:
        raise Open311Error(400, "description may have at most 4000 characters")
    attrs = _attributes(post)
    kind = attrs.get("kind") or WorkOrder.Kind.COMPLAINT
    urgency = attrs.get("urgency") or WorkOrder.Urgency.NORMAL
    if kind not in WorkOrder.Kind.values:
        raise Open311Error(400, f"attribute[kind] must be one of {', '.join(WorkOrder.Kind.values)}")
    if urgency not in WorkOrder.Urgency.values:
        raise Open311Error(400, f"attribute[urgency] must be one of {', '.join(WorkOrder.Urgency.values)}")
    title = text.clean(attrs.get("title", ""))[:200] or f"{category.name}：{description[:30]}".rstrip("：")
    name = f"{post.get('last_name', '')}{post.get('first_name', '')}".strip()[:100]
    media_url = post.get("media_url", "").strip()[:500]
    if media_url and not re.match(r"^https?://", media_url):
        raise Open311Error(400, "media_url must be an http(s) URL")
    email = post.get("email", "").strip()[:254]
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise Open311Error(400, "email is not valid")
    return services.order_create(
        actor=SystemActor(f"open311:{client.name}"),
        channel=WorkOrder.Channel.OPEN311,
        title=title,
        content=description or category.path,
        region_code=region_code,
        kind=kind,
        urgency=urgency,
        address=address,
        caller_name=name,
        caller_phone=re.sub(r"[^0-9+\-() ]", "", post.get("phone", ""))[:30],
        category_code=category.code,
        latitude=latitude,
        longitude=longitude,
        open311={
            "service_code": category.code,
            "media_url": media_url,
            "account_id": post.get("account_id", "")[:100],
            "device_id": post.get("device_id", "")[:100],
            "email": email,
            "open311_client": client,
        },
    )


# --- views ---------------------------------------------------------------------------------------------
@endpoint
def discovery(request, *, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": fmt})).rsplit("/", 1)[0] + "/"
    data = {
        "changeset": CHANGESET,
        "contact": "12345政务服务便民热线",
        "key_service": "向12345热线管理机构申请 api_key（yiwang hotline open311-client NAME --region CODE）",
        "endpoints": [
            {
                "specification": SPEC,
                "url": base,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(fmt, data, root="discovery")


@endpoint
def services_view(request, *, fmt: str) -> HttpResponse:
    return render(fmt, [_service(c) for c in _services()], root="services", item="service")


@endpoint
def service_definition(request, code: str, *, fmt: str) -> HttpResponse:
    return render(fmt, _definition(_category(code)), root="service_definition")


@endpoint
def requests_view(request, *, fmt: str) -> HttpResponse:
    if request.method == "POST":
        client = client_for(request.POST.get("api_key", ""))
        if client is None:
            raise Open311Error(403, "api_key is missing or not valid")
        order = _create(request.POST, client)
        row = {
            "service_request_id": order.number,
            "token": order.open311_token,
            "service_notice": f"已受理，工单编号 {order.number}；办理时限以派单后通知为准。",
            "account_id": order.account_id,
        }
        return render(fmt, [row], root="service_requests", item="request", status=201)
    return render(fmt, _list_requests(request.GET), root="service_requests", item="request")


@endpoint
def request_detail(request, request_id: str, *, fmt: str) -> HttpResponse:
    order = _public().filter(number=request_id.replace("\x00", "")).first()
    if order is None:
        raise Open311Error(404, f"service_request_id not found: {request_id}")
    return render(fmt, [request_row(order)], root="service_requests", item="request")


@endpoint
def token_detail(request, token: str, *, fmt: str) -> HttpResponse:
    order = WorkOrder.objects.filter(open311_token=token.replace("\x00", "")).exclude(number=None).first()
    if order is None:
        raise Open311Error(404, f"token not found: {token}")
    return render(fmt, [{"service_request_id": order.number, "token": token}], root="service_requests", item="request")


app_name = "open311"
FMT = "<str:fmt>"
urlpatterns = [
    path(f"discovery.{FMT}", discovery, name="discovery"),
    path(f"services.{FMT}", services_view, name="services"),
    path(f"services/<str:code>.{FMT}", service_definition, name="service"),
    path(f"requests.{FMT}", requests_view, name="requests"),
    path(f"requests/<str:request_id>.{FMT}", request_detail, name="request"),
    path(f"tokens/<str:token>.{FMT}", token_detail, name="token"),
]
