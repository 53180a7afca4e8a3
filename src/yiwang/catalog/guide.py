"""办事指南 — the public guide of one version, as display values (labels translated, codes named).

Views and the print/PDF renderings use :func:`guide`; it holds no ORM queries beyond what the version has.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from . import codes
from .elements import ItemElements
from .models import ServiceItemVersion


def _name(table: dict, key: Any) -> str:
    value = table.get(key)
    return _(value) if value else str(key)


def limit_text(days: int | None, unit: str) -> str:
    if days is None:
        return _("法律未规定")
    if days == 0:
        return _("即办")
    return f"{days} {_(codes.TIME_UNIT_NAMES.get(unit, unit))}"


def _days(value: Decimal) -> str:
    text = f"{value.normalize():f}" if value else "0"
    return text


@dataclass
class Guide:
    version: ServiceItemVersion
    e: ItemElements
    item_type: str
    legal_limit: str
    promised_limit: str
    handling_type: str
    online_depth: str
    handling_forms: list[str]
    service_objects: list[str]
    cross_scope: str
    deliveries: list[str]
    result_type: str
    materials: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    flags: list[tuple[str, bool]]
    use_levels: list[str]


def guide(version: ServiceItemVersion) -> Guide:
    e = version.data
    materials = [
        {
            "m": m,
            "type": _name(codes.MATERIAL_TYPE_NAMES, m.type),
            "source": _name(codes.MATERIAL_SOURCE_NAMES, m.source),
            "necessity": _name(codes.NECESSITY_NAMES, m.necessity),
            "format": _name(codes.MATERIAL_FORMAT_NAMES, m.format),
            "licence": _(codes.LICENCE_TYPES[m.licence_type]) if m.licence_type in codes.LICENCE_TYPES else "",
        }
        for m in e.materials
    ]
    steps = [{"s": s, "name": s.name or _name(codes.STEP_KIND_NAMES, s.kind), "days": _days(s.days)} for s in e.steps]
    return Guide(
        version=version,
        e=e,
        item_type=_name(codes.item_types(), e.item_type),
        legal_limit=limit_text(e.legal_limit, e.legal_limit_unit),
        promised_limit=limit_text(e.promised_limit, e.promised_limit_unit),
        handling_type=_name(codes.HANDLING_TYPE_NAMES, e.handling_type),
        online_depth=_name(codes.ONLINE_DEPTH_NAMES, e.online_depth),
        handling_forms=[_name(codes.HANDLING_FORM_NAMES, f) for f in e.handling_forms],
        service_objects=[_name(codes.SERVICE_OBJECTS, o) for o in e.service_objects],
        cross_scope=_name(codes.CROSS_SCOPE_NAMES, e.cross_scope),
        deliveries=[_name(codes.DELIVERY_NAMES, d) for d in e.result.delivery],
        result_type=_name(codes.RESULT_TYPE_NAMES, e.result.type),
        materials=materials,
        steps=steps,
        flags=[
            (_("网上办理"), e.is_online),
            (_("物流快递"), e.is_express),
            (_("预约办理"), e.is_appointment),
            (_("网上支付"), e.is_pay_online),
            (_("进驻政务大厅"), e.in_hall),
            (_("自助终端办理"), e.self_service),
        ],
        use_levels=[_name(codes.USE_LEVELS, lv) for lv in e.use_levels],
    )
