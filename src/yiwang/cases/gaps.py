"""容缺受理 and 告知承诺制 — accepting on a signed commitment.

**容缺受理** (accept with a non-essential gap, domain-cn §3.5): only materials marked 容缺后补 in the item
version may be missing. The applicant signs a 容缺受理信用承诺书 — at the window (the clerk records the
signature) or beforehand online (:func:`gap_pledge_sign`) — naming the materials and the date by which
they will be supplied; the clerk accepts (:func:`case_accept_with_gaps`) and the case proceeds. The
applicant supplies each material later (:func:`gap_supply`); the handler checks it (:func:`gap_check`).
No approval is given while a 容缺 material is outstanding (guard). When the due date passes
(:func:`gaps_sweep`, daily) the case is flagged, the handler warned and the configured consequence follows:
``suspend`` — returned for 补正 with the clock stopped — or ``revoke`` — 不予许可 — with notice, and a
credit record (未履行承诺).

**告知承诺制** (commitment instead of proof): for materials marked 可告知承诺替代 (or every material of an
item marked 告知承诺制事项) the applicant signs a 告知承诺书 instead (:func:`case_pledge`); the material
counts as provided. On acceptance a 核查 task is created for the department with a deadline
(:class:`Verification`); its outcome (:func:`verification_record`) is 属实, or 承诺不实 → a credit record
(虚假承诺) and, when the permit was granted, the revocation procedure (:func:`revocation_decide`);
before the decision the case is refused.

A subject with a credit record in force may use neither (``credit_restricted``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.utils import timezone

from yiwang.catalog.codes import Necessity, StepKind
from yiwang.core.actions import action, lock
from yiwang.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from yiwang.core.permissions import policy
from yiwang.workdays.calendar import get_calendar
from yiwang.workdays.engine import Unit

from . import agents, clock, documents, events, notify
from . import followup_rules as fr
from .models import Case, CaseDocument, CaseFile, CaseMaterial, Commitment, CreditRecord, Revocation, Verification
from .states import Action, Party, State

events.labels(
    {
        "gap_pledge": "签署容缺受理信用承诺书",
        "gap_accept": "容缺受理",
        "gap_supply": "补交容缺材料",
        "gap_check": "核验容缺材料",
        "gap_warn": "容缺材料即将到期",
        "gap_overdue": "容缺材料逾期未补",
        "pledge": "签署告知承诺书",
        "verify": "告知承诺核查",
        "verify_overdue": "核查逾期",
        "revocation_notice": "撤销告知",
        "revocation_statement": "陈述申辩",
        "revoked": "撤销许可",
        "revocation_dropped": "不予撤销",
    }
)

GAP_TEXT = (
    "本人（单位）申请办理「{item}」，{materials}暂缺，申请容缺受理。本人（单位）郑重承诺：在{due}前补齐上述材料，"
    "并对所提交材料的真实性负责。逾期未补齐的，同意行政机关{consequence}，并依法记入信用记录。"
)
PLEDGE_TEXT = (
    "本人（单位）申请办理「{item}」，就以下证明事项作出承诺：本人（单位）已经知晓行政机关告知的全部内容，"
    "符合告知的条件、标准和要求，愿意承担不实承诺的法律责任。行政机关将依法进行核查，"
    "承诺不实的，同意行政机关依法撤销相关决定，并记入信用记录。"
)
CONSEQUENCE_TEXT = {
    "suspend": "中止办理（退回补正，停止计时）",
    "revoke": "终止办理并不予许可",
}


def gap_due_workdays() -> int:
    return int(getattr(settings, "CASE_GAP_DUE_WORKDAYS", 10))


def gap_default_consequence() -> str:
    return str(getattr(settings, "CASE_GAP_CONSEQUENCE", "suspend"))


def gap_warn_days() -> int:
    return int(getattr(settings, "CASE_GAP_WARN_DAYS", 2))


def verification_workdays() -> int:
    return int(getattr(settings, "CASE_VERIFICATION_WORKDAYS", 20))


def credit_days(kind: str) -> int:
    return {"false": 3 * 365, "unfulfilled": 365}[kind]


def require_signer(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("请由申请人（或其授权经办人）签名。", code="signature_required")
    if len(name) > 100:
        raise ValidationFailed("签名过长。", code="text_too_long")
    return name


def active_credit_records(subject: Any, *, on: dt.date | None = None):
    on = on or clock.today()
    return CreditRecord.objects.filter(subject_id=subject.pk, valid_until__gte=on, repaired_at__isnull=True)


def require_good_credit(subject: Any) -> None:
    """失信主体不适用容缺受理和告知承诺制."""
    record = active_credit_records(subject).first()
    if record is not None:
        raise PermissionDenied(
            f"申请人存在失信记录（{record.get_kind_display()}，至{record.valid_until:%Y-%m-%d}），"
            "不适用容缺受理或告知承诺制，请提交完整材料。",
            code="credit_restricted",
            details={"credit_record_id": record.pk},
        )


def _services():
    from . import services

    return services


def _locked(actor: Any, case_id: int) -> Case:
    return _services()._get_locked(actor, case_id)


def _record(case: Case, act: str, actor: Any, note: str = "", *, public: bool = True, data=None) -> None:
    _services()._record(case, act, actor=actor, before=case.state, note=note, data=data or {}, public=public)


def _parties(actor: Any, case: Case):
    from . import rules

    return rules.parties(actor, case)


def _date_text(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- 容缺受理 ----------------------------------------------------------------------------------------------


def _gap_materials(case: Case) -> list[CaseMaterial]:
    """Missing materials the item marks 容缺后补 (the only ones that may be missing at acceptance)."""
    return [
        m
        for m in case.materials.order_by("index")
        if m.necessity == Necessity.DEFERRABLE
        and m.status in (CaseMaterial.Status.MISSING, CaseMaterial.Status.REQUESTED)
        and not m.paper_received
    ]


def _open_gap(case: Case) -> Commitment | None:
    return (
        Commitment.objects.filter(case=case, kind=Commitment.Kind.GAP, due_date__isnull=False)
        .exclude(status__in=[Commitment.Status.FULFILLED])
        .order_by("-signed_at")
        .first()
    )


def gap_sign(*, case: Case, signer_name: str, signed_by: Any, via: str, actor: Any) -> Commitment:
    """Record the applicant's 容缺受理信用承诺书 signature for the 容缺后补 materials missing now (inside the
    caller's action; no permission check). The due date, consequence and document follow at 受理."""
    signer = require_signer(signer_name)
    require_good_credit(case.applicant)
    gaps = _gap_materials(case)
    if not gaps:
        raise ValidationFailed("没有可以容缺后补的材料。", code="no_gap_materials")
    Commitment.objects.filter(case=case, kind=Commitment.Kind.GAP, due_date__isnull=True).delete()
    commitment = Commitment.objects.create(
        case=case,
        kind=Commitment.Kind.GAP,
        items=[{"index": m.index, "name": m.name, "state": "deferred"} for m in gaps],
        text=GAP_TEXT.format(
            item=case.item_name,
            materials="、".join(m.name for m in gaps),
            due="受理时确定的期限",
            consequence="依承诺处理",
        ),
        signer_name=signer,
        signed_by=signed_by if getattr(signed_by, "pk", None) else None,
        signed_via=via,
        consequence="",
    )
    _record(case, "gap_pledge", actor, f"容缺后补：{'、'.join(m.name for m in gaps)}（签名：{signer}）")
    return commitment


@action
def gap_pledge_sign(*, actor: Any, case_id: int, signer_name: str) -> Commitment:
    """在线签署容缺受理信用承诺书 — the applicant asks to be accepted without the 容缺后补 materials missing now.

    The due date and consequence are set (and the 承诺书 issued) when the clerk accepts.
    """
    case = _locked(actor, case_id)
    if Party.APPLICANT not in _parties(actor, case):
        raise PermissionDenied("只有申请人或其授权经办人可以签署承诺书。", code="permission_denied")
    if agents.acts_as_agent(actor, case):
        agents.require_scope(actor, principal_id=case.applicant_id, item_code=case.item.code, what="pledge")
    if case.state not in (State.DRAFT, State.SUBMITTED, State.RECEIVED, State.SUPPLEMENT):
        raise InvalidTransition("办件已受理，不能再申请容缺受理。", code="case_not_in_state")
    return gap_sign(case=case, signer_name=signer_name, signed_by=actor, via="online", actor=actor)


def gap_commitment_for_accept(
    *,
    case: Case,
    signer_name: str = "",
    due_date: dt.date | None = None,
    consequence: str | None = None,
) -> Commitment | None:
    """The 容缺受理信用承诺书 a 受理 of ``case`` needs — ``None`` when no 容缺后补 material is missing.

    Called by :func:`~yiwang.cases.services.case_accept` inside its action, before anything is written:
    every missing 容缺后补 material must be covered by the applicant's signature — given now at the window
    (``signer_name``) or beforehand online (:func:`gap_pledge_sign`) — and the commitment gets its due date
    and consequence here. Without a signature the 受理 is refused (``gap_commitment_required``).
    """
    gaps = _gap_materials(case)
    if not gaps:
        return None
    names = "、".join(m.name for m in gaps)
    signed = Commitment.objects.filter(case=case, kind=Commitment.Kind.GAP, due_date__isnull=True).first()
    if not signer_name and signed is None:
        raise ValidationFailed(
            f"以下“容缺后补”材料尚未提交：{names}。请申请人签署容缺受理信用承诺书（容缺受理），或先补齐材料。",
            code="gap_commitment_required",
            details=[{"material_index": m.index, "name": m.name} for m in gaps],
        )
    require_good_credit(case.applicant)
    today = clock.today()
    calendar = get_calendar(case.region_code)
    due = due_date or calendar.add(today, gap_due_workdays(), Unit.WORKING).date
    if not (today < due <= today + dt.timedelta(days=90)):
        raise ValidationFailed("补齐期限应在今天之后、90日以内。", code="gap_due_invalid")
    consequence = consequence or gap_default_consequence()
    if consequence not in Commitment.Consequence.values:
        raise ValidationFailed("逾期后果应为 suspend 或 revoke。", code="gap_consequence_invalid")
    if signer_name:
        if signed is not None:
            signed.delete()
        signed = Commitment(
            case=case, kind=Commitment.Kind.GAP, signer_name=require_signer(signer_name), signed_via="window"
        )
    signed.items = [{"index": m.index, "name": m.name, "state": "deferred"} for m in gaps]
    signed.due_date, signed.consequence = due, consequence
    signed.text = GAP_TEXT.format(
        item=case.item_name, materials=names, due=_date_text(due), consequence=CONSEQUENCE_TEXT[consequence]
    )
    signed.status = Commitment.Status.PENDING
    signed.save()
    return signed


def gap_accepted(*, case: Case, commitment: Commitment, actor: Any) -> None:
    """After the 受理 was written: issue the 信用承诺书, record it on the timeline, tell the applicant."""
    due, consequence = commitment.due_date, commitment.consequence
    names = [i["name"] for i in commitment.items]
    commitment.document = documents.issue(
        case,
        CaseDocument.Kind.GAP_PLEDGE,
        paragraphs=[commitment.text],
        fields=[
            ("补齐期限", _date_text(due)),
            ("逾期后果", CONSEQUENCE_TEXT[consequence]),
            ("承诺人（签名）", commitment.signer_name),
            ("签署方式", "窗口现场签署" if commitment.signed_via == "window" else "网上签署"),
        ],
        table_header=["序号", "容缺材料"],
        table_rows=[[str(n), name] for n, name in enumerate(names, 1)],
    )
    commitment.save(update_fields=["document"])
    _record(
        case,
        "gap_accept",
        actor,
        f"容缺受理：{'、'.join(names)}，须于{due:%Y-%m-%d}前补齐",
        data={"commitment_id": commitment.pk, "due_date": due, "consequence": consequence},
    )
    notify.to_applicant(
        case,
        title="容缺受理",
        body=f"请于{due:%Y-%m-%d}前补齐：{'、'.join(names)}；逾期将{CONSEQUENCE_TEXT[consequence]}。",
    )


@action
def case_accept_with_gaps(
    *,
    actor: Any,
    case_id: int,
    signer_name: str = "",
    due_date: dt.date | None = None,
    consequence: str | None = None,
    note: str = "",
) -> Commitment:
    """容缺受理 — accept with only 容缺后补 materials missing, on the applicant's signed 信用承诺书.

    ``signer_name``: the applicant signs at the window now; without it the applicant must have signed
    online (:func:`gap_pledge_sign`). ``due_date`` defaults to ``CASE_GAP_DUE_WORKDAYS`` working days;
    ``consequence`` (``suspend`` | ``revoke``) to ``CASE_GAP_CONSEQUENCE``. The 受理 itself, the commitment
    and its document are one action (:func:`~yiwang.cases.services.case_accept`).
    """
    services = _services()
    case = _locked(actor, case_id)
    services._check(actor, case, Action.ACCEPT)
    require_good_credit(case.applicant)
    required = services.missing_materials(case, online=False)
    if required:
        raise ValidationFailed(
            "只有“容缺后补”材料可以容缺，以下必要材料仍须补正：" + "、".join(m.name for m in required),
            code="materials_missing",
            details=[{"material_index": m.index, "name": m.name} for m in required],
        )
    if not _gap_materials(case):
        raise ValidationFailed("材料齐全，无需容缺受理，请直接受理。", code="no_gap_materials")
    if (
        not signer_name
        and not Commitment.objects.filter(case=case, kind=Commitment.Kind.GAP, due_date__isnull=True).exists()
    ):
        raise ValidationFailed("请申请人签署容缺受理信用承诺书。", code="signature_required")
    services.case_accept(
        actor=actor,
        case_id=case.pk,
        note=note or "容缺受理",
        gap_signer_name=signer_name,
        gap_due_date=due_date,
        gap_consequence=consequence,
    )
    return (
        Commitment.objects.filter(case=case, kind=Commitment.Kind.GAP, status=Commitment.Status.PENDING)
        .exclude(due_date__isnull=True)
        .order_by("-pk")
        .first()
    )


_SUPPLY_STATES = (State.IN_PROCESS, State.SPECIAL, State.REVIEW_SUPPLEMENT, State.RECEIVED)


@action
def gap_supply(*, actor: Any, case_id: int, material_index: int, name: str, content: Any) -> CaseFile:
    """补交容缺材料 — the applicant (online) or a clerk (at a window) attaches a deferred material."""
    from . import uploads

    case = _locked(actor, case_id)
    policy.require(actor, "case.gap_supply", case)
    if agents.acts_as_agent(actor, case):
        agents.require_scope(actor, principal_id=case.applicant_id, item_code=case.item.code, what="gap_supply")
    if case.state not in _SUPPLY_STATES:
        raise InvalidTransition(f"办件当前为「{case.state_label}」，不能补交材料。", code="case_not_in_state")
    commitment = _open_gap(case)
    item = _gap_item(commitment, material_index)
    item["state"] = fr.gap_item_next(item["state"], "supply")
    item["supplied_at"] = timezone.now().isoformat()
    material = CaseMaterial.objects.get(case=case, index=material_index)
    owner = actor if getattr(actor, "pk", None) else case.filed_by
    stored = uploads.store(owner=owner, name=name, content=content)
    attached = CaseFile.objects.create(case=case, material=material, file=stored, attached_by=owner)
    commitment.save(update_fields=["items"])
    _record(
        case, "gap_supply", actor, f"{material.name}：{stored.original_name}", data={"material_index": material_index}
    )
    from .selectors import back_office_staff

    for user in back_office_staff(case):
        notify.to_user(user, case=case, title=f"容缺材料已补交，请核验：{case.number}", body=material.name)
    return attached


def _gap_item(commitment: Commitment | None, index: int) -> dict[str, Any]:
    if commitment is None:
        raise NotFound("该办件没有待补齐的容缺材料。", code="no_gap_commitment")
    for item in commitment.items:
        if item["index"] == index:
            return item
    raise ValidationFailed(
        "该材料不在容缺承诺范围内。", code="material_not_deferred", details={"material_index": index}
    )


@action
def gap_check(*, actor: Any, case_id: int, material_index: int, accept: bool, note: str = "") -> Commitment:
    """核验容缺材料 — accepted (the material counts as provided) or refused (supply again, same due date)."""
    case = _locked(actor, case_id)
    policy.require(actor, "case.gap_check", case)
    commitment = _open_gap(case)
    item = _gap_item(commitment, material_index)
    try:
        item["state"] = fr.gap_item_next(item["state"], "accept" if accept else "reject")
    except fr.RuleError:
        raise Conflict("该材料尚未补交。", code="gap_material_not_supplied") from None
    if not accept and not (note or "").strip():
        raise ValidationFailed("请写明材料不符合要求的原因。", code="reason_required")
    item["checked_at"], item["note"] = timezone.now().isoformat(), (note or "")[:500]
    material = CaseMaterial.objects.get(case=case, index=material_index)
    if accept:
        material.status, material.note = CaseMaterial.Status.PROVIDED, "容缺材料已补齐"
    else:
        material.note = (note or "")[:1000]
    material.save(update_fields=["status", "note"])
    if fr.gap_fulfilled([i["state"] for i in commitment.items]):
        commitment.status, commitment.fulfilled_at = Commitment.Status.FULFILLED, timezone.now()
    commitment.save(update_fields=["items", "status", "fulfilled_at"])
    _record(
        case,
        "gap_check",
        actor,
        f"{material.name}：{'符合要求' if accept else '不符合要求，' + note}",
        data={"material_index": material_index, "accepted": accept},
    )
    if accept and commitment.status == Commitment.Status.FULFILLED:
        notify.to_applicant(case, title="容缺材料已补齐", body="信用承诺已履行。")
    elif not accept:
        notify.to_applicant(
            case,
            title="补交的容缺材料不符合要求",
            body=f"{material.name}：{note}。请于{commitment.due_date:%Y-%m-%d}前重新补交。",
        )
    return commitment


@events.guard
def _no_approval_with_gaps(actor: Any, case: Case, act: Any) -> None:
    """No approval while a 容缺 material is outstanding (先补齐、后出证)."""
    if act is not Action.DECIDE_APPROVE:
        return
    open_gap = (
        Commitment.objects.filter(case_id=case.pk, kind=Commitment.Kind.GAP, due_date__isnull=False)
        .exclude(status=Commitment.Status.FULFILLED)
        .first()
    )
    if open_gap is not None:
        names = [i["name"] for i in open_gap.items if i.get("state") != "accepted"]
        raise Conflict(
            "容缺材料尚未补齐并核验：" + "、".join(names) + "，补齐后方可作出准予决定。",
            code="gap_materials_outstanding",
            details={"materials": names},
        )


@events.observer
def _after_resubmit(case: Case, act: str, before: str, actor: Any) -> None:
    """A case suspended for its 容缺 materials resumes when they were supplied with the 补正."""
    if act != Action.RESUBMIT.value:
        return
    for commitment in Commitment.objects.filter(
        case_id=case.pk, kind=Commitment.Kind.GAP, status__in=[Commitment.Status.PENDING, Commitment.Status.OVERDUE]
    ):
        provided = {
            m.index for m in case.materials.all() if m.status == CaseMaterial.Status.PROVIDED or m.paper_received
        }
        for item in commitment.items:
            if item["index"] in provided:
                item["state"] = "accepted"
        if fr.gap_fulfilled([i["state"] for i in commitment.items]):
            commitment.status, commitment.fulfilled_at = Commitment.Status.FULFILLED, timezone.now()
        commitment.save(update_fields=["items", "status", "fulfilled_at"])


# --- 告知承诺制 --------------------------------------------------------------------------------------------


def may_pledge(case: Case, index: int) -> bool:
    data = case.version.data
    return 0 <= index < len(data.materials) and (data.commitment_item or bool(data.materials[index].commitment))


def pledge_materials(
    *, case: Case, indexes: Sequence[int], signer_name: str, signed_by: Any, via: str, actor: Any
) -> Commitment:
    """Record a 告知承诺书 replacing the proofs ``indexes`` of ``case`` (inside the caller's action)."""
    signer = require_signer(signer_name)
    require_good_credit(case.applicant)
    materials = {m.index: m for m in case.materials.all()}
    chosen = []
    for index in sorted(set(indexes)):
        material = materials.get(index)
        if material is None or not may_pledge(case, index):
            raise ValidationFailed(
                "该材料不能以告知承诺替代。", code="pledge_not_allowed", details={"material_index": index}
            )
        chosen.append(material)
    if not chosen:
        raise ValidationFailed("请选择以承诺替代的材料。", code="pledge_not_allowed")
    commitment = Commitment.objects.create(
        case=case,
        kind=Commitment.Kind.PROOF,
        items=[{"index": m.index, "name": m.name, "state": "committed"} for m in chosen],
        text=PLEDGE_TEXT.format(item=case.item_name),
        signer_name=signer,
        signed_by=signed_by if getattr(signed_by, "pk", None) else None,
        signed_via=via,
        consequence="",
    )
    for m in chosen:
        m.status, m.note = CaseMaterial.Status.COMMITTED, "以告知承诺替代（事后核查）"
        m.save(update_fields=["status", "note"])
    commitment.document = documents.issue(
        case,
        CaseDocument.Kind.PLEDGE,
        paragraphs=[commitment.text],
        fields=[("承诺人（签名）", signer), ("签署方式", "窗口现场签署" if via == "window" else "网上签署")],
        table_header=["序号", "以承诺替代的证明材料"],
        table_rows=[[str(n), m.name] for n, m in enumerate(chosen, 1)],
    )
    commitment.save(update_fields=["document"])
    _record(case, "pledge", actor, f"以告知承诺替代：{'、'.join(m.name for m in chosen)}（签名：{signer}）")
    return commitment


@action
def case_pledge(*, actor: Any, case_id: int, material_indexes: Iterable[int], signer_name: str) -> Commitment:
    """签署告知承诺书 — the applicant (while filling in or 补正) or the clerk (window) replaces proofs by commitment."""
    case = _locked(actor, case_id)
    policy.require(actor, "case.pledge", case)
    if agents.acts_as_agent(actor, case):
        agents.require_scope(actor, principal_id=case.applicant_id, item_code=case.item.code, what="pledge")
    if case.state not in (State.DRAFT, State.SUPPLEMENT, State.RECEIVED):
        raise InvalidTransition(f"办件当前为「{case.state_label}」，不能签署告知承诺。", code="case_not_in_state")
    via = "window" if Party.CLERK in _parties(actor, case) else "online"
    return pledge_materials(
        case=case,
        indexes=list(material_indexes),
        signer_name=signer_name,
        signed_by=actor,
        via=via,
        actor=actor,
    )


@events.observer
def _verification_on_accept(case: Case, act: str, before: str, actor: Any) -> None:
    """受理 of a case with a 告知承诺 → a 核查 task for the department, with a deadline."""
    if act != Action.ACCEPT.value:
        return
    pending = Commitment.objects.filter(
        case_id=case.pk, kind=Commitment.Kind.PROOF, status=Commitment.Status.PENDING, verification__isnull=True
    )
    if not pending.exists():
        return
    due = get_calendar(case.region_code).add(clock.today(), verification_workdays(), Unit.WORKING).date
    from .selectors import back_office_staff

    for commitment in pending:
        Verification.objects.create(
            commitment=commitment,
            case=case,
            department_id=case.department_id,
            region_code=case.region_code,
            due_date=due,
        )
        _record(
            case,
            "verify",
            actor,
            f"生成告知承诺核查任务：{'、'.join(commitment.material_names)}，核查期限{due:%Y-%m-%d}",
            public=False,
            data={"commitment_id": commitment.pk, "due_date": due},
        )
    for user in back_office_staff(case):
        notify.to_user(
            user, case=case, title=f"告知承诺核查任务：{case.number}", body=f"请于{due:%Y-%m-%d}前完成核查。"
        )


def _credit(case: Case, commitment: Commitment | None, kind: str, note: str) -> CreditRecord:
    return CreditRecord.objects.create(
        subject=case.applicant,
        subject_name=case.applicant_name,
        subject_id_masked=case.applicant_id_masked,
        kind=kind,
        case=case,
        commitment=commitment,
        department_id=case.department_id,
        note=note[:2000],
        valid_until=clock.today() + dt.timedelta(days=credit_days(kind)),
    )


def _refuse(case: Case, actor: Any, opinion: str) -> None:
    """不予许可 by the system: finish the open review steps, then decide."""
    services = _services()
    from .models import CaseStep

    for _ in range(10):
        step = CaseStep.objects.filter(case=case, finished_at__isnull=True).order_by("-index").first()
        if step is None or step.kind in (StepKind.DECIDE, StepKind.CERTIFY, StepKind.DELIVER):
            break
        services.case_complete_step(actor=actor, case_id=case.pk, opinion=opinion)
    services.case_decide(actor=actor, case_id=case.pk, approve=False, opinion=opinion)


@action
def verification_record(*, actor: Any, verification_id: int, outcome: str, note: str, method: str = "") -> Verification:
    """核查结果 — 属实 (``verified``) or 承诺不实 (``false``: credit record; revocation or refusal)."""
    verification = Verification.objects.select_related("commitment").filter(pk=verification_id).first()
    if verification is None:
        raise NotFound("核查任务不存在。", code="verification_not_found")
    case = _locked(actor, verification.case_id)
    policy.require(actor, "case.verify", case)
    verification = lock(Verification.objects.filter(pk=verification_id))
    if verification.status != Verification.Status.PENDING:
        raise Conflict("该核查任务已办结。", code="verification_done")
    if outcome not in ("verified", "false"):
        raise ValidationFailed("核查结果应为 verified 或 false。", code="invalid_outcome")
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("请填写核查意见。", code="note_required")
    commitment = verification.commitment
    now = timezone.now()
    verification.status = Verification.Status(outcome)
    verification.outcome_note, verification.method = note[:2000], (method or "")[:200]
    verification.verified_by, verification.verified_at = actor if getattr(actor, "pk", None) else None, now
    verification.save()
    commitment.status = Commitment.Status.VERIFIED if outcome == "verified" else Commitment.Status.FALSE
    commitment.save(update_fields=["status"])
    _record(
        case,
        "verify",
        actor,
        f"核查{'属实' if outcome == 'verified' else '发现承诺不实'}：{note}",
        data={"verification_id": verification.pk, "outcome": outcome},
    )
    if outcome == "verified":
        return verification
    _credit(case, commitment, CreditRecord.Kind.FALSE_COMMITMENT, f"告知承诺核查不实：{note}")
    if case.decision == Case.Decision.APPROVED:
        revocation_start(case=case, commitment=commitment, actor=actor, reason=f"经核查，申请人告知承诺不实：{note}")
    elif case.state == State.IN_PROCESS:
        _refuse(case, actor, f"经核查，申请人告知承诺不实（{note}），不予许可。")
    else:
        notify.to_applicant(case, title="告知承诺核查不实", body=note)
    return verification


# --- revocation (撤销程序) ---------------------------------------------------------------------------------


def revocation_start(*, case: Case, commitment: Commitment | None, actor: Any, reason: str) -> Revocation:
    """撤销告知 — notice to the permit holder, who may state their case within 5 working days."""
    if Revocation.objects.filter(case=case, state=fr.RevocationState.NOTICE).exists():
        raise Conflict("已有进行中的撤销程序。", code="revocation_open")
    due = get_calendar(case.region_code).add(clock.today(), 5, Unit.WORKING).date
    revocation = Revocation.objects.create(case=case, commitment=commitment, reason=reason[:2000], statement_due=due)
    documents.issue(
        case,
        CaseDocument.Kind.REVOCATION_NOTICE,
        paragraphs=[
            f"{reason}。根据《中华人民共和国行政许可法》第六十九条，本机关拟撤销对您作出的准予许可决定。",
            f"您有权在{_date_text(due)}前进行陈述和申辩；逾期未陈述申辩的，视为放弃。",
        ],
        fields=[("陈述申辩期限", _date_text(due))],
    )
    _record(case, "revocation_notice", actor, reason, data={"revocation_id": revocation.pk, "statement_due": due})
    notify.to_applicant(case, title="撤销告知", body=f"{reason}。请于{due:%Y-%m-%d}前陈述申辩。")
    return revocation


@action
def revocation_statement(*, actor: Any, revocation_id: int, statement: str) -> Revocation:
    """陈述申辩 — the holder answers the revocation notice."""
    revocation = Revocation.objects.filter(pk=revocation_id).first()
    if revocation is None:
        raise NotFound("撤销程序不存在。", code="revocation_not_found")
    case = _locked(actor, revocation.case_id)
    policy.require(actor, "case.revocation.statement", case)
    revocation = lock(Revocation.objects.filter(pk=revocation_id))
    try:
        fr.revocation_next(revocation.state, "state_case")
    except fr.RuleError:
        raise Conflict("撤销程序已结束。", code="revocation_closed") from None
    statement = (statement or "").strip()
    if not statement:
        raise ValidationFailed("请填写陈述申辩内容。", code="statement_required")
    revocation.statement = statement[:2000]
    revocation.save(update_fields=["statement"])
    _record(case, "revocation_statement", actor, statement[:500])
    return revocation


@action
def revocation_decide(*, actor: Any, revocation_id: int, revoke: bool, note: str) -> Revocation:
    """撤销决定 — revoke the permit (撤销决定书) or drop the procedure (不予撤销)."""
    revocation = Revocation.objects.filter(pk=revocation_id).first()
    if revocation is None:
        raise NotFound("撤销程序不存在。", code="revocation_not_found")
    case = _locked(actor, revocation.case_id)
    policy.require(actor, "case.revocation.decide", case)
    revocation = lock(Revocation.objects.filter(pk=revocation_id))
    try:
        revocation.state = fr.revocation_next(revocation.state, "revoke" if revoke else "drop")
    except fr.RuleError:
        raise Conflict("撤销程序已结束。", code="revocation_closed") from None
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("请填写决定意见。", code="note_required")
    if revoke and not revocation.statement and clock.today() <= revocation.statement_due:
        raise Conflict(
            f"陈述申辩期限（{revocation.statement_due:%Y-%m-%d}）届满前不能作出撤销决定。",
            code="statement_period_running",
        )
    revocation.decision_note, revocation.decided_at = note[:2000], timezone.now()
    revocation.decided_by = actor if getattr(actor, "pk", None) else None
    revocation.save(update_fields=["state", "decision_note", "decided_at", "decided_by"])
    if revoke:
        documents.issue(
            case,
            CaseDocument.Kind.REVOCATION,
            paragraphs=[
                f"{revocation.reason}。根据《中华人民共和国行政许可法》第六十九条，本机关决定撤销对您作出的准予许可决定。",
                f"决定意见：{note}",
                "如不服本决定，可以依法申请行政复议或者提起行政诉讼。",
            ],
        )
        _record(case, "revoked", actor, note, data={"revocation_id": revocation.pk})
        notify.to_applicant(case, title="准予许可决定已撤销", body=note)
    else:
        _record(case, "revocation_dropped", actor, note, data={"revocation_id": revocation.pk})
        notify.to_applicant(case, title="撤销程序终止", body=note)
    return revocation


# --- the daily sweep ---------------------------------------------------------------------------------------


def gaps_sweep(*, actor: Any, on: dt.date | None = None) -> dict[str, int]:
    """Daily: remind before the 容缺 due date; flag, warn and apply the consequence after it; warn about
    overdue 核查 tasks. Each case in its own action (one failure does not stop the others)."""
    from .selectors import back_office_staff

    on = on or clock.today()
    stats = {"warned": 0, "overdue": 0, "suspended": 0, "refused": 0, "verifications_overdue": 0}
    warn_from = on + dt.timedelta(days=gap_warn_days())
    for pk in Commitment.objects.filter(
        kind=Commitment.Kind.GAP,
        status=Commitment.Status.PENDING,
        due_date__isnull=False,
        due_date__lte=warn_from,
        warned_on__isnull=True,
        due_date__gte=on,
    ).values_list("pk", flat=True):
        _gap_warn(actor=actor, commitment_id=pk, on=on)
        stats["warned"] += 1
    for pk in Commitment.objects.filter(
        kind=Commitment.Kind.GAP, status=Commitment.Status.PENDING, due_date__lt=on
    ).values_list("pk", flat=True):
        result = _gap_overdue(actor=actor, commitment_id=pk, on=on)
        stats["overdue"] += 1
        stats["suspended"] += result == "return"
        stats["refused"] += result == "reject"
    for verification in Verification.objects.filter(
        status=Verification.Status.PENDING, due_date__lt=on, warned_on__isnull=True
    ).select_related("case"):
        case = verification.case
        Verification.objects.filter(pk=verification.pk).update(warned_on=on)
        _services()._record(
            case,
            "verify_overdue",
            actor=actor,
            before=case.state,
            note=f"核查期限{verification.due_date}已过",
            public=False,
        )
        for user in back_office_staff(case):
            notify.to_user(
                user, case=case, title=f"告知承诺核查已逾期：{case.number}", body=f"期限 {verification.due_date}"
            )
        stats["verifications_overdue"] += 1
    return stats


@action
def _gap_warn(*, actor: Any, commitment_id: int, on: dt.date) -> None:
    commitment = lock(Commitment.objects.filter(pk=commitment_id))
    if commitment.status != Commitment.Status.PENDING or not fr.warn_gap(
        on, due=commitment.due_date, warn_days_before=gap_warn_days(), warned_on=commitment.warned_on
    ):
        return
    case = lock(
        Case.objects.select_related("item", "department", "applicant", "filed_by").filter(pk=commitment.case_id)
    )
    commitment.warned_on = on
    commitment.save(update_fields=["warned_on"])
    names = "、".join(i["name"] for i in commitment.items if i["state"] != "accepted")
    _record(case, "gap_warn", actor, f"{names}：请于{commitment.due_date:%Y-%m-%d}前补齐")
    notify.to_applicant(case, title="容缺材料即将到期", body=f"请于{commitment.due_date:%Y-%m-%d}前补齐：{names}。")


@action
def _gap_overdue(*, actor: Any, commitment_id: int, on: dt.date) -> str:
    from .selectors import back_office_staff
    from .services import Deficiency

    commitment = lock(Commitment.objects.filter(pk=commitment_id))
    if commitment.status != Commitment.Status.PENDING:
        return "none"
    case = lock(
        Case.objects.select_related("item", "department", "applicant", "filed_by").filter(pk=commitment.case_id)
    )
    outstanding = [i for i in commitment.items if i["state"] != "accepted"]
    names = "、".join(i["name"] for i in outstanding)
    commitment.status, commitment.overdue_at = Commitment.Status.OVERDUE, timezone.now()
    commitment.save(update_fields=["status", "overdue_at"])
    _record(
        case,
        "gap_overdue",
        actor,
        f"容缺材料逾期未补齐（期限{commitment.due_date:%Y-%m-%d}）：{names}",
        data={"commitment_id": commitment.pk},
    )
    recipients = ([case.handler] if case.handler_id else []) + back_office_staff(case)
    for user in {u.pk: u for u in recipients}.values():
        notify.to_user(
            user, case=case, title=f"容缺材料逾期未补：{case.number}", body=f"{names}（期限{commitment.due_date}）"
        )
    result = fr.gap_consequence(commitment.consequence, case.state)
    services = _services()
    if result == "return":
        items = [
            Deficiency(
                reason=f"容缺后补材料逾期未补齐（承诺期限{commitment.due_date:%Y-%m-%d}），请补交",
                material_index=i["index"],
            )
            for i in outstanding
        ]
        services.case_return_for_supplement(
            actor=actor, case_id=case.pk, items=items, note="容缺材料逾期未补齐，依信用承诺中止办理（停止计时）。"
        )
    elif result == "reject":
        _credit(case, commitment, CreditRecord.Kind.UNFULFILLED, f"容缺受理信用承诺未履行：{names}")
        _refuse(
            case,
            actor,
            f"申请人未在信用承诺期限（{commitment.due_date:%Y-%m-%d}）内补齐容缺材料（{names}），依承诺终止办理，不予许可。",
        )
    else:
        notify.to_applicant(case, title="容缺材料已逾期", body=f"请尽快补齐：{names}。")
    if result in ("return", "reject"):
        commitment.consequence_applied_at = timezone.now()
        commitment.save(update_fields=["consequence_applied_at"])
    return result
