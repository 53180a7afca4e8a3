"""12345 hotline pages: the agent console, the order page with its handling steps, queues, KPIs, my orders.

Thin: every change calls a ``yiwang.hotline.services`` action; lists come from the selectors.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.accounts.selectors import department_ids, scope_prefixes
from yiwang.core.errors import DomainError
from yiwang.core.permissions import policy
from yiwang.directory.models import Department, Region
from yiwang.hotline import dispatching, knowledge, kpis, screening, selectors, services, timelimits
from yiwang.hotline.models import Category, ExtensionRequest, WorkOrder
from yiwang.hotline.rules import HANDLER_ROLES, PLATFORM_ROLES
from yiwang.hotline.transitions import State

from .common import login_required, run, staff_required


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _regions_for(user) -> list[Region]:
    """Places an agent may record: regions of county level and below inside their scope (and their city)."""
    prefixes = scope_prefixes(user, PLATFORM_ROLES) if not user.is_superuser else [""]
    qs = Region.objects.filter(is_active=True, level__gte=2).order_by("code")
    regions = [r for r in qs[:2000] if any(r.code.startswith(p) for p in prefixes)]
    return regions


def _platform(user) -> bool:
    return policy.allows(user, "hotline.kpi.view")


# --- agent console -------------------------------------------------------------------------------------
@staff_required
@require_http_methods(["GET", "POST"])
def console(request):
    """坐席台: take a call — the five elements, KB suggestions and duplicate hints while typing."""
    user = request.user
    if not _platform(user):
        raise DjangoPermissionDenied
    context = {
        "form": request.POST,
        "regions": _regions_for(user),
        "kinds": WorkOrder.Kind.choices,
        "urgencies": WorkOrder.Urgency.choices,
        "queue": selectors.platform_queue(user)[:20],
        "overdue_count": selectors.overdue(user).count(),
    }
    if request.method == "POST":
        entry_id = _int(request.POST.get("answer_entry"))
        try:
            order = services.order_create(
                actor=user,
                title=request.POST.get("title", ""),
                content=request.POST.get("content", ""),
                region_code=request.POST.get("region_code", ""),
                kind=request.POST.get("kind", WorkOrder.Kind.CONSULT),
                urgency=request.POST.get("urgency", WorkOrder.Urgency.NORMAL),
                cause=request.POST.get("cause", ""),
                address=request.POST.get("address", ""),
                caller_name=request.POST.get("caller_name", ""),
                caller_phone=request.POST.get("caller_phone", ""),
                is_confidential=bool(request.POST.get("is_confidential")),
                accept_out_of_scope=bool(request.POST.get("accept_out_of_scope")),
            )
            if entry_id:
                services.order_answer(actor=user, order_id=order.pk, entry_id=entry_id)
        except DomainError as exc:
            context["error"] = exc.message
            context["refused"] = exc.code.startswith("not_accepted")
            return render(request, "web/hotline/console.html", context, status=exc.status)
        if entry_id:
            messages.success(request, _("已按知识库答复，工单直接办结：%(number)s") % {"number": order.number})
        else:
            messages.success(request, _("已受理，工单编号：%(number)s") % {"number": order.number})
        return redirect("web:hotline_order", pk=order.pk)
    return render(request, "web/hotline/console.html", context)


@staff_required
def assist(request):
    """htmx: knowledge suggestions, duplicate hints and the out-of-scope warning for the text typed so far."""
    user = request.user
    if not policy.allows(user, "hotline.kb.view"):
        raise DjangoPermissionDenied
    title = request.GET.get("title", "")[:200]
    content = request.GET.get("content", "")[:4000]
    query = f"{title} {content}".strip()
    hits = knowledge.search(query, k=5) if len(query) >= 2 else []
    duplicates = []
    region = request.GET.get("region_code", "")
    if len(query) >= 6 and region:
        visible = selectors.orders(user)
        duplicates = [
            d
            for d in selectors.duplicates(title=title, content=content, region_code=region)
            if visible.filter(pk=d.order.pk).exists()
        ]
    hit = screening.screen(title, content) if query else None
    return render(
        request, "web/hotline/_assist.html", {"hits": hits, "duplicates": duplicates, "screen": hit, "query": query}
    )


# --- order page ------------------------------------------------------------------------------------------
def _order_or_404(user, pk: int) -> WorkOrder:
    try:
        return selectors.order(user, order_id=pk)
    except DomainError:
        raise Http404 from None


@login_required
def order_detail(request, pk: int):
    user = request.user
    order = _order_or_404(user, pk)
    attachments = selectors.attachments(user, order)
    if not getattr(user, "is_staff_member", False) and not user.is_superuser:
        return render(
            request,
            "web/hotline/my_order.html",
            {"order": order, "events": selectors.history(order), "attachments": attachments},
        )
    platform = policy.allows(user, "hotline.order.dispatch", order)
    handler = policy.allows(user, "hotline.order.handle", order)
    state = order.state
    context = {
        "order": order,
        "events": selectors.history(order),
        "attachments": attachments,
        "assignments": order.assignments.select_related("department").order_by("id"),
        "extensions": order.extensions.select_related("department").order_by("-requested_at"),
        "platform": platform,
        "handler": handler,
        "can_supervise": policy.allows(user, "hotline.order.supervise", order),
        "show_phone": policy.allows(user, "hotline.order.sensitive", order) or not order.is_confidential,
        "level": timelimits.level(
            now=timezone.now(), start=order.dispatched_at or order.created_at, due=order.handle_due_at
        )
        if order.state in (State.DISPATCHED, State.HANDLING, State.REOPENED)
        else None,
        "refusals": list(screening.LABELS.items()),
        "satisfactions": WorkOrder.Satisfaction.choices,
    }
    if platform and state == State.NEW:
        suggestion = dispatching.suggest(
            text=f"{order.title} {order.cause} {order.content}", title=order.title, region_code=order.region_id
        )
        category = order.category or (suggestion.category if suggestion else None)
        rule = dispatching.resolve(category, order.region_id) if category else None
        context.update(
            {
                "suggestion": suggestion,
                "suggested_department": (rule.department if rule else None)
                or (suggestion.department if suggestion else None)
                or order.suggested_department,
                "suggested_category": category,
                "departments": Department.objects.filter(is_active=True).order_by("region_id", "name")[:500],
                "categories": Category.objects.filter(is_active=True, level__lte=2).order_by("code")[:400],
                "hits": knowledge.search(f"{order.title} {order.content}", k=3),
                "duplicates": selectors.duplicates(
                    title=order.title, content=order.content, region_code=order.region_id, exclude_id=order.pk
                ),
            }
        )
    return render(request, "web/hotline/order.html", context)


ACTIONS = {
    "dispatch": lambda u, o, p: services.order_dispatch(
        actor=u,
        order_id=o,
        department_id=_int(p.get("department_id"), 0),
        assist_department_ids=[x for x in (_int(v) for v in p.getlist("assist_department_ids")) if x],
        category_code=p.get("category_code") or None,
        note=p.get("note", ""),
    ),
    "answer": lambda u, o, p: services.order_answer(
        actor=u, order_id=o, entry_id=_int(p.get("entry_id")), reply=p.get("reply", "")
    ),
    "sign": lambda u, o, p: services.order_sign(actor=u, order_id=o),
    "return": lambda u, o, p: services.order_return(actor=u, order_id=o, reason=p.get("reason", "")),
    "approve_return": lambda u, o, p: services.order_review_return(
        actor=u, order_id=o, approve=True, note=p.get("note", "")
    ),
    "reject_return": lambda u, o, p: services.order_review_return(
        actor=u, order_id=o, approve=False, note=p.get("note", "")
    ),
    "extension": lambda u, o, p: services.extension_request(
        actor=u, order_id=o, days=_int(p.get("days"), 0), reason=p.get("reason", "")
    ),
    "reply": lambda u, o, p: services.order_reply(actor=u, order_id=o, reply=p.get("reply", "")),
    "approve_reply": lambda u, o, p: services.order_review_reply(
        actor=u, order_id=o, approve=True, note=p.get("note", "")
    ),
    "reject_reply": lambda u, o, p: services.order_review_reply(
        actor=u, order_id=o, approve=False, note=p.get("note", "")
    ),
    "visit": lambda u, o, p: services.order_visit(
        actor=u, order_id=o, result=p.get("result", ""), resolved=p.get("resolved", "1") == "1", note=p.get("note", "")
    ),
    "close": lambda u, o, p: services.order_close(actor=u, order_id=o, note=p.get("note", "")),
    "supervise": lambda u, o, p: services.order_supervise(actor=u, order_id=o, note=p.get("note", "")),
    "merge": lambda u, o, p: services.order_merge(
        actor=u, order_id=o, into_id=_int(p.get("into_id"), 0), note=p.get("note", "")
    ),
    "refuse": lambda u, o, p: services.order_refuse(actor=u, order_id=o, reason=p.get("reason", "")),
}


@staff_required
@require_POST
def order_act(request, pk: int, step: str):
    order = _order_or_404(request.user, pk)
    fn = ACTIONS.get(step)
    if fn is None:
        raise Http404
    run(
        request,
        fn,
        request.user,
        order.pk,
        request.POST,
        success=_("已办理：%(step)s") % {"step": _(STEP_LABELS[step])},
    )
    return redirect("web:hotline_order", pk=order.pk)


@login_required
@require_POST
def order_attach(request, pk: int):
    """添加附件 — the caller on their own order, the platform and the handling departments."""
    order = _order_or_404(request.user, pk)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择要上传的文件。"))
    else:
        run(
            request,
            services.attachment_add,
            actor=request.user,
            order_id=order.pk,
            name=upload.name or "upload",
            content=upload,
            success=_("附件已上传。"),
        )
    return redirect("web:hotline_order", pk=order.pk)


STEP_LABELS = {
    "dispatch": gettext_noop("派单"),
    "answer": gettext_noop("知识库答复"),
    "sign": gettext_noop("签收"),
    "return": gettext_noop("退单"),
    "approve_return": gettext_noop("同意退单"),
    "reject_return": gettext_noop("驳回退单"),
    "extension": gettext_noop("延期申请"),
    "reply": gettext_noop("答复反馈"),
    "approve_reply": gettext_noop("审核通过"),
    "reject_reply": gettext_noop("审核退回"),
    "visit": gettext_noop("回访"),
    "close": gettext_noop("归档"),
    "supervise": gettext_noop("督办"),
    "merge": gettext_noop("并单"),
    "refuse": gettext_noop("不予受理"),
}


@staff_required
@require_POST
def extension_decide(request, pk: int):
    ext = ExtensionRequest.objects.filter(pk=pk).first()
    if ext is None:
        raise Http404
    _order_or_404(request.user, ext.order_id)
    run(
        request,
        services.extension_decide,
        actor=request.user,
        request_id=pk,
        approve=request.POST.get("approve") == "1",
        note=request.POST.get("note", ""),
        success=_("延期申请已审核。"),
    )
    return redirect("web:hotline_order", pk=ext.order_id)


# --- queues --------------------------------------------------------------------------------------------
@staff_required
def department_queue(request):
    """承办单位工作台: 待签收 / 重办 / 办理中, 协办, and stale knowledge of my departments."""
    user = request.user
    mine = department_ids(user, HANDLER_ROLES)
    now = timezone.now()
    orders = list(selectors.department_queue(user)[:200])
    for o in orders:
        o.level = timelimits.level(
            now=now,
            start=o.dispatched_at or o.created_at,
            due=o.sign_due_at if o.status != State.HANDLING else o.handle_due_at,
        )
    return render(
        request,
        "web/hotline/department.html",
        {
            "orders": orders,
            "assisting": selectors.assisting(user)[:50],
            "stale": knowledge.stale_entries(department_ids=mine)[:50],
            "has_department": bool(mine),
        },
    )


@staff_required
def platform_queue(request):
    user = request.user
    if not _platform(user):
        raise DjangoPermissionDenied
    return render(
        request,
        "web/hotline/platform.html",
        {
            "queue": selectors.platform_queue(user)[:200],
            "overdue": selectors.overdue(user)[:100],
            "extensions": selectors.pending_extensions(user)[:50],
        },
    )


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@staff_required
def kpi_page(request):
    """督办/统计: hotline rates with breakdowns and hot topics."""
    user = request.user
    if not policy.allows(user, "hotline.kpi.view"):
        raise DjangoPermissionDenied
    by = request.GET.get("by", "department")
    if by not in ("day", "region", "category", "department"):
        by = "department"
    data = kpis.compute(user, start=_date(request.GET.get("start")), end=_date(request.GET.get("end")), by=by)
    peak = max([r["total"] for r in data["rows"]] or [1]) or 1
    for row in data["rows"]:
        row["bar"] = round(300 * row["total"] / peak)
    rates = [
        ("sign_on_time_rate", _("按时签收率")),
        ("handle_on_time_rate", _("按时办结率")),
        ("direct_rate", _("直接办结率")),
        ("visit_rate", _("回访率")),
        ("satisfaction_rate", _("满意率")),
        ("repeat_rate", _("重复诉求率")),
    ]
    cards = [
        {"key": k, "label": label, "value": data["total"][k], "bar": round(200 * (data["total"][k] or 0))}
        for k, label in rates
    ]
    return render(
        request,
        "web/hotline/kpis.html",
        {
            "data": data,
            "by": by,
            "cards": cards,
            "topics": kpis.hot_topics(user),
            "overdue": selectors.overdue(user)[:50],
            "can_supervise": any(
                policy.allows(user, "hotline.order.supervise", o) for o in selectors.overdue(user)[:1]
            ),
        },
    )


# --- citizens ------------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def my_orders(request):
    """我的诉求: a citizen's own orders and a form to submit a new one online."""
    user = request.user
    context = {
        "orders": selectors.my_orders(user)[:100],
        "form": request.POST,
        "regions": Region.objects.filter(is_active=True, level__gte=3).order_by("code")[:500],
        "kinds": WorkOrder.Kind.choices,
    }
    if request.method == "POST":
        try:
            order = services.order_create(
                actor=user,
                channel=WorkOrder.Channel.WEB,
                title=request.POST.get("title", ""),
                content=request.POST.get("content", ""),
                region_code=request.POST.get("region_code", ""),
                kind=request.POST.get("kind", WorkOrder.Kind.COMPLAINT),
                address=request.POST.get("address", ""),
            )
        except DomainError as exc:
            context["error"] = exc.message
            return render(request, "web/hotline/my_orders.html", context, status=exc.status)
        messages.success(request, _("您的诉求已提交，工单编号：%(number)s") % {"number": order.number})
        return redirect(reverse("web:hotline_mine"))
    return render(request, "web/hotline/my_orders.html", context)
