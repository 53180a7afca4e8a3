"""The document protocol (索引文档): what every source hands to the index builder. Pure.

A source is any iterable of :class:`SearchDocument`. Adapters turn the catalog's index dictionaries
(``yiwang.catalog.selectors.iter_index_documents``), bundles, departments, halls and knowledge-base
entries into documents; the index never imports a domain model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

KINDS = {
    "item": "办事事项",
    "bundle": "一件事",
    "department": "部门",
    "hall": "服务大厅",
    "faq": "常见问题",
    "knowledge": "知识库",
}
LEVEL_NAMES = {1: "省级", 2: "市级", 3: "县级", 4: "乡镇（街道）级", 5: "村（社区）级"}


@dataclass
class Action:
    """A direct action on a result card (在线办理, 预约, 查看指南)."""

    kind: str  # "apply" | "book" | "guide" | "open"
    label: str
    url: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "label": self.label, "url": self.url}


@dataclass
class SearchDocument:
    kind: str
    code: str
    title: str
    short_name: str = ""
    aliases: list[str] = field(default_factory=list)
    materials: list[str] = field(default_factory=list)
    guide: str = ""
    faq: str = ""
    department: str = ""
    department_id: int | None = None
    region_code: str = ""
    region_name: str = ""
    level: int = 0
    themes: list[str] = field(default_factory=list)
    service_objects: list[str] = field(default_factory=list)
    online: bool = False
    item_type: str = ""
    url: str = ""
    actions: list[Action] = field(default_factory=list)
    popularity: float = 0.0
    summary: str = ""

    @property
    def key(self) -> str:
        """Unique key in the index: ``item:11440000…``."""
        return f"{self.kind}:{self.code}"

    def card(self) -> dict[str, Any]:
        """What a result card shows (stored in the index beside the searchable fields).

        Items and bundles get their links and actions when shown (the portal's URLs may change);
        other kinds keep the ones their source gave.
        """
        linked = self.kind not in ("item", "bundle")
        return {
            "kind": self.kind,
            "code": self.code,
            "title": self.title,
            "short_name": self.short_name,
            "department": self.department,
            "region_code": self.region_code,
            "region_name": self.region_name,
            "level": self.level,
            "online": self.online,
            "item_type": self.item_type,
            "url": self.url if linked else "",
            "summary": self.summary,
            "themes": list(dict.fromkeys(self.themes)),  # for facet counts over the top results
            "audiences": list(dict.fromkeys(self.service_objects)),
            "actions": [a.as_dict() for a in self.actions] if linked else [],
        }


def _level_from_code(code: str) -> int:
    if not code or len(code) != 12:
        return 0
    if code[2:] == "0" * 10:
        return 1
    if code[4:] == "0" * 8:
        return 2
    if code[6:] == "0" * 6:
        return 3
    if code[9:] == "000":
        return 4
    return 5


def _summary(guide: str, limit: int = 90) -> str:
    flat = " ".join(guide.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def item_actions(*, code: str, online: bool, urls: Mapping[str, str]) -> list[Action]:
    actions = []
    if online and urls.get("apply"):
        actions.append(Action("apply", "在线办理", urls["apply"]))
    if urls.get("book"):
        actions.append(Action("book", "预约", urls["book"]))
    if urls.get("guide"):
        actions.append(Action("guide", "查看指南", urls["guide"]))
    return actions


def from_catalog_item(data: Mapping[str, Any], *, urls: Mapping[str, str] | None = None) -> SearchDocument:
    """Adapter for one dictionary of ``yiwang.catalog.selectors.iter_index_documents()``."""
    urls = dict(urls or {})
    code = str(data["code"])
    online = bool(data.get("online"))
    region_code = str(data.get("region_code") or "")
    guide = str(data.get("guide_text") or "")
    level = int(data.get("region_level") or 0) or _level_from_code(region_code)
    return SearchDocument(
        kind="item",
        code=code,
        title=str(data.get("name") or ""),
        short_name=str(data.get("short_name") or ""),
        aliases=[str(a) for a in data.get("aliases") or [] if a],
        materials=[str(m) for m in data.get("materials") or [] if m],
        guide=guide,
        faq=str(data.get("faq_text") or ""),
        department=str(data.get("department") or ""),
        department_id=data.get("department_id"),
        region_code=region_code,
        region_name=str(data.get("region") or ""),
        level=level,
        themes=[str(t) for t in data.get("themes") or [] if t],
        service_objects=[str(s) for s in data.get("service_objects") or [] if s],
        online=online,
        item_type=str(data.get("item_type_name") or data.get("item_type") or ""),
        url=urls.get("guide", ""),
        actions=item_actions(code=code, online=online, urls=urls),
        popularity=float(data.get("popularity") or 0.0),
        summary=_summary(guide),
    )


def from_catalog_bundle(data: Mapping[str, Any], *, urls: Mapping[str, str] | None = None) -> SearchDocument:
    """Adapter for ``yiwang.catalog.selectors.iter_bundle_index_documents()``."""
    urls = dict(urls or {})
    region_code = str(data.get("region_code") or "")
    description = str(data.get("description") or "")
    actions = []
    if urls.get("apply"):
        actions.append(Action("apply", "在线办理", urls["apply"]))
    if urls.get("guide"):
        actions.append(Action("guide", "查看指南", urls["guide"]))
    audience = data.get("audience")
    return SearchDocument(
        kind="bundle",
        code=str(data["code"]),
        title=str(data.get("name") or ""),
        aliases=[str(n) for n in data.get("item_names") or [] if n],
        guide=str(data.get("guide_text") or description),
        department=str(data.get("department") or ""),
        region_code=region_code,
        region_name=str(data.get("region") or ""),
        level=_level_from_code(region_code),
        themes=[str(t) for t in [data.get("stage")] if t],
        service_objects=[str(audience)] if audience else [],
        online=bool(urls.get("apply")),
        item_type="一件事",
        url=urls.get("guide", ""),
        actions=actions,
        summary=_summary(description),
    )
