"""Portal pages of the catalog: browse items (by department, theme, level), the guide, bundles, PDFs."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from yiwang.catalog import codes, selectors
from yiwang.catalog.guide import guide
from yiwang.catalog.models import Bundle, ServiceItem
from yiwang.core.documents import Document, render_pdf
from yiwang.core.errors import DomainError
from yiwang.directory.codes import LEVEL_NAMES

TABS = ("department", "personal", "corporate", "level")


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@require_GET
def items(request):
    """事项浏览 — by department, by personal/corporate lifecycle theme, by level; with the matching items."""
    tab = request.GET.get("by") if request.GET.get("by") in TABS else "department"
    department = _int(request.GET.get("department"))
    theme = (request.GET.get("theme") or "")[:50]
    level = _int(request.GET.get("level"))
    online = request.GET.get("online") == "1"
    q = (request.GET.get("q") or "").strip()[:50]
    context = {"tab": tab, "theme": theme, "level": level, "department_id": department, "online": online, "q": q}
    if tab == "department":
        groups: dict[str, dict] = {}
        for row in selectors.departments_with_items():
            group = groups.setdefault(
                row["region_id"],
                {"name": row["region__full_name"] or row["region__name"], "level": row["region__level"], "rows": []},
            )
            group["rows"].append(row)
        context["department_groups"] = list(groups.values())
    elif tab in ("personal", "corporate"):
        context["themes"] = selectors.theme_counts(audience=tab)
    else:
        context["levels"] = [(lv, _(LEVEL_NAMES.get(lv, str(lv))), n) for lv, n in selectors.level_counts()]

    filtered = department or theme or level or online or q
    if filtered:
        if theme and tab in ("personal", "corporate"):
            qs = selectors.published_items_by_audience(audience=tab, theme=theme)
        else:
            qs = selectors.published_items(
                department_id=department, theme=theme or None, level=level, online=True if online else None, q=q or None
            )
        page = Paginator(qs, 30).get_page(request.GET.get("page"))
        context["page"] = page
        context["results"] = [(i, i.current_version) for i in page.object_list]
        if department:
            from yiwang.directory.models import Department

            context["department"] = Department.objects.filter(pk=department).first()
        if level:
            context["level_name"] = _(LEVEL_NAMES.get(level, str(level)))
    return render(request, "catalog/items.html", context)


def _version_or_404(code: str, number: int | None):
    try:
        item = selectors.item_get(code=code)
        version = selectors.version_get(item_code=code, number=number) if number is not None else item.current_version
    except DomainError:
        raise Http404 from None
    if version is None:
        raise Http404
    return item, version


@require_GET
def item_guide(request, code: str, number: int | None = None):
    """办事指南 — the full guide of the version in force (or of an earlier version)."""
    item, version = _version_or_404(code, number)
    context = {
        "item": item,
        "version": version,
        "g": guide(version),
        "is_current": version.pk == item.current_version_id,
        "versions": list(selectors.item_versions(item=item)[:20]),
        "applicable": item.state == ServiceItem.State.PUBLISHED and version.pk == item.current_version_id,
        "bundles": Bundle.objects.filter(state=Bundle.State.PUBLISHED, members__item=item).distinct(),
    }
    template = "catalog/guide_print.html" if request.GET.get("print") else "catalog/guide.html"
    return render(request, template, context)


@require_GET
def item_apply(request, code: str):
    """在线办理 — hand over to the application flow (cases) when it is installed, else to the item's own URL."""
    item, version = _version_or_404(code, None)
    if item.state != ServiceItem.State.PUBLISHED or not version.is_online:
        messages.error(request, _("该事项暂不支持网上办理，请到窗口办理。"))
        return redirect("web:item", code=code)
    for name in ("web:case_apply", "cases:apply"):
        try:
            return redirect(reverse(name, kwargs={"code": code}))
        except NoReverseMatch:
            continue
    url = version.data.online_url
    if url.startswith(("http://", "https://")):
        return redirect(url)
    messages.info(request, _("网上申报功能即将开放，您也可以预约到窗口办理。"))
    return redirect("web:item", code=code)


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "public, max-age=3600"
    return response


SAMPLE_VALUES = {
    "text": "张三",
    "textarea": "（示例）按实际情况填写。",
    "number": "1",
    "date": "2026-01-05",
    "id_number": "4401061990XXXXXXXX",
    "credit_code": "91440106XXXXXXXXXX",
    "phone": "13800138000",
    "email": "zhangsan@example.com",
    "checkbox": "☑",
}


@require_GET
def item_blank_form(request, code: str):
    """空白表格/示例样表 — the application form of the item, generated from its form definition."""
    item, version = _version_or_404(code, None)
    sample = bool(request.GET.get("sample"))
    e = version.data
    rows = []
    for f in e.form.fields:
        if sample:
            value = ", ".join(f.options[:1]) if f.options else SAMPLE_VALUES.get(f.type, "")
        else:
            value = " / ".join(f"□{o}" for o in f.options) if f.options else ""
        rows.append([f.label + ("（必填）" if f.required else ""), value])
    doc = Document(
        title=f"{e.name}申请表" + ("（示例样表）" if sample else ""),
        issuer=item.department.name,
        number=f"事项编码：{item.code}",
        table_header=["项目", "填写内容"],
        table_rows=rows,
        paragraphs=["申请人承诺：以上填写内容及所提交材料真实、有效，如有虚假愿承担相应法律责任。"],
        date_text="申请人（签字/盖章）：__________    日期：____年__月__日",
        qr_payload=request.build_absolute_uri(reverse("web:item", kwargs={"code": code})),
        footer=f"版本 {version.number}",
    )
    return _pdf(render_pdf(doc), f"{item.code}-{'sample' if sample else 'form'}.pdf")


@require_GET
def item_result_sample(request, code: str):
    """结果样本 — a specimen of the result document."""
    item, version = _version_or_404(code, None)
    e = version.data
    if not e.result.name:
        raise Http404
    doc = Document(
        title=f"{e.result.name}（样本）",
        issuer=item.department.name,
        number="编号：样本-0000001",
        fields=[("持有人", "张三"), ("事项", e.name), ("类型", codes.RESULT_TYPE_NAMES.get(e.result.type, ""))],
        paragraphs=["本样本仅供参考，不具有法律效力。"],
        seal_text=item.department.name,
        footer="样本",
    )
    return _pdf(render_pdf(doc), f"{item.code}-result-sample.pdf")


@require_GET
def bundles(request):
    return render(request, "catalog/bundles.html", {"bundles": selectors.published_bundles()})


@require_GET
def bundle_detail(request, code: str):
    """一件事 — ask the 情形 questions, then show the items to handle, one material list and one form."""
    try:
        bundle = selectors.bundle_get(code=code)
    except DomainError:
        raise Http404 from None
    answers = {s["key"]: request.GET.get(s["key"], "") for s in bundle.scenarios}
    answered = all(answers.values()) if bundle.scenarios else True
    all_members = selectors.bundle_members(bundle=bundle)
    members = selectors.bundle_applicable_members(bundle=bundle, answers=answers) if answered else all_members
    form, mapping = selectors.bundle_form(members=members)
    context = {
        "bundle": bundle,
        "answers": answers,
        "answered": answered,
        "all_members": all_members,
        "stages": selectors.bundle_stages(members=members),
        "materials": selectors.bundle_materials(members=members),
        "material_total": sum(len(m.item.current_version.data.materials) for m in members if m.item.current_version_id),
        "form": form,
        "mapping": mapping,
        "scenarios": [{**s, "answer": answers.get(s["key"], "")} for s in bundle.scenarios],
    }
    return render(request, "catalog/bundle.html", context)
