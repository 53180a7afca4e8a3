"""办件 in the staff workbench: queues, case detail with the allowed actions, window intake (一窗受理)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.accounts import services as accounts
from yiwang.accounts.selectors import memberships
from yiwang.cases import clock, selectors, services
from yiwang.cases.models import Case
from yiwang.cases.services import SPECIAL_TYPES, Deficiency
from yiwang.cases.states import ACTION_LABELS, Action, State
from yiwang.catalog.models import ServiceItem
from yiwang.core.errors import DomainError, ValidationFailed
from yiwang.core.permissions import policy
from yiwang.directory.models import Window

from .cases import attach_posted_files, deadline_info, form_from_post, form_rows, materials_rows, timeline_rows
from .common import staff_required


def _queues_allowed(request) -> None:
    if not policy.allows(request.user, "case.queues"):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied


@staff_required
def queues(request):
    _queues_allowed(request)
    key = request.GET.get("queue") or "to_accept"
    if key not in selectors.QUEUE_KEYS:
        key = "to_accept"
    cases = selectors.queue(user=request.user, key=key).select_related("item")[:200]
    context = {
        "queues": selectors.QUEUES,
        "counts": selectors.queue_counts(user=request.user),
        "key": key,
        "cases": [(c, deadline_info(c)) for c in cases],
        "can_intake": policy.allows(request.user, "case.intake"),
    }
    if request.headers.get("HX-Request"):
        return render(request, "cases/workbench/_queue.html", context)
    return render(request, "cases/workbench/queues.html", context)


def _case_or_404(request, pk: int) -> Case:
    try:
        return selectors.case_get(user=request.user, case_id=pk)
    except DomainError:
        raise Http404 from None


def _windows(user):
    prefixes = {m.region_id[: {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}[m.region.level]] for m in memberships(user)}
    qs = Window.objects.select_related("hall").filter(is_active=True).order_by("hall__name", "number")
    if user.is_superuser:
        return list(qs[:200])
    return [w for w in qs[:2000] if any(w.hall.region_id.startswith(p) for p in prefixes)]


@staff_required
def case_detail(request, pk: int):
    case = _case_or_404(request, pk)
    allowed = selectors.allowed_actions(user=request.user, case=case)
    return render(
        request,
        "cases/workbench/case.html",
        {
            "case": case,
            "deadline": deadline_info(case),
            "timeline": timeline_rows(request.user, case),
            "materials": materials_rows(case),
            "form": form_rows(case),
            "documents": selectors.documents_of(user=request.user, case=case),
            "steps": case.steps.order_by("index", "started_at"),
            "pauses": case.pauses.order_by("start"),
            "extensions": case.extensions.order_by("requested_at"),
            "supervisions": case.supervisions.order_by("created_at"),
            "allowed": [(a.value, ACTION_LABELS[a]) for a in allowed],
            "allowed_keys": {a.value for a in allowed},
            "special_types": SPECIAL_TYPES,
            "tomorrow": clock.today() + dt.timedelta(days=3),
            "windows": _windows(request.user) if case.state == State.DRAFT else [],
        },
    )


def _deficiencies(post) -> list[Deficiency]:
    items = []
    for index in post.getlist("material"):
        reason = (post.get(f"reason_{index}") or "").strip()
        items.append(Deficiency(reason=reason, material_index=int(index)))
    extra_name, extra_reason = (post.get("extra_name") or "").strip(), (post.get("extra_reason") or "").strip()
    if extra_name or extra_reason:
        items.append(Deficiency(reason=extra_reason, name=extra_name))
    return items


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@staff_required
@require_POST
def case_act(request, pk: int, act: str):
    """Run one action from the case page; the service checks permission and state."""
    user, post = request.user, request.POST
    calls = {
        "pretrial_pass": lambda: services.case_pretrial(actor=user, case_id=pk, outcome="pass"),
        "pretrial_return": lambda: services.case_pretrial(
            actor=user, case_id=pk, outcome="return", reason=post.get("reason", "")
        ),
        "pretrial_reject": lambda: services.case_pretrial(
            actor=user, case_id=pk, outcome="reject", reason=post.get("reason", "")
        ),
        "request_supplement": lambda: services.case_request_supplement(
            actor=user, case_id=pk, items=_deficiencies(post), note=post.get("note", "")
        ),
        "return_for_supplement": lambda: services.case_return_for_supplement(
            actor=user, case_id=pk, items=_deficiencies(post), note=post.get("note", "")
        ),
        "resubmit": lambda: services.case_resubmit(
            actor=user, case_id=pk, note=post.get("note", ""), paper_indexes=[int(i) for i in post.getlist("paper")]
        ),
        "accept": lambda: services.case_accept(actor=user, case_id=pk, note=post.get("note", "")),
        "not_accept": lambda: services.case_not_accept(
            actor=user, case_id=pk, reason=post.get("reason", ""), referral=post.get("referral", "")
        ),
        "complete_step": lambda: services.case_complete_step(actor=user, case_id=pk, opinion=post.get("opinion", "")),
        "start_special": lambda: services.case_start_special(
            actor=user,
            case_id=pk,
            special_type=post.get("special_type", ""),
            reason=post.get("reason", ""),
            time_limit_days=_int(post.get("time_limit_days"), 0),
        ),
        "end_special": lambda: services.case_end_special(actor=user, case_id=pk, result=post.get("result", "")),
        "request_extension": lambda: services.case_request_extension(
            actor=user, case_id=pk, days=_int(post.get("days"), 0), reason=post.get("reason", "")
        ),
        "approve_extension": lambda: services.case_decide_extension(
            actor=user, case_id=pk, approve=True, note=post.get("note", "")
        ),
        "reject_extension": lambda: services.case_decide_extension(
            actor=user, case_id=pk, approve=False, note=post.get("note", "")
        ),
        "decide_approve": lambda: services.case_decide(
            actor=user, case_id=pk, approve=True, opinion=post.get("opinion", "")
        ),
        "decide_reject": lambda: services.case_decide(
            actor=user, case_id=pk, approve=False, opinion=post.get("opinion", "")
        ),
        "complete": lambda: services.case_complete(
            actor=user, case_id=pk, delivery=post.get("delivery", "window"), note=post.get("note", "")
        ),
        "supervise": lambda: services.case_supervise(
            actor=user,
            case_id=pk,
            note=post.get("note", ""),
            feedback_due=_date(post.get("feedback_due")),
        ),
        "supervise_feedback": lambda: services.case_supervision_feedback(
            actor=user, supervision_id=_int(post.get("supervision"), 0), feedback=post.get("feedback", "")
        ),
        "window_receive": lambda: _receive(request, pk),
    }
    if act not in calls:
        raise Http404
    try:
        calls[act]()
    except DomainError as exc:
        messages.error(request, exc.message)
    except ValueError:
        messages.error(request, _("输入内容不正确。"))
    else:
        messages.success(request, _("已完成：%(action)s") % {"action": _(ACTION_LABELS[Action(act)])})
    return redirect("web:workbench_case", pk=pk)


def _date(value) -> dt.date:
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        raise ValidationFailed(_("请选择反馈期限。"), code="feedback_due_invalid") from None


def _receive(request, pk: int):
    case = _case_or_404(request, pk)
    services.case_save_draft(actor=request.user, case_id=pk, form_data=form_from_post(case, request.POST))
    attach_posted_files(request, case)
    return services.case_window_receive(
        actor=request.user,
        case_id=pk,
        window_id=_int(request.POST.get("window")),
        paper_indexes=[int(i) for i in request.POST.getlist("paper")],
        note=request.POST.get("note", ""),
    )


@staff_required
@require_http_methods(["GET", "POST"])
def intake(request):
    """窗口收件 step 1: the item and the applicant (ID number look-up; registration when new)."""
    if not policy.allows(request.user, "case.intake"):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    context = {"q": request.GET.get("q", "")}
    if context["q"]:
        q = context["q"].strip()
        context["items"] = list(
            ServiceItem.objects.filter(state=ServiceItem.State.PUBLISHED, name__icontains=q).select_related(
                "department"
            )[:30]
        ) or list(ServiceItem.objects.filter(state=ServiceItem.State.PUBLISHED, code=q).select_related("department"))
    if request.method == "POST":
        code = request.POST.get("item_code", "")
        try:
            person = accounts.person_find_by_id_number(actor=request.user, id_number=request.POST.get("id_number", ""))
            if person is None:
                messages.warning(request, _("未找到该申请人，请先为其办理窗口实名注册。"))
                return redirect("web:workbench_person_new")
            case = services.case_create_draft(actor=request.user, item_code=code, applicant_id=person.user_id)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(f"{request.path}?q={code}")
        return redirect("web:workbench_case", pk=case.pk)
    return render(request, "cases/workbench/intake.html", context)
