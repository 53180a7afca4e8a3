"""Pages of 好差评 (thin: reads through selectors/reports, writes through services).

- ``/rate/<token>/`` — the mobile rating page from an invitation link or QR code (public);
- ``/rate/device/<key>/`` — the evaluator tablet at a window: five large faces after each service;
- ``/workbench/ratings/…`` — window service, the rectification queue and detail, supervisor reports;
- ``/ratings/…`` — the public disclosure on the portal.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.core.documents import qr_svg_data_uri
from yiwang.core.errors import DomainError, NotFound
from yiwang.core.permissions import policy
from yiwang.directory.models import Department, Region, Window
from yiwang.web.views.common import staff_required

from . import charts, exports, public, reports, scale, selectors, services
from .reports import Filters, Period
from .transitions import Classification, State

DEVICE_COOKIE = "yw_device"
FACE_LEVELS = [(int(lv), lv.label) for lv in scale.LEVELS_DESC]
PUBLIC_CHANNELS = {"qr", "sms", "portal", "app", "kiosk"}


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _device_id(request) -> str:
    return request.COOKIES.get(DEVICE_COOKIE, "")[:64]


def _with_device_cookie(request, response):
    if not request.COOKIES.get(DEVICE_COOKIE):
        response.set_cookie(
            DEVICE_COOKIE,
            secrets.token_urlsafe(16),
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


# --- the mobile rating page ---------------------------------------------------------------------------
def _options(view, level: int | None, channel: str) -> dict:
    if level is None:
        return {}
    mode = scale.service_mode(channel, view.target.mode)
    return {
        "level": level,
        "level_label": scale.Level(level).label,
        "is_bad": scale.Level(level).is_bad,
        "reasons": scale.reason_options(level, mode),
        "indicators": scale.INDICATORS[mode],
    }


@require_http_methods(["GET", "POST"])
def rate(request, token: str):
    try:
        view = selectors.invitation_view(token)
    except DomainError:
        return render(request, "ratings/rate_invalid.html", status=404)
    channel = request.GET.get("c") or request.POST.get("channel") or "qr"
    channel = channel if channel in PUBLIC_CHANNELS else "qr"
    level = _int(request.POST.get("level") or request.GET.get("level"))
    level = level if level in range(1, 6) else None
    context = {
        "view": view,
        "token": token,
        "channel": channel,
        "faces": FACE_LEVELS,
        "form": request.POST,
        "department": Department.objects.filter(pk=view.target.department_id).first(),
        **_options(view, level, channel),
    }
    if request.method == "POST" and level is not None:
        try:
            rating = services.rating_submit(
                token=token,
                level=level,
                channel=channel,
                indicators={
                    o.code: int(request.POST[f"ind_{o.code}"])
                    for o in scale.INDICATORS[scale.service_mode(channel, view.target.mode)]
                    if _int(request.POST.get(f"ind_{o.code}")) in range(1, 6)
                },
                reasons=request.POST.getlist("reasons"),
                text=request.POST.get("text", ""),
                anonymous=request.POST.get("anonymous") == "1",
                actor=request.user if request.user.is_authenticated else None,
                contact_name=request.POST.get("contact_name", ""),
                contact_phone=request.POST.get("contact_phone", ""),
                device=_device_id(request) or f"ip:{request.META.get('REMOTE_ADDR', '')}",
            )
        except DomainError as exc:
            context["error"] = exc.message
            return render(request, "ratings/rate.html", context, status=exc.status)
        context.update(
            {
                "rating": rating,
                "follow_up_url": reverse("ratings:rate", args=[rating.follow_up_token])
                if rating.follow_up_token
                else "",
            }
        )
        return render(request, "ratings/rate_done.html", context)
    if request.headers.get("HX-Request") and level is not None:
        return render(request, "ratings/partials/rate_options.html", context)
    return _with_device_cookie(request, render(request, "ratings/rate.html", context))


@require_GET
def mine(request):
    """我的评价 — the services the logged-in person may rate, and the ratings they gave (portal channel)."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    return render(
        request,
        "ratings/mine.html",
        {
            "pending": selectors.invitations_for_person(request.user),
            "given": selectors.ratings_of_person(request.user),
        },
    )


# --- the evaluator tablet -----------------------------------------------------------------------------
def _device_or_404(key: str):
    device = selectors.device_by_key(key)
    if device is None:
        raise Http404
    return device


@require_GET
def evaluator(request, key: str):
    device = _device_or_404(key)
    return render(
        request, "ratings/evaluator.html", {"device": device, "key": key, "now": selectors.window_now(device.window_id)}
    )


@require_GET
def evaluator_now(request, key: str):
    device = _device_or_404(key)
    now = selectors.window_now(device.window_id)
    level = _int(request.GET.get("level"))
    context = {"device": device, "key": key, "now": now, "faces": FACE_LEVELS}
    if now.state == "rate" and level in (1, 2) and request.GET.get("token") == now.token:
        context.update(
            {
                "level": level,
                "level_label": scale.Level(level).label,
                "reasons": scale.reason_options(level, scale.Mode.ONSITE),
            }
        )
        return render(request, "ratings/partials/evaluator_reasons.html", context)
    return render(request, "ratings/partials/evaluator_now.html", context)


@require_POST
def evaluator_submit(request, key: str):
    device = _device_or_404(key)
    level = _int(request.POST.get("level"))
    context = {"device": device, "key": key}
    try:
        services.rating_submit(
            token=request.POST.get("token", ""),
            level=level if level else 0,
            channel=scale.Channel.EVALUATOR,
            reasons=request.POST.getlist("reasons"),
            evaluator_device=device,
        )
    except DomainError as exc:
        context.update({"error": exc.message, "now": selectors.window_now(device.window_id), "faces": FACE_LEVELS})
        return render(request, "ratings/partials/evaluator_now.html", context, status=200)
    return render(request, "ratings/partials/evaluator_thanks.html", context)


# --- workbench: window service ------------------------------------------------------------------------
def _windows_for(user):
    windows = Window.objects.select_related("hall").filter(is_active=True).order_by("hall__name", "number")
    return [w for w in windows if policy.allows(user, "ratings.contact.manage", w)]


@staff_required
@require_http_methods(["GET", "POST"])
def window_service(request):
    windows = _windows_for(request.user)
    window_id = _int(request.GET.get("window") or request.POST.get("window"))
    window = next((w for w in windows if w.pk == window_id), windows[0] if len(windows) == 1 else None)
    context = {"windows": windows, "window": window}
    if window is not None:
        if request.method == "POST":
            action = request.POST.get("action")
            try:
                if action == "start":
                    services.contact_start(
                        actor=request.user,
                        window_id=window.pk,
                        department_id=_int(request.POST.get("department")),
                        item_name=request.POST.get("item_name", ""),
                        item_code=request.POST.get("item_code", ""),
                        phone=request.POST.get("phone", ""),
                        ticket_no=request.POST.get("ticket_no", ""),
                    )
                    messages.success(request, _("已开始服务。"))
                elif action == "end":
                    invitation = services.contact_end(
                        actor=request.user, contact_id=_int(request.POST.get("contact"), 0)
                    )
                    messages.success(request, _("服务已结束，已邀请服务对象评价。"))
                    return redirect(f"{reverse('ratings:window')}?window={window.pk}&invite={invitation.token}")
                elif action == "device":
                    device, key = services.device_register(
                        actor=request.user, window_id=window.pk, name=request.POST.get("name", "")
                    )
                    context["new_device_url"] = request.build_absolute_uri(reverse("ratings:evaluator", args=[key]))
                    context["new_device"] = device
            except DomainError as exc:
                messages.error(request, exc.message)
            if action != "device":
                return redirect(f"{reverse('ratings:window')}?window={window.pk}")
        invite = request.GET.get("invite", "")
        if invite:
            url = request.build_absolute_uri(reverse("ratings:rate", args=[invite]))
            context.update({"invite_url": url, "invite_qr": qr_svg_data_uri(url, scale=4)})
        context.update(
            {
                "departments": list(window.departments.all())
                or list(Department.objects.filter(region_id=window.hall.region_id, is_active=True)),
                "contacts": selectors.contacts_for_window(request.user, window.pk),
                "can_manage_devices": policy.allows(request.user, "ratings.device.manage", window),
                "devices": selectors.devices_for_window(window.pk),
            }
        )
    return render(request, "ratings/workbench/window.html", context)


# --- workbench: rectifications ------------------------------------------------------------------------
@staff_required
@require_GET
def rectification_list(request):
    state = request.GET.get("state", "")
    state = state if state in State.__members__.values() else ""
    scope = request.GET.get("scope", "open")
    qs = selectors.rectifications_for(
        request.user, state=state or None, open_only=scope == "open" and not state, mine=scope == "mine"
    )
    rows = selectors.with_warnings(qs[:200])
    return render(
        request,
        "ratings/workbench/rectifications.html",
        {"rows": rows, "states": [(s.value, s.label) for s in State], "state": state, "scope": scope},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def rectification_detail(request, pk: int):
    try:
        rect = selectors.rectification_for(request.user, pk)
    except NotFound:
        raise Http404 from None
    evaluator = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        post = request.POST
        try:
            if action == "assign":
                services.rectification_assign(
                    actor=request.user,
                    rectification_id=pk,
                    assignee_id=_int(post.get("assignee"), 0),
                    note=post.get("note", ""),
                )
            elif action == "verify":
                services.rectification_verify(
                    actor=request.user,
                    rectification_id=pk,
                    reached=post.get("reached") == "1",
                    note=post.get("note", ""),
                )
            elif action == "classify":
                deadline = None
                if post.get("deadline"):
                    try:
                        deadline = dt.date.fromisoformat(post["deadline"])
                    except ValueError:
                        deadline = None
                services.rectification_classify(
                    actor=request.user,
                    rectification_id=pk,
                    classification=post.get("classification", ""),
                    note=post.get("note", ""),
                    problem=post.get("problem", ""),
                    measures=post.get("measures", ""),
                    responsible=post.get("responsible", ""),
                    deadline=deadline,
                )
            elif action == "review":
                services.rectification_review_appeal(
                    actor=request.user, rectification_id=pk, upheld=post.get("upheld") == "1", note=post.get("note", "")
                )
            elif action == "feedback":
                services.rectification_feedback(
                    actor=request.user,
                    rectification_id=pk,
                    text=post.get("text", ""),
                    public_summary=post.get("public_summary", ""),
                )
            elif action == "return_visit":
                reached = post.get("reached") == "1"
                services.rectification_return_visit(
                    actor=request.user,
                    rectification_id=pk,
                    reached=reached,
                    level=_int(post.get("level")) if reached else None,
                    note=post.get("note", ""),
                )
            elif action == "reveal":
                evaluator = services.evaluator_reveal(actor=request.user, rectification_id=pk)
            else:
                raise DjangoPermissionDenied
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            if action != "reveal":
                messages.success(request, _("已保存。"))
                return redirect("ratings:rectification", pk=pk)
        rect = selectors.rectification_for(request.user, pk)
    today = selectors.today_local()
    context = {
        "rect": rect,
        "rating": rect.rating,
        "ledger": getattr(rect, "ledger", None),
        "events": rect.events.all(),
        "actions": selectors.available_actions(request.user, rect),
        "warning": selectors.warning(rect, today=today),
        "due": selectors.current_due(rect),
        "assignable": selectors.assignable_staff(rect),
        "classifications": [(c.value, c.label) for c in Classification if c is not Classification.APPEAL],
        "levels": FACE_LEVELS,
        "evaluator": evaluator,
        "today": today,
    }
    return render(request, "ratings/workbench/rectification.html", context)


# --- workbench: reports -------------------------------------------------------------------------------
def _report_from_request(request) -> reports.Report:
    q = request.GET
    today = selectors.today_local()
    month = q.get("month") or f"{today:%Y-%m}"
    if q.get("start") and q.get("end"):
        try:
            period = Period(dt.date.fromisoformat(q["start"]), dt.date.fromisoformat(q["end"]))
        except ValueError:
            period = Period.parse_month(month)
    else:
        period = Period.parse_month(month)
    by = q.get("by", "department")
    return reports.build(
        request.user,
        period=period,
        by=by if by in reports.DIMENSIONS else "department",
        filters=Filters(
            department_id=_int(q.get("department_id")),
            hall_id=_int(q.get("hall_id")),
            window_id=_int(q.get("window_id")),
            staff_id=_int(q.get("staff_id")),
            item_code=q.get("item_code", "")[:64],
        ),
    )


def _report_charts(report: reports.Report) -> dict:
    level_bars = charts.bars(
        [(lv.label, report.total.by_level.get(int(lv), 0), charts.LEVEL_COLOURS[int(lv)]) for lv in scale.LEVELS_DESC],
        title=_("各等级评价数量"),
    )
    trend = charts.line(
        [(f"{m:%Y-%m}", None if f.good_rate is None else f.good_rate * 100) for m, f in report.trend],
        title=_("好评率趋势（近12个月）"),
    )
    reasons = charts.bars([(label, n, "#c0392b") for _, label, n in report.bad_reasons[:8]], title=_("主要差评原因"))
    return {"level_chart": level_bars, "trend_chart": trend, "reason_chart": reasons if report.bad_reasons else ""}


@staff_required
@require_GET
def report_page(request):
    if not policy.allows(request.user, "ratings.report.view"):
        raise DjangoPermissionDenied
    try:
        report = _report_from_request(request)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("ratings:reports")
    context = {
        "report": report,
        "ranking": reports.ranking(report),
        "dimensions": [(k, v[1]) for k, v in reports.DIMENSIONS.items()],
        "query": request.GET.urlencode(),
        "month": request.GET.get("month") or f"{report.period.start:%Y-%m}",
        **_report_charts(report),
    }
    template = "ratings/workbench/report_print.html" if request.GET.get("print") else "ratings/workbench/reports.html"
    return render(request, template, context)


@staff_required
@require_GET
def report_export(request, fmt: str):
    if not policy.allows(request.user, "ratings.report.view"):
        raise DjangoPermissionDenied
    try:
        report = _report_from_request(request)
    except DomainError as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain; charset=utf-8")
    name = f"ratings-{report.period.start:%Y%m%d}-{report.period.end:%Y%m%d}-{report.by}"
    if fmt == "xlsx":
        response = HttpResponse(
            exports.xlsx(report), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    elif fmt == "pdf":
        response = HttpResponse(exports.pdf(report), content_type="application/pdf")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


# --- public disclosure ---------------------------------------------------------------------------------
def _month_or_last(value: str | None) -> Period:
    if value:
        try:
            return Period.parse_month(value)
        except DomainError:
            raise Http404 from None
    today = selectors.today_local()
    return Period.month(today.year, today.month)


@require_GET
def disclosure(request):
    regions = Region.objects.filter(level__lte=3, is_active=True).order_by("code")[:200]
    region_code = request.GET.get("region", "")
    region = Region.objects.filter(code=region_code).first() if region_code else None
    period = _month_or_last(request.GET.get("month"))
    prefix = region.prefix if region else ""
    rows = public.region_overview(prefix, period)
    return render(
        request,
        "ratings/public/index.html",
        {"regions": regions, "region": region, "period": period, "rows": rows, "month": f"{period.start:%Y-%m}"},
    )


@require_GET
def disclosure_department(request, pk: int, month: str):
    department = Department.objects.filter(pk=pk, is_active=True).select_related("region").first()
    if department is None:
        raise Http404
    period = _month_or_last(month)
    figures = public.department_figures(department.pk, period)
    return render(
        request,
        "ratings/public/department.html",
        {
            "department": department,
            "period": period,
            "figures": figures,
            "cases": public.rectified_cases(department.pk, period),
            "level_rows": [(lv.label, figures.by_level.get(int(lv), 0)) for lv in scale.LEVELS_DESC],
        },
    )
