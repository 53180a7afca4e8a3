"""Workbench pages of the catalog (事项管理): items in scope, draft editor, preview, publish, diff, report."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.catalog import diff as catalog_diff
from yiwang.catalog import quality, selectors, services
from yiwang.catalog.elements import ItemElements
from yiwang.catalog.guide import guide
from yiwang.catalog.models import CatalogItem, ServiceItem, ServiceItemVersion
from yiwang.core.errors import DomainError, ValidationFailed
from yiwang.core.permissions import policy
from yiwang.directory.models import Department

from .. import catalog_forms
from .common import staff_required


def _item(request, code: str) -> ServiceItem:
    try:
        item = selectors.item_get(code=code)
    except DomainError:
        raise Http404 from None
    if not policy.allows(request.user, "catalog.item.manage", item):
        raise Http404
    return item


@staff_required
def items(request):
    qs = selectors.items_for_staff(user=request.user).select_related("current_version")
    state = request.GET.get("state", "")
    if state in ServiceItem.State.values:
        qs = qs.filter(state=state)
    q = (request.GET.get("q") or "").strip()[:50]
    if q:
        qs = qs.filter(name__icontains=q) | qs.filter(code=q)
    if request.GET.get("changed") == "1":
        qs = qs.filter(draft_changed=True)
    page = Paginator(qs.order_by("department__name", "sort_order", "code"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/workbench/items.html",
        {
            "page": page,
            "state": state,
            "q": q,
            "states": ServiceItem.State.choices,
            "changed": request.GET.get("changed"),
        },
    )


def _departments(user):
    return (
        policy.filter(user, "catalog.item.manage", Department.objects.select_related("region")).order_by(
            "region_id", "name"
        )
        if not user.is_superuser
        else Department.objects.select_related("region").order_by("region_id", "name")
    )


@staff_required
@require_http_methods(["GET", "POST"])
def item_new(request):
    departments = _departments(request.user)
    context = {"departments": departments[:500], "form": request.POST}
    if request.method == "POST":
        try:
            catalog_item = CatalogItem.objects.filter(code=request.POST.get("catalog_code", "").strip()).first()
            if catalog_item is None:
                raise ValidationFailed(_("基本目录中没有这个基本编码。"), code="catalog_item_not_found")
            dept = departments.filter(pk=request.POST.get("department") or 0).first()
            if dept is None:
                raise ValidationFailed(_("请选择实施部门。"), code="department_required")
            name = request.POST.get("name", "").strip() or catalog_item.name
            item = services.item_create(
                actor=request.user,
                code=request.POST.get("code", ""),
                catalog_item=catalog_item,
                department=dept,
                elements={"name": name, "item_type": catalog_item.item_type},
            )
        except DomainError as exc:
            context["error"] = exc.message
            return render(request, "catalog/workbench/item_new.html", context, status=exc.status)
        messages.success(request, _("已创建事项草稿，请完善要素后发布。"))
        return redirect("web:workbench_catalog_edit", code=item.code)
    return render(request, "catalog/workbench/item_new.html", context)


def _error_list(exc: DomainError) -> list[str]:
    details = exc.details
    if isinstance(details, list):
        return [f"{d.get('field', '')}：{d.get('message', '')}" for d in details if isinstance(d, dict)]
    if isinstance(details, dict):
        return [f"{k}：{v}" for k, v in details.items()]
    return []


@staff_required
@require_http_methods(["GET", "POST"])
def item_edit(request, code: str):
    """草稿编辑 — scalar elements and inline materials, fees, steps, FAQ, form fields, places."""
    item = _item(request, code)
    status = 200
    errors: list[str] = []
    if request.method == "POST":
        item_form, formsets = catalog_forms.build(request.POST, item.draft)
        if item_form.is_valid() and all(fs.is_valid() for fs in formsets.values()):
            data = catalog_forms.assemble(item_form, formsets, item.draft)
            try:
                services.item_update_draft(actor=request.user, item=item, elements=data)
            except DomainError as exc:
                messages.error(request, exc.message)
                errors = _error_list(exc)
                status = exc.status
            else:
                messages.success(request, _("草稿已保存。"))
                if request.POST.get("then") == "preview":
                    return redirect("web:workbench_catalog_preview", code=code)
                return redirect("web:workbench_catalog_edit", code=code)
        else:
            status = 422
            messages.error(request, _("请修改标出的错误。"))
    else:
        item_form, formsets = catalog_forms.build(None, item.draft)
    try:
        violations = quality.check(ItemElements.model_validate(item.draft))
    except Exception:  # a draft saved before a schema change
        violations = []
    titles = {prefix: title for prefix, _form, title in catalog_forms.INLINES}
    return render(
        request,
        "catalog/workbench/item_edit.html",
        {
            "item": item,
            "item_form": item_form,
            "inlines": [(prefix, titles[prefix], fs) for prefix, fs in formsets.items()],
            "violations": violations,
            "errors": errors,
            "rule_titles": quality.rule_titles(),
            "versions": list(selectors.item_versions(item=item)[:20]),
            "can_publish": policy.allows(request.user, "catalog.item.publish", item),
        },
        status=status,
    )


def _draft_version(item: ServiceItem) -> ServiceItemVersion:
    e = ItemElements.model_validate(item.draft)
    last = item.versions.order_by("-number").values_list("number", flat=True).first() or 0
    return ServiceItemVersion(
        item=item,
        number=last + 1,
        published_at=timezone.now(),
        department=item.department,
        region=item.region,
        elements=e.dump(),
        **services.version_columns(e),
    )


@staff_required
def item_preview(request, code: str):
    """预览 — the draft rendered exactly as the public guide will show it."""
    item = _item(request, code)
    version = _draft_version(item)
    return render(
        request,
        "catalog/workbench/preview.html",
        {"item": item, "version": version, "g": guide(version), "violations": quality.check(version.data)},
    )


@staff_required
@require_POST
def item_publish(request, code: str):
    item = _item(request, code)
    try:
        version = services.item_publish(actor=request.user, item=item, note=request.POST.get("note", "")[:500])
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("web:workbench_catalog_edit", code=code)
    messages.success(request, _("已发布第 %(n)s 版。") % {"n": version.number})
    return redirect("web:workbench_catalog_edit", code=code)


@staff_required
@require_POST
def item_state(request, code: str, action: str):
    item = _item(request, code)
    fn = {"suspend": services.item_suspend, "resume": services.item_resume, "cancel": services.item_cancel}.get(action)
    if fn is None:
        raise Http404
    kwargs = {} if action == "resume" else {"reason": request.POST.get("reason", "")}
    try:
        fn(actor=request.user, item=item, **kwargs)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("事项状态已更新。"))
    return redirect("web:workbench_catalog_edit", code=code)


@staff_required
def item_diff(request, code: str):
    """版本比对 — ``?a=1&b=2`` (numbers) or ``b=draft``; default: the version in force against the draft."""
    item = _item(request, code)
    versions = {v.number: v for v in item.versions.all()}

    def pick(value, default):
        if value == "draft" or (value is None and default == "draft"):
            return "draft", item.draft, _("草稿")
        try:
            number = int(value) if value is not None else default
        except (TypeError, ValueError):
            raise Http404 from None
        if number not in versions:
            raise Http404
        return number, versions[number].elements, _("第 %(n)s 版") % {"n": number}

    current = item.current_version.number if item.current_version_id else None
    if current is None and request.GET.get("a") is None:
        a = (None, {}, _("（无）"))
    else:
        a = pick(request.GET.get("a"), current)
    b = pick(request.GET.get("b"), "draft")
    changes = catalog_diff.diff(a[1], b[1])
    return render(
        request,
        "catalog/workbench/diff.html",
        {"item": item, "a": a, "b": b, "changes": changes, "versions": sorted(versions)},
    )


@staff_required
def report(request):
    """事项质量报告 — per department in the user's scope: items failing the quality rules and why."""
    if not policy.allows(request.user, "catalog.report"):
        raise Http404
    rows = selectors.quality_report(user=request.user)
    return render(
        request,
        "catalog/workbench/report.html",
        {
            "rows": rows,
            "titles": quality.rule_titles(),
            "total": sum(r["items"] for r in rows),
            "failing": sum(r["failing"] for r in rows),
        },
    )
