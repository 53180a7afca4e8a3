"""一件事一次办 — a bundle applied for once: one form, one set of materials, one submission.

:func:`bundle_plan` answers the 情形 questions → the applicable members in stages, ONE merged form and ONE
merged material list (a material several members need is asked for once; a material that an earlier
member's result provides — 出生医学证明 for 出生登记 — is not asked for at all), and what the bundle saves
against filing the members one by one.

:func:`bundle_apply` (citizen, agent or 帮办代办员 online; a clerk at an 一件事 window) validates everything
up front, stores each file once and creates the parent (:class:`BundleCase`) with one
:class:`BundleChild` per member. The first stage's children become cases at once, routed to their
departments (online: to pre-review; window: received, the paper checked at the counter); later stages wait.
When a child case ends, :func:`_on_case_event` (an observer of every case action, inside its transaction)
moves the bundle on: the next stage starts when every child before it completed with approval, waiting
children are cancelled when one was refused, and the parent concludes — 已办结 / 部分办结 / 未办成 — with
ONE evaluation invitation and the ``bundle_completed`` event for the ratings app.
"""

from __future__ import annotations

import contextvars
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from yiwang.accounts.models import User
from yiwang.accounts.selectors import authorization_for
from yiwang.catalog import selectors as catalog
from yiwang.catalog.codes import Necessity
from yiwang.catalog.elements import FormDefinition, Material, merge_forms, merge_materials
from yiwang.catalog.models import Bundle, BundleMember
from yiwang.core import audit
from yiwang.core.actions import action, lock, lock_many
from yiwang.core.actors import SystemActor
from yiwang.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from yiwang.core.permissions import policy
from yiwang.directory.models import Window
from yiwang.workdays.calendar import get_calendar
from yiwang.workdays.engine import Unit

from . import agents, clock, events, idempotency, notify, numbering, uploads
from . import bundle_flow as flow
from . import deadlines as dl
from .models import BundleCase, BundleChild, BundleEvent, BundleFile, Case, CaseFile, CaseMaterial, StoredFile
from .states import State

BUNDLE_ACTOR = SystemActor("一件事")
MAX_BUNDLE_FILES = 100

events.labels(
    {
        "bundle_start": "一件事分送办理",
        "bundle_cancel": "一件事事项未启动",
    }
)


# --- the plan (情形 → members, one form, one material list, savings) -----------------------------------


@dataclass
class MergedMaterial:
    """One line of the bundle's single material list."""

    index: int
    key: str
    material: Material
    item_codes: list[str]
    produced_by: str = ""  # the earlier member whose result provides it (not asked for)

    @property
    def required(self) -> bool:
        return self.material.necessity == Necessity.REQUIRED and not self.produced_by

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "key": self.key,
            "name": self.material.name,
            "necessity": self.material.necessity,
            "format": self.material.format,
            "item_codes": self.item_codes,
            "produced_by": self.produced_by,
            "commitment": bool(self.material.commitment),
            "deferrable": self.deferrable,
        }

    @property
    def deferrable(self) -> bool:
        """容缺后补 in every member that asks for it: may be missing on a signed 信用承诺书."""
        return self.material.necessity == Necessity.DEFERRABLE and not self.produced_by


@dataclass
class BundlePlan:
    """What the applicant is asked for, given their 情形 answers."""

    bundle: Bundle
    answers: dict[str, str]
    members: list[BundleMember]
    stage_of: dict[int, int]  # member pk → stage 1, 2, 3 …
    form: FormDefinition
    mapping: dict[str, list[str]]
    materials: list[MergedMaterial]
    savings: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def stages(self) -> list[list[BundleMember]]:
        out: dict[int, list[BundleMember]] = {}
        for m in self.members:
            out.setdefault(self.stage_of[m.pk], []).append(m)
        return [out[k] for k in sorted(out)]

    @property
    def asked_materials(self) -> list[MergedMaterial]:
        return [m for m in self.materials if not m.produced_by]


def _norm(name: str) -> str:
    return "name:" + re.sub(r"[\s（）()]", "", name or "")


def clean_answers(bundle: Bundle, answers: dict[str, Any] | None) -> dict[str, str]:
    """Every 情形 question answered with one of its options (``scenario_answers_invalid`` otherwise)."""
    answers = answers or {}
    cleaned, errors = {}, {}
    for s in bundle.scenarios or []:
        value = answers.get(s["key"])
        if value not in s.get("options", []):
            errors[s["key"]] = f"请回答：{s.get('question', s['key'])}"
        else:
            cleaned[s["key"]] = value
    unknown = sorted(set(answers) - {s["key"] for s in bundle.scenarios or []})
    for key in unknown:
        errors[key] = "未知情形"
    if errors:
        raise ValidationFailed("请回答全部情形问题。", code="scenario_answers_invalid", details=errors)
    return cleaned


def bundle_plan(*, bundle: Bundle, answers: dict[str, Any] | None) -> BundlePlan:
    """情形 → the members to handle (in stages), one merged form, one merged material list, the savings."""
    answers = clean_answers(bundle, answers)
    members = [
        m
        for m in catalog.bundle_applicable_members(bundle=bundle, answers=answers)
        if m.item.current_version_id and m.item.state == m.item.State.PUBLISHED
    ]
    if not members:
        raise ValidationFailed("按您的情形无需办理任何事项。", code="bundle_no_members")
    stage_of = dict(zip([m.pk for m in members], flow.stage_numbers([m.order for m in members]), strict=True))
    versions = {m.pk: m.item.current_version for m in members}
    form, mapping = merge_forms([(m.item.code, versions[m.pk].data.form) for m in members])
    merged = merge_materials([(m.item.code, mat) for m in members for mat in versions[m.pk].data.materials])
    # A result of an earlier stage (出生医学证明) is not asked for again from a later member.
    producers: dict[str, tuple[int, str]] = {}
    for m in members:
        result = versions[m.pk].data.result.name
        if result:
            key = _norm(result)
            if key not in producers or stage_of[m.pk] < producers[key][0]:
                producers[key] = (stage_of[m.pk], m.item.name)
    code_stage = {m.item.code: stage_of[m.pk] for m in members}
    materials = []
    for i, (mat, codes) in enumerate(merged):
        key = mat.dedup_key()
        produced = producers.get(key) or producers.get(_norm(mat.name))
        first_need = min(code_stage[c] for c in codes)
        producer = produced[1] if produced and produced[0] < first_need else ""
        materials.append(MergedMaterial(i, key, mat, codes, producer))
    plan = BundlePlan(bundle, answers, members, stage_of, form, mapping, materials)
    plan.savings = flow.savings(
        [
            flow.MemberFacts(
                stage=stage_of[m.pk],
                materials=len(versions[m.pk].data.materials),
                form_fields=len(versions[m.pk].data.form.fields),
                visits=versions[m.pk].visits,
                promised_days=versions[m.pk].promised_limit,
            )
            for m in members
        ],
        merged_materials=len(plan.asked_materials),
        merged_fields=len(form.fields),
        bundle_days=bundle.promised_days,
    )
    return plan


# --- applying --------------------------------------------------------------------------------------------


def _is_clerk_intake(actor: Any) -> bool:
    staff = getattr(actor, "is_staff_member", False) or getattr(actor, "is_system", False)
    return staff and not agents.is_helper(actor)


def _resolve(actor: Any, plan: BundlePlan, applicant_id: int | None) -> tuple[User, Any]:
    """(principal, authorisation) — a clerk files for anyone; an agent needs a grant for every member."""
    if _is_clerk_intake(actor):
        if not applicant_id:
            raise ValidationFailed("请先确定申请人。", code="applicant_required")
        principal = User.objects.filter(pk=applicant_id, is_active=True).first()
        if principal is None:
            raise NotFound("申请人不存在。", code="applicant_not_found")
        return principal, None
    if agents.is_helper(actor) and not applicant_id:
        raise ValidationFailed("请先确定申请人。", code="applicant_required")
    if not applicant_id or applicant_id == actor.pk:
        return actor, None
    principal = User.objects.filter(pk=applicant_id, is_active=True).first()
    grant = None
    for m in plan.members:
        grant = authorization_for(agent=actor, principal=principal, action="case.apply", item_code=m.item.code)
        if principal is None or grant is None:
            raise PermissionDenied(
                "您没有代该申请人办理此一件事全部事项的有效授权。",
                code="not_authorized_agent",
                details={"item_code": m.item.code},
            )
    return principal, grant


def _clean_form(plan: BundlePlan, form_data: Any) -> dict[str, Any]:
    """The merged form checked against every member's own form; errors name the merged fields."""
    if not isinstance(form_data, dict):
        raise ValidationFailed("申请表数据格式不正确。", code="form_invalid")
    errors: dict[str, str] = {}
    known = {f.name for f in plan.form.fields}
    for extra in sorted(set(form_data) - known):
        errors[extra] = "未知字段"
    cleaned: dict[str, Any] = {}
    for m in plan.members:
        definition = m.item.current_version.data.form
        mine = {f.name for f in definition.fields}
        try:
            cleaned.update(definition.validate_data({k: v for k, v in form_data.items() if k in mine}))
        except ValidationFailed as exc:
            if isinstance(exc.details, dict):
                for k, v in exc.details.items():
                    errors.setdefault(k, v)
    if errors:
        raise ValidationFailed("申请表填写有误。", code="form_invalid", details=errors)
    return cleaned


def _check_materials(
    plan: BundlePlan,
    files: Sequence[Any],
    paper: set[int],
    *,
    online: bool,
    pledged: set[int],
    deferred: set[int] | frozenset[int] = frozenset(),
) -> None:
    by_index = {m.index: m for m in plan.materials}
    for f in files:
        m = by_index.get(f.material_index)
        if m is None or m.produced_by:
            raise ValidationFailed(
                "材料序号不存在。", code="material_not_found", details={"material_index": f.material_index}
            )
    for i in paper | pledged | deferred:
        if i not in by_index or by_index[i].produced_by:
            raise ValidationFailed("材料序号不存在。", code="material_not_found", details={"material_index": i})
    for i in pledged:
        if not may_pledge(plan, by_index[i]):
            raise ValidationFailed(
                "该材料不能以告知承诺替代。", code="pledge_not_allowed", details={"material_index": i}
            )
    uploaded = {f.material_index for f in files} | paper | pledged
    for i in deferred:
        if not by_index[i].deferrable:
            raise ValidationFailed(
                "只有“容缺后补”材料可以容缺。", code="gap_not_allowed", details={"material_index": i}
            )
        if i in uploaded:
            raise ValidationFailed("该材料已提交，无需容缺后补。", code="gap_not_needed", details={"material_index": i})
    provided = uploaded
    missing = [
        m
        for m in plan.materials
        if m.required and m.index not in provided and not (online and m.material.format == "paper")
    ]
    if missing:
        raise ValidationFailed(
            "以下必要材料尚未提交：" + "、".join(m.material.name for m in missing),
            code="materials_missing",
            details=[{"material_index": m.index, "name": m.material.name} for m in missing],
        )


def may_pledge(plan: BundlePlan, merged: MergedMaterial) -> bool:
    """A merged material may be replaced by a commitment when every member needing it allows that."""
    by_code = {m.item.code: m.item.current_version for m in plan.members}
    for code in merged.item_codes:
        data = by_code[code].data
        mats = [x for x in data.materials if x.dedup_key() == merged.key]
        if not (data.commitment_item or all(x.commitment for x in mats)):
            return False
    return True


def _fingerprint(bundle_code, answers, form_data, files, paper, pledged, applicant_id, deferred) -> dict[str, Any]:
    from .services import _digest

    return {
        "bundle": bundle_code,
        "answers": answers,
        "form": form_data,
        "applicant": applicant_id,
        "paper": sorted(paper),
        "pledged": sorted(pledged),
        "gaps": sorted(deferred),
        "files": [[f.material_index, f.name, _digest(f.content)] for f in files],
    }


@action
def bundle_apply(
    *,
    actor: Any,
    bundle_code: str,
    answers: dict[str, Any],
    form_data: dict[str, Any],
    files: Sequence[Any] = (),
    paper_indexes: Iterable[int] = (),
    pledge_indexes: Iterable[int] = (),
    gap_indexes: Iterable[int] = (),
    signer_name: str = "",
    applicant_id: int | None = None,
    window_id: int | None = None,
    contact_phone: str = "",
    idempotency_key: str | None = None,
) -> tuple[BundleCase, bool]:
    """一件事一次申请 — one submission creates the parent and starts the first stage. ``(parent, created)``.

    ``files`` are :class:`~yiwang.cases.services.Upload` rows whose ``material_index`` is the index in the
    merged material list; ``paper_indexes`` (window only) the paper documents checked at the counter;
    ``pledge_indexes`` materials replaced by a signed 告知承诺 (``signer_name``); ``gap_indexes`` 容缺后补
    materials left out on a signed 容缺受理信用承诺书 (``signer_name``; each child case whose item marks
    them 容缺后补 gets the signed commitment, its due date set when the department accepts). With an
    ``Idempotency-Key`` a retried request returns the first one's parent and writes nothing.
    """
    paper, pledged, deferred = set(paper_indexes), set(pledge_indexes), set(gap_indexes)
    claimed = None
    if idempotency_key:
        payload = _fingerprint(bundle_code, answers, form_data, files, paper, pledged, applicant_id, deferred)
        claimed = idempotency.claim(user=actor, key=idempotency_key, scope="bundle.apply", payload=payload)
        if isinstance(claimed, idempotency.Replay):
            parent = BundleCase.objects.filter(pk=int(claimed.result_id)).first()
            if parent is None or not policy.allows(actor, "bundle_case.view", parent):
                raise NotFound("一件事办件不存在或您无权查看。", code="bundle_case_not_found")
            return parent, False
    bundle = catalog.bundle_get(code=bundle_code)
    clerk = _is_clerk_intake(actor)
    if clerk:
        policy.require(actor, "bundle.intake", bundle)
    elif agents.is_helper(actor):
        policy.require(actor, "case.file_for", None)
    else:
        policy.require(actor, "case.apply", None)
    if paper and not clerk:
        raise PermissionDenied("只有窗口人员可以确认收到纸质材料。", code="paper_by_clerk_only")
    plan = bundle_plan(bundle=bundle, answers=answers)
    if not clerk:
        offline = [m.item.name for m in plan.members if not m.item.current_version.is_online]
        if offline:
            raise Conflict(
                "以下事项暂不支持网上申报，请到一件事窗口办理：" + "、".join(offline),
                code="item_not_online",
                details={"items": offline},
            )
    principal, grant = _resolve(actor, plan, applicant_id)
    from .services import _applicant_profile

    kind, name, masked = _applicant_profile(principal)
    cleaned = _clean_form(plan, form_data)
    if len(files) > MAX_BUNDLE_FILES:
        raise ValidationFailed("附件数量过多。", code="too_many_files")
    _check_materials(plan, files, paper, online=not clerk, pledged=pledged, deferred=deferred)
    if pledged or deferred:
        from . import gaps

        signer_name = gaps.require_signer(signer_name)
        gaps.require_good_credit(principal)
    window = None
    if clerk and window_id is not None:
        window = Window.objects.select_related("hall").filter(pk=window_id, is_active=True).first()
        if window is None:
            raise NotFound("窗口不存在。", code="window_not_found")
    today = clock.today()
    calendar = get_calendar(bundle.region_id)
    days = bundle.promised_days if bundle.promised_days is not None else plan.savings["bundle"]["days"]
    parent = BundleCase.objects.create(
        number="YJS" + numbering.new_number(bundle.region_id),
        bundle=bundle,
        bundle_name=bundle.name,
        region_code=bundle.region_id,
        lead_department_id=bundle.lead_department_id,
        channel=BundleCase.Channel.WINDOW if clerk else BundleCase.Channel.ONLINE,
        applicant=principal,
        applicant_kind=kind,
        applicant_name=name,
        applicant_id_masked=masked,
        filed_by=actor if getattr(actor, "pk", None) else principal,
        authorization=grant,
        window=window,
        contact_phone=(contact_phone or principal.phone or "")[:20],
        answers=plan.answers,
        form_data=cleaned,
        materials=[
            {**m.as_json(), "paper": m.index in paper, "pledged": m.index in pledged, "gap": m.index in deferred}
            | ({"signer": signer_name} if m.index in pledged or m.index in deferred else {})
            for m in plan.materials
        ],
        savings=plan.savings,
        promised_days=days,
        promised_due=calendar.add(today, days, Unit.WORKING).date if days else today,
    )
    owner = actor if getattr(actor, "pk", None) else principal
    keys = {m.index: m.key for m in plan.materials}
    for f in files:
        stored = uploads.store(owner=owner, name=f.name, content=f.content)
        BundleFile.objects.create(parent=parent, material_key=keys[f.material_index], file=stored)
    for position, m in enumerate(plan.members):
        BundleChild.objects.create(
            parent=parent,
            item=m.item,
            version=m.item.current_version,
            item_name=m.item.current_version.name,
            department_id=m.item.current_version.department_id,
            stage=plan.stage_of[m.pk],
            position=position,
        )
    _event(parent, "submit", actor, f"一次提交：{len(plan.members)}个事项，{len(plan.asked_materials)}份材料")
    _advance(parent, actor)
    audit.record(
        actor=actor,
        action="cases.bundle_apply",
        obj=parent,
        region_code=parent.region_code,
        summary={"number": parent.number, "bundle": bundle.code, "members": len(plan.members)},
    )
    notify.to_user(
        principal,
        case=None,
        title=f"一件事申请已提交（{parent.bundle_name}，{parent.number}）",
        body=f"共{len(plan.members)}个事项，承诺于{parent.promised_due:%Y-%m-%d}前办结。",
        phone=parent.contact_phone,
    )
    if parent.filed_by_id != principal.pk and grant is not None:
        notify.to_user(parent.filed_by, case=None, title=f"一件事申请已提交（{parent.number}）")
    if claimed is not None:
        idempotency.complete(claimed, result_type="cases.bundlecase", result_id=parent.pk)
    return parent, True


def _event(parent: BundleCase, act: str, actor: Any, note: str = "", child: BundleChild | None = None) -> None:
    from .services import _label

    BundleEvent.objects.create(parent=parent, action=act, actor_label=_label(actor), note=note[:2000], child=child)


# --- children --------------------------------------------------------------------------------------------


def _clone(stored: StoredFile, owner: Any, *, save: bool = True) -> StoredFile:
    """A new private file row with the same content (a hard link when the filesystem allows)."""
    now = timezone.now()
    relative = f"{now:%Y}/{now:%m}/{secrets.token_hex(16)}"
    target = uploads.root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    source = uploads.path_of(stored)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
        os.chmod(target, 0o600)
    row = StoredFile(
        owner=owner,
        original_name=stored.original_name,
        kind=stored.kind,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        storage_name=relative,
    )
    if save:
        row.save(force_insert=True)
    return row


def _start_child(parent: BundleCase, child: BundleChild, actor: Any) -> Case:
    """Create the child's case from the bundle's form and materials and route it to its department."""
    from . import services

    version = child.version
    mine = {f.name for f in version.data.form.fields}
    intake_region = parent.window.hall.region_id if parent.window_id else version.region_id
    case = Case.objects.create(
        item=child.item,
        version=version,
        item_name=version.name,
        department_id=version.department_id,
        region_code=version.region_id,
        intake_region_code=intake_region,
        state=State.DRAFT,
        channel=Case.Channel.WINDOW if parent.channel == BundleCase.Channel.WINDOW else Case.Channel.ONLINE,
        applicant=parent.applicant,
        applicant_kind=parent.applicant_kind,
        applicant_name=parent.applicant_name,
        applicant_id_masked=parent.applicant_id_masked,
        filed_by=parent.filed_by,
        authorization=parent.authorization,
        contact_phone=parent.contact_phone,
        form_data={k: v for k, v in parent.form_data.items() if k in mine},
        window=parent.window,
    )
    services._materials_for(case, version)
    child.case, child.status, child.started_at = case, flow.child_next(child.status, "start"), timezone.now()
    child.save(update_fields=["case", "status", "started_at"])
    services._record(case, "create", actor=actor, before="", note=f"一件事「{parent.bundle_name}」{parent.number}")
    merged = {m["key"]: m for m in parent.materials}
    files: dict[str, list[StoredFile]] = {}
    for bf in parent.files.select_related("file"):
        files.setdefault(bf.material_key, []).append(bf.file)
    producers: dict[str, str] | None = None
    paper, pledged, signer, gap_signer = [], [], "", ""
    owner = parent.filed_by
    clones, links, provided = [], [], set()
    for cm, spec in zip(case.materials.order_by("index"), version.data.materials, strict=True):
        m = merged.get(spec.dedup_key())
        if m is None:
            continue
        if m["produced_by"]:
            if producers is None:
                producers = {
                    c.item_name: c.case.number
                    for c in parent.children.select_related("case").filter(status=flow.ChildStatus.APPROVED)
                    if c.case_id
                }
            number = producers.get(m["produced_by"], "")
            cm.status = CaseMaterial.Status.NOT_NEEDED
            cm.note = f"由一件事前序事项「{m['produced_by']}」办理结果提供" + (f"（{number}）" if number else "")
            cm.save(update_fields=["status", "note"])
            continue
        for stored in files.get(m["key"], []):
            clone = _clone(stored, owner, save=False)
            clones.append(clone)
            links.append(CaseFile(case=case, material=cm, file=clone, attached_by=owner))
            provided.add(cm.pk)
        if m.get("paper"):
            paper.append(cm.index)
        if m.get("pledged"):
            pledged.append(cm.index)
            signer = m.get("signer", "")
        if m.get("gap") and cm.necessity == Necessity.DEFERRABLE:
            gap_signer = m.get("signer", "")
    StoredFile.objects.bulk_create(clones)
    CaseFile.objects.bulk_create(links)
    CaseMaterial.objects.filter(pk__in=provided).update(status=CaseMaterial.Status.PROVIDED)
    via = "window" if parent.channel == BundleCase.Channel.WINDOW else "online"
    if gap_signer:
        from . import gaps

        gaps.gap_sign(case=case, signer_name=gap_signer, signed_by=parent.filed_by, via=via, actor=actor)
    if pledged:
        from . import gaps

        gaps.pledge_materials(
            case=case,
            indexes=pledged,
            signer_name=signer or parent.applicant_name,
            signed_by=parent.filed_by,
            via=via,
            actor=actor,
        )
    if parent.channel == BundleCase.Channel.WINDOW:
        services.case_window_receive(
            actor=actor, case_id=case.pk, window_id=parent.window_id, paper_indexes=paper, note="一件事窗口收件"
        )
    else:
        services.case_submit(actor=actor, case_id=case.pk)
    _event(parent, "start", actor, f"{child.item_name} → {child.department.name}（{case.number}）", child)
    return case


def _advance(parent: BundleCase, actor: Any, *, withdrawn: bool = False) -> None:
    """Apply the flow's plan: start the next stage, cancel what can no longer run, conclude."""
    children = list(parent.children.select_related("department", "item", "version").order_by("stage", "position"))
    step = flow.plan([flow.Child(c.stage, flow.ChildStatus(c.status)) for c in children], withdrawn=withdrawn)
    for i in step.cancel:
        child = children[i]
        child.status = flow.child_next(child.status, "cancel")
        child.cancelled_note = "申请人已撤回" if withdrawn else "前序事项未办成，本事项未启动"
        child.save(update_fields=["status", "cancelled_note"])
        _event(parent, "cancel", actor, f"{child.item_name}：{child.cancelled_note}", child)
    for i in step.start:
        child = children[i]
        starter = actor if child.stage == 1 else BUNDLE_ACTOR
        if child.stage == 1:
            _start_child(parent, child, starter)
            continue
        try:
            with transaction.atomic():  # a later stage that cannot start must not undo the predecessor
                _start_child(parent, child, starter)
        except (ValidationFailed, Conflict, NotFound, PermissionDenied) as exc:
            child.refresh_from_db()
            _event(parent, "start_failed", BUNDLE_ACTOR, f"{child.item_name}未能自动分送：{exc.message}", child)
            notify.to_user(
                parent.applicant,
                case=None,
                title=f"一件事事项需要处理（{parent.number}）",
                body=f"{child.item_name}未能自动分送：{exc.message}。请联系一件事窗口。",
            )
    if step.conclusion:
        _conclude(parent, step.conclusion, actor)
    parent.updated_at = timezone.now()
    parent.save(update_fields=["updated_at"])


OUTCOME_TEXT = {
    flow.ParentState.COMPLETED: "全部事项已办结",
    flow.ParentState.PARTIAL: "部分事项已办结",
    flow.ParentState.FAILED: "事项均未办成",
    flow.ParentState.WITHDRAWN: "申请人已撤回",
}


def _conclude(parent: BundleCase, conclusion: str, actor: Any) -> None:
    state = flow.parent_next(parent.state, conclusion)
    children = list(parent.children.order_by("stage", "position"))
    done = [c.item_name for c in children if c.status == flow.ChildStatus.APPROVED]
    not_done = [c.item_name for c in children if c.status != flow.ChildStatus.APPROVED]
    note = OUTCOME_TEXT[state]
    if state == flow.ParentState.PARTIAL:
        note += f"：已办结 {'、'.join(done)}；未办成 {'、'.join(not_done)}"
    now = timezone.now()
    rated = state != flow.ParentState.WITHDRAWN  # a withdrawn application is not rated
    parent.state, parent.closed_at, parent.outcome_note = state, now, note[:2000]
    parent.evaluation_invited_at = now if rated else None
    parent.save(update_fields=["state", "closed_at", "outcome_note", "evaluation_invited_at"])
    _event(parent, "conclude", actor, note)
    body = note + ("。欢迎对本次“一件事”服务作出一次评价。" if rated else "。")
    notify.to_user(
        parent.applicant,
        case=None,
        title=f"一件事{PARENT_TEXT[state]}（{parent.bundle_name}，{parent.number}）",
        body=body,
        phone=parent.contact_phone,
    )
    if parent.filed_by_id != parent.applicant_id and parent.authorization_id:
        notify.to_user(parent.filed_by, case=None, title=f"一件事{PARENT_TEXT[state]}（{parent.number}）", body=note)
    events.bundle_completed.fire(
        bundle_case_id=parent.pk,
        bundle_code=parent.bundle.code,
        outcome=state.value,
        applicant_id=parent.applicant_id,
    )


PARENT_TEXT = {
    flow.ParentState.COMPLETED: "已办结",
    flow.ParentState.PARTIAL: "部分办结",
    flow.ParentState.FAILED: "未办成",
    flow.ParentState.WITHDRAWN: "已撤回",
}


@events.observer
def _on_case_event(case: Case, act: str, before: str, actor: Any) -> None:
    """A child case ended (办结/不予许可/不予受理/预审不通过/撤回): move its bundle on."""
    if case.state == before:
        return
    what = flow.case_event(case.state, case.decision)
    if what is None:
        return
    child = BundleChild.objects.filter(case_id=case.pk).first()
    if child is None or child.status != flow.ChildStatus.RUNNING:
        return
    parent = lock(BundleCase.objects.filter(pk=child.parent_id))
    child.status = flow.child_next(child.status, what)
    child.save(update_fields=["status"])
    label = "办结" if what == "approve" else case.state_label
    _event(parent, what, actor, f"{child.item_name}：{label}（{case.number}）", child)
    if parent.state == flow.ParentState.IN_PROGRESS:
        _advance(parent, actor, withdrawn=parent.pk in _withdrawing.get())


@action
def bundle_withdraw(*, actor: Any, bundle_case_id: int, reason: str = "") -> BundleCase:
    """撤回一件事 — every child not yet decided is withdrawn, waiting ones are not started."""
    from . import services

    parent = BundleCase.objects.filter(pk=bundle_case_id).first()
    if parent is None or not policy.allows(actor, "bundle_case.view", parent):
        raise NotFound("一件事办件不存在或您无权查看。", code="bundle_case_not_found")
    policy.require(actor, "bundle_case.withdraw", parent)
    if agents.acts_as_agent(actor, parent):
        agents.require_scope(
            actor, principal_id=parent.applicant_id, item_code=parent.children.first().item.code, what="bundle_withdraw"
        )
    # lock the child cases first, then the parent (the order every child action uses)
    running = lock_many(Case.objects.filter(bundle_link__parent=parent))
    parent = lock(BundleCase.objects.filter(pk=bundle_case_id))
    if parent.state != flow.ParentState.IN_PROGRESS:
        raise Conflict("该一件事已办结，不能撤回。", code="bundle_case_closed")
    withdrawable = [c for c in running if c.state in _WITHDRAWABLE]
    if not withdrawable and not parent.children.filter(status=flow.ChildStatus.WAITING).exists():
        raise Conflict("事项均已作出决定，不能撤回。", code="bundle_case_not_withdrawable")
    _event(parent, "withdraw", actor, reason or "申请人撤回")
    token = _withdrawing.set(_withdrawing.get() | {parent.pk})
    try:
        for case in withdrawable:
            services.case_withdraw(actor=actor, case_id=case.pk, reason=reason or "撤回一件事申请")
        parent.refresh_from_db()
        if parent.state == flow.ParentState.IN_PROGRESS:
            _advance(parent, actor, withdrawn=True)
    finally:
        _withdrawing.reset(token)
    parent.refresh_from_db()
    return parent


_withdrawing: contextvars.ContextVar[frozenset[int]] = contextvars.ContextVar("bundle_withdrawing", default=frozenset())


_WITHDRAWABLE = {
    State.SUBMITTED,
    State.RECEIVED,
    State.SUPPLEMENT,
    State.IN_PROCESS,
    State.REVIEW_SUPPLEMENT,
    State.SPECIAL,
}


@action
def bundle_resume(*, actor: Any, bundle_case_id: int) -> BundleCase:
    """重新分送 — retry starting a stage that could not start automatically (e.g. an item was suspended)."""
    parent = BundleCase.objects.filter(pk=bundle_case_id).first()
    if parent is None or not policy.allows(actor, "bundle_case.view", parent):
        raise NotFound("一件事办件不存在或您无权查看。", code="bundle_case_not_found")
    policy.require(actor, "bundle_case.resume", parent)
    parent = lock(BundleCase.objects.filter(pk=bundle_case_id))
    if parent.state != flow.ParentState.IN_PROGRESS:
        raise Conflict("该一件事已办结。", code="bundle_case_closed")
    _advance(parent, actor)
    return parent


# --- reads -----------------------------------------------------------------------------------------------


def level(parent: BundleCase) -> int:
    """Warning light of the parent's own promise (0 green, 1 yellow, 2 red; 0 once concluded on time)."""
    if parent.promised_due is None:
        return 0
    calendar = get_calendar(parent.region_code)
    threshold = dl.yellow_threshold(parent.promised_days or 0)
    yellow = dl.yellow_from(calendar, parent.promised_due, Unit.WORKING, threshold)
    if parent.closed_at is not None:
        return 2 if timezone.localdate(parent.closed_at) > parent.promised_due else 0
    return int(dl.level_on(clock.today(), promised_due=parent.promised_due, yellow_on=yellow))


def progress(parent: BundleCase) -> dict[str, Any]:
    children = list(parent.children.select_related("case", "department").order_by("stage", "position"))
    statuses = [c.status for c in children]
    counts = {s.value: statuses.count(s.value) for s in flow.ChildStatus}
    return {"percent": flow.progress(statuses), "counts": counts, "total": len(children)}
