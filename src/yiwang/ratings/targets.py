"""评价对象 — a small registry of what can be rated.

A target type turns ``(kind, id)`` into a :class:`Target`: who served (staff), where (window, hall), who is
responsible (department), for what (item), in which region, whom (the applicant) and whether — and when —
the service happened. Ratings never look at cases, contacts or work orders directly, so a new kind of
service becomes rateable by registering one more type:

- ``contact`` — a window service contact (现场服务，一次一评), built into this app;
- ``case`` — a case (网上服务，一事一评), registered when the cases app has its model;
- ``bundle`` — a 一件事 application (一件事一次评价), rated once as a whole when it concluded;
- ``workorder`` — a 12345 work order, registered when the hotline app has its model.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from yiwang.core import crypto
from yiwang.core.errors import NotFound, ValidationFailed

from .scale import Mode


@dataclass(frozen=True, slots=True)
class Target:
    kind: str
    id: str
    label: str
    mode: Mode
    served_at: dt.datetime | None  # None = the service has not happened yet
    state: str  # e.g. "ended", "completed", "in_progress" (评价时办件状态)
    region_code: str
    department_id: int | None = None
    hall_id: int | None = None
    window_id: int | None = None
    staff_id: int | None = None
    item_code: str = ""
    item_name: str = ""
    person_id: int | None = None  # the applicant (服务对象), when known
    phone: str = ""  # the applicant's mobile number for an SMS invitation, when known

    @property
    def is_served(self) -> bool:
        return self.served_at is not None


class TargetType(Protocol):
    kind: str
    label: str

    def get(self, target_id: str) -> Target:
        """The target, or :class:`NotFound`."""


_registry: dict[str, TargetType] = {}


def register(target_type: TargetType) -> TargetType:
    _registry[target_type.kind] = target_type
    return target_type


def unregister(kind: str) -> None:
    _registry.pop(kind, None)


def kinds() -> list[str]:
    return sorted(_registry)


def labels() -> dict[str, str]:
    return {kind: t.label for kind, t in sorted(_registry.items())}


def get_type(kind: str) -> TargetType:
    try:
        return _registry[kind]
    except KeyError:
        raise ValidationFailed(
            "不支持的评价对象类型。", code="rating_target_kind_invalid", details={"kind": kind}
        ) from None


def resolve(kind: str, target_id: str | int) -> Target:
    return get_type(kind).get(str(target_id))


# --- the window service contact --------------------------------------------------------------------
class ContactTarget:
    kind = "contact"
    label = "窗口服务"

    def get(self, target_id: str) -> Target:
        from .models import ServiceContact

        if not str(target_id).isdigit():
            raise NotFound()
        contact = ServiceContact.objects.select_related("window", "hall").filter(pk=int(target_id)).first()
        if contact is None:
            raise NotFound()
        return contact_target(contact)


def contact_target(contact) -> Target:
    window = contact.window
    label = f"{contact.hall.name} {window.number}号窗口"
    if contact.item_name:
        label += f" · {contact.item_name}"
    return Target(
        kind="contact",
        id=str(contact.pk),
        label=label,
        mode=Mode.ONSITE,
        served_at=contact.ended_at,
        state="ended" if contact.ended_at else "in_service",
        region_code=contact.region_code,
        department_id=contact.department_id,
        hall_id=contact.hall_id,
        window_id=contact.window_id,
        staff_id=contact.staff_id,
        item_code=contact.item_code,
        item_name=contact.item_name,
        person_id=contact.person_id,
        phone=crypto.decrypt(contact.phone_encrypted) if contact.phone_encrypted else "",
    )


register(ContactTarget())
