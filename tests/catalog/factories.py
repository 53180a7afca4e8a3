"""Factories for catalog tests: a complete, rule-passing element set and published items."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from yiwang.catalog import services
from yiwang.catalog.models import CatalogItem, ServiceItem
from yiwang.core.actors import SystemActor
from yiwang.directory.models import Department

SYSTEM = SystemActor("test")
_serial = itertools.count(1)

COMPLETE: dict[str, Any] = {
    "name": "食品经营许可证核发",
    "short_name": "食品经营许可",
    "aliases": ["开餐馆许可", "餐饮许可证"],
    "item_type": "01",
    "legal_limit": 20,
    "legal_limit_unit": "workday",
    "promised_limit": 5,
    "promised_limit_unit": "workday",
    "handling_type": "promised",
    "visits": 0,
    "online_depth": 4,
    "handling_forms": ["window", "online", "post"],
    "is_online": True,
    "is_express": True,
    "is_appointment": True,
    "conditions": [{"text": "申请人应取得营业执照等合法主体资格。"}],
    "steps": [
        {"kind": "accept", "days": "1"},
        {"kind": "review", "days": "2"},
        {"kind": "decide", "days": "1"},
        {"kind": "certify", "days": "0.5"},
        {"kind": "deliver", "days": "0.5"},
    ],
    "materials": [
        {"name": "食品经营许可申请书", "type": "form", "blank_form": "/static/forms/food.docx"},
        {"name": "营业执照", "type": "certificate", "source": "government", "licence_type": "business_licence"},
        {"name": "法定代表人身份证", "type": "certificate", "licence_type": "resident_id", "copies": 1},
        {"name": "食品安全管理制度", "necessity": "deferrable"},
    ],
    "fees": [],
    "result": {
        "name": "食品经营许可证",
        "type": "certificate",
        "sample": "/static/samples/food.pdf",
        "delivery": ["window", "post"],
    },
    "faq": [{"question": "食品经营许可证有效期多久？", "answer": "有效期为5年。"}],
    "cross_scope": "3",
    "service_objects": ["1", "2"],
    "personal_themes": ["就业创业"],
    "corporate_themes": ["准营准办"],
    "places": [{"name": "市民服务中心", "address": "示范市人民路1号", "hours": "周一至周五 9:00-17:00"}],
    "consult_phone": "0755-12345678",
    "complain_phone": "0755-12345",
    "form": {
        "fields": [
            {"name": "shop_name", "label": "店铺名称", "type": "text", "required": True, "max_length": 50},
            {"name": "area", "label": "经营面积（平方米）", "type": "number", "min": "1", "max": "100000"},
            {
                "name": "category",
                "label": "经营项目",
                "type": "select",
                "options": ["热食类", "冷食类"],
                "required": True,
            },
        ]
    },
}


def elements(**overrides: Any) -> dict[str, Any]:
    data = copy.deepcopy(COMPLETE)
    data.update(overrides)
    return data


def catalog_item(*, item_type: str = "01", code: str | None = None, **fields: Any) -> CatalogItem:
    return services.catalog_item_create(
        actor=SYSTEM,
        code=code or f"T{next(_serial):011d}",
        name=fields.pop("name", "测试目录事项"),
        item_type=item_type,
        **fields,
    )


def draft_item(*, department: Department, code: str | None = None, **overrides: Any) -> ServiceItem:
    data = elements(**overrides)
    cat = catalog_item(item_type=data["item_type"], name=data["name"])
    return services.item_create(
        actor=SYSTEM,
        code=code or f"11440106TEST{next(_serial):08d}",
        catalog_item=cat,
        department=department,
        elements=data,
    )


def published_item(*, department: Department, code: str | None = None, **overrides: Any) -> ServiceItem:
    item = draft_item(department=department, code=code, **overrides)
    services.item_publish(actor=SYSTEM, item=item)
    item.refresh_from_db()
    return item
