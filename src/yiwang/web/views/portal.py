"""Portal (门户): home, regions, departments, halls."""

from __future__ import annotations

from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from yiwang.catalog import selectors as catalog
from yiwang.core.errors import DomainError
from yiwang.directory import selectors as directory


@require_GET
def home(request):
    provinces = directory.region_children(code=None)[:40]
    halls = directory.hall_list()[:6]
    return render(request, "web/home.html", {"provinces": provinces, "halls": halls})


@require_GET
def regions(request):
    return render(
        request, "web/regions.html", {"children": directory.region_children(code=None), "region": None, "ancestors": []}
    )


@require_GET
def region_detail(request, code: str):
    try:
        region = directory.region_get(code=code)
    except DomainError:
        raise Http404 from None
    context = {
        "region": region,
        "ancestors": directory.region_ancestors(region=region),
        "children": directory.region_children(code=region.code)[:500],
        "departments": directory.department_list(region_code=region.code).filter(region_id=region.code)[:200],
        "halls": directory.hall_list(region_code=region.code)[:50],
    }
    return render(request, "web/regions.html", context)


@require_GET
def department_detail(request, pk: int):
    try:
        dept = directory.department_get(department_id=pk)
    except DomainError:
        raise Http404 from None
    return render(
        request,
        "web/department.html",
        {
            "department": dept,
            "ancestors": [*directory.region_ancestors(region=dept.region), dept.region],
            "windows": dept.windows.select_related("hall").filter(is_active=True),
            "items": catalog.published_items(department_id=dept.pk)[:200],
        },
    )


@require_GET
def hall_detail(request, pk: int):
    try:
        hall = directory.hall_get(hall_id=pk)
    except DomainError:
        raise Http404 from None
    return render(
        request,
        "web/hall.html",
        {
            "hall": hall,
            "ancestors": [*directory.region_ancestors(region=hall.region), hall.region],
            "windows": directory.hall_windows(hall=hall),
        },
    )


@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})
