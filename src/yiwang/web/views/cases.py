"""办件 pages for applicants (我的办件) and the shared pieces (form rendering, documents, files)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.accounts.selectors import active_authorizations
from yiwang.cases import clock, documents, events, selectors, services, uploads
from yiwang.cases import deadlines as dl
from yiwang.cases.models import Case, CaseMaterial
from yiwang.cases.states import ACTION_LABELS, Action, State
from yiwang.catalog.models import ServiceItem
from yiwang.core.documents import qr_svg_data_uri
from yiwang.core.errors import DomainError
from yiwang.workdays.calendar import get_calendar

from .common import login_required

EVENT_LABELS = {a.value: ACTION_LABELS[a] for a in Action} | {
    "create": "创建申请",
    "attach": "上传材料",
    "detach": "删除材料",
}


# --- shared helpers ---------------------------------------------------------------------------------------


def form_rows(case: Case, errors: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The item's form definition with the case's values and errors, ready for ``cases/_form.html``."""
    return field_rows(case.version.data.form.fields, case.form_data or {}, errors or {})


def field_rows(fields, data: dict[str, Any], errors: dict[str, str]) -> list[dict[str, Any]]:
    """Form fields (an item's or a bundle's merged form) with values and errors, for ``cases/_form.html``."""
    rows = []
    for f in fields:
        value = data.get(f.name, "")
        rows.append(
            {
                "name": f.name,
                "label": f.label,
                "type": f.type,
                "required": f.required,
                "options": f.options,
                "help": f.help,
                "max_length": f.max_length,
                "value": value,
                "values": value if isinstance(value, list) else [],
                "error": errors.get(f.name, ""),
            }
        )
    return rows


def form_from_post(case: Case, post) -> dict[str, Any]:
    """Read the item's fields from a POST (empty values are left out so a draft may be partial)."""
    return fields_from_post(case.version.data.form.fields, post)


def fields_from_post(fields, post) -> dict[str, Any]:
    """Values of ``fields`` posted as ``f_<name>`` inputs; empty values are left out."""
    data: dict[str, Any] = {}
    for f in fields:
        key = f"f_{f.name}"
        if f.type == "multiselect":
            values = [v for v in post.getlist(key) if v]
            if values:
                data[f.name] = values
        elif f.type == "checkbox":
            if post.get(key):
                data[f.name] = True
        else:
            value = (post.get(key) or "").strip()
            if value:
                data[f.name] = value
    return data


def deadline_info(case: Case) -> dict[str, Any]:
    """What the pages say about the clock: due dates, units left, light, provisional, stopped."""
    info: dict[str, Any] = {"promised_due": case.promised_due, "legal_due": case.legal_due}
    if case.promised_due is None:
        return info
    today = clock.today()
    paused = case.state in (State.REVIEW_SUPPLEMENT, State.SPECIAL)
    if case.state == State.IN_PROCESS and case.yellow_on:
        level = dl.level_on(today, promised_due=case.promised_due, yellow_on=case.yellow_on)
    else:
        level = dl.Level(case.warning_level)
    left = None
    if case.state in (State.IN_PROCESS,):
        left = get_calendar(case.region_code).between(today, case.promised_due, case.promised_unit or "working").days
    info.update(
        level=int(level),
        level_label=level.label,
        left=left,
        unit_label=_("自然日") if (case.promised_unit or "") == "natural" else _("工作日"),
        provisional=case.deadlines_provisional,
        paused=paused,
        limit=case.promised_limit,
        accepted_on=case.accepted_on,
        extension_days=case.extension_days,
    )
    return info


def timeline_rows(user: Any, case: Case) -> list[dict[str, Any]]:
    return [
        {
            "at": e.at,
            "label": EVENT_LABELS.get(e.action) or events.EVENT_LABELS.get(e.action, e.action),
            "actor": e.actor_label,
            "note": e.note,
            "state": State(e.to_state).label if e.to_state else "",
        }
        for e in selectors.timeline(user=user, case=case)
    ]


def materials_rows(case: Case) -> list[dict[str, Any]]:
    files: dict[int, list] = {}
    for attached in case.files.select_related("file").order_by("attached_at"):
        files.setdefault(attached.material_id, []).append(attached.file)
    return [
        {
            "m": m,
            "status_label": CaseMaterial.Status(m.status).label,
            "files": files.get(m.pk, []),
            "required": m.necessity == "required",
        }
        for m in case.materials.order_by("index")
    ]


def attach_posted_files(request, case: Case) -> int:
    """Files posted as ``material_<index>`` (several per material allowed)."""
    count = 0
    for key in request.FILES:
        if not key.startswith("material_"):
            continue
        try:
            index = int(key.removeprefix("material_"))
        except ValueError:
            continue
        for upload in request.FILES.getlist(key):
            services.case_attach_file(
                actor=request.user, case_id=case.pk, material_index=index, name=upload.name, content=upload
            )
            count += 1
    return count


# --- documents and files (applicants and staff) -------------------------------------------------------


@login_required
def document(request, number: str):
    doc = _document_or_404(request, number)
    content = documents.from_json(doc.content)
    return render(
        request,
        "cases/document.html",
        {"row": doc, "doc": content, "qr_uri": qr_svg_data_uri(content.qr_payload) if content.qr_payload else ""},
    )


@login_required
def document_pdf(request, number: str):
    doc = _document_or_404(request, number)
    response = HttpResponse(documents.ensure_pdf(doc), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{doc.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


def _document_or_404(request, number: str):
    try:
        return selectors.document_get(user=request.user, number=number)
    except DomainError:
        raise Http404 from None


@login_required
def stored_file(request, file_id: uuid.UUID):
    try:
        stored = services.stored_file_for(actor=request.user, file_id=str(file_id))
    except DomainError:
        raise Http404 from None
    response = FileResponse(uploads.open_file(stored), content_type=stored.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    response["Cache-Control"] = "private, no-store"
    return response


# --- applicants ----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def apply(request, code: str):
    """在线办理 — start (or resume) an application for a published item."""
    item = ServiceItem.objects.select_related("current_version", "department").filter(code=code).first()
    if item is None or item.current_version is None:
        raise Http404
    user = request.user
    if getattr(user, "is_staff_member", False):
        messages.info(request, _("工作人员请在工作台“窗口收件”中为申请人办理。"))
        return redirect("web:workbench_intake")
    principals = [a for a in active_authorizations(agent=user) if a.covers("case.apply", item_code=code)]
    if request.method == "POST":
        applicant_id = request.POST.get("applicant") or None
        try:
            case = services.case_create_draft(
                actor=user, item_code=code, applicant_id=int(applicant_id) if applicant_id else None
            )
        except (DomainError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", _("申请人不正确。")))
            return redirect("web:case_apply", code=code)
        return redirect("web:my_case_edit", pk=case.pk)
    drafts = selectors.my_cases(user=user, state=State.DRAFT).filter(item=item)
    return render(
        request,
        "cases/apply.html",
        {"item": item, "version": item.current_version, "principals": principals, "drafts": drafts},
    )


@login_required
def my_cases(request):
    state = request.GET.get("state") or None
    cases = selectors.my_cases(user=request.user, state=state if state in State.__members__.values() else None)
    return render(
        request,
        "cases/my_cases.html",
        {
            "cases": cases.select_related("item")[:200],
            "counts": selectors.state_counts(user=request.user),
            "state": state,
            "unread": selectors.unread_count(user=request.user),
        },
    )


def _my_case_or_404(request, pk: int) -> Case:
    try:
        return selectors.case_get(user=request.user, case_id=pk)
    except DomainError:
        raise Http404 from None


@login_required
def my_case(request, pk: int):
    case = _my_case_or_404(request, pk)
    allowed = {a.value for a in selectors.allowed_actions(user=request.user, case=case)}
    return render(
        request,
        "cases/my_case.html",
        {
            "case": case,
            "deadline": deadline_info(case),
            "timeline": timeline_rows(request.user, case),
            "materials": materials_rows(case),
            "documents": selectors.documents_of(user=request.user, case=case),
            "form": form_rows(case),
            "can_edit": case.state in (State.DRAFT, State.SUPPLEMENT, State.REVIEW_SUPPLEMENT)
            and ("resubmit" in allowed or case.state == State.DRAFT),
            "can_withdraw": "withdraw" in allowed,
            "requested": [m for m in case.materials.all() if m.status == CaseMaterial.Status.REQUESTED],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def my_case_edit(request, pk: int):
    """Fill the form and upload materials (a draft), or supply what a 补正 notice asked for."""
    case = _my_case_or_404(request, pk)
    if case.state not in (State.DRAFT, State.SUPPLEMENT, State.REVIEW_SUPPLEMENT):
        return redirect("web:my_case", pk=pk)
    errors: dict[str, str] = {}
    if request.method == "POST":
        intent = request.POST.get("intent", "save")
        try:
            if case.state == State.DRAFT:
                services.case_save_draft(actor=request.user, case_id=pk, form_data=form_from_post(case, request.POST))
            attach_posted_files(request, case)
            if intent == "submit":
                services.case_submit(actor=request.user, case_id=pk)
                messages.success(request, _("申请已提交，请等待预审。"))
                return redirect("web:my_case", pk=pk)
            if intent == "resubmit":
                services.case_resubmit(actor=request.user, case_id=pk, note=request.POST.get("note", ""))
                messages.success(request, _("补正材料已提交。"))
                return redirect("web:my_case", pk=pk)
            messages.success(request, _("已保存。"))
            return redirect("web:my_case_edit", pk=pk)
        except DomainError as exc:
            messages.error(request, exc.message)
            if exc.code == "form_invalid" and isinstance(exc.details, dict):
                errors = exc.details
            case.refresh_from_db()
    return render(
        request,
        "cases/my_case_edit.html",
        {
            "case": case,
            "form": form_rows(case, errors),
            "materials": materials_rows(case),
            "max_mb": uploads.max_bytes() // (1024 * 1024),
            "accept": ",".join(ext for k in uploads.allowed_kinds() for ext in uploads.TYPES[k].extensions),
        },
    )


@login_required
@require_POST
def my_case_withdraw(request, pk: int):
    try:
        services.case_withdraw(actor=request.user, case_id=pk, reason=request.POST.get("reason", ""))
        messages.success(request, _("申请已撤回。"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("web:my_case", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def my_messages(request):
    if request.method == "POST":
        services.messages_mark_read(actor=request.user)
        return redirect("web:my_messages")
    return render(request, "cases/messages.html", {"items": selectors.messages_for(user=request.user)[:200]})
