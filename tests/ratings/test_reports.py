"""Reports from rollups: counts by level, the KPIs, breakdowns, trend, top reasons, minimum-sample ranking,
scope, exports and the public disclosure."""

import datetime as dt
import io
from types import SimpleNamespace

import pytest

from tests.ratings.factories import bad_rating, rate, served, world
from tests.ratings.test_services import walk
from yiwang.core.errors import PermissionDenied, ValidationFailed
from yiwang.ratings import exports, public, reports, rollups, selectors, services
from yiwang.ratings.reports import Filters, Period

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    return world()


def this_month() -> Period:
    today = selectors.today_local()
    return Period.month(today.year, today.month)


def fake(
    day, *, level=5, channel="qr", department_id=1, staff_id=0, window_id=0, hall_id=0, item="", region="440106000000"
):
    return SimpleNamespace(
        rated_on=day,
        level=level,
        channel=channel,
        department_id=department_id,
        staff_id=staff_id,
        window_id=window_id,
        hall_id=hall_id,
        item_code=item,
        region_code=region,
    )


def test_period_helpers():
    march = Period.month(2026, 3)
    assert (march.start, march.end) == (dt.date(2026, 3, 1), dt.date(2026, 3, 31)) and march.whole_months
    assert march.label == "2026年3月"
    assert Period.parse_month("2026-02").end == dt.date(2026, 2, 28)
    assert not Period(dt.date(2026, 3, 2), dt.date(2026, 3, 31)).whole_months
    assert march.previous_months(3) == [dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)]
    assert Period.month(2026, 1).previous_months(2) == [dt.date(2025, 12, 1), dt.date(2026, 1, 1)]
    with pytest.raises(ValidationFailed):
        Period(dt.date(2026, 3, 2), dt.date(2026, 3, 1))
    with pytest.raises(ValidationFailed):
        Period.parse_month("2026-13")
    with pytest.raises(ValidationFailed):
        Period(dt.date(2020, 1, 1), dt.date(2026, 1, 1))


def test_monthly_report_counts_and_rates(w):
    rate(served(w)[1], 5, reasons=["p_friendly"])
    rate(served(w)[1], 4)
    rate(served(w)[1], 3, reasons=["s_wait"])
    walk(w, bad_rating(w, level=2, reasons=["b_attitude"]).rectification)
    served(w)  # a service nobody rated
    report = reports.build(w.supervisor, period=this_month(), by="department")
    t = report.total
    assert t.by_level == {5: 1, 4: 1, 3: 1, 2: 1}
    assert (t.total, t.good, t.bad, t.rateable, t.active) == (4, 3, 1, 5, 4)
    assert t.good_rate == pytest.approx(0.75) and t.bad_rate == pytest.approx(0.25)
    assert t.active_rate == pytest.approx(0.8)
    assert t.rectified_rate == 1.0 and t.revisit_rate == 1.0
    assert [(r.label, r.figures.total) for r in report.rows] == [("天河区市场监督管理局", 4)]
    assert report.bad_reasons == [("b_attitude", "服务态度差、推诿扯皮", 1)]
    assert {code for code, _, _ in report.top_reasons} == {"p_friendly", "s_wait", "b_attitude"}
    assert report.trend[-1][0] == this_month().start and report.trend[-1][1].total == 4
    assert len(report.trend) == 12


def test_open_rectification_is_not_yet_rectified(w):
    bad_rating(w)
    t = reports.build(w.supervisor, period=this_month()).total
    assert t.bad == 1 and t.rectified_rate == 0.0 and t.revisit_rate == 0.0


def test_day_grain_for_partial_periods_and_breakdowns(w):
    rate(served(w)[1], 5)
    rate(served(w, window=w.other_window)[1], 1, reasons=["b_wait"])
    today = selectors.today_local()
    period = Period(today, today)
    assert not period.whole_months or today.day == 1
    for by, expected in [
        ("window", {"天河区政务服务中心 3号 市场监管窗口": 1, "天河区政务服务中心 4号 民政窗口": 1}),
        ("department", {"天河区市场监督管理局": 1, "天河区民政局": 1}),
        ("hall", {"天河区政务服务中心": 2}),
        ("item", {"营业执照变更登记": 2}),
        ("channel", {"二维码": 2}),
    ]:
        report = reports.build(w.supervisor, period=period, by=by)
        assert {r.label: r.figures.total for r in report.rows} == expected, by
    staff = reports.build(w.supervisor, period=period, by="staff")
    assert {r.label: r.figures.total for r in staff.rows} == {"窗口小王": 1, "（未指定）": 1}
    narrowed = reports.build(w.supervisor, period=period, by="window", filters=Filters(department_id=w.other.pk))
    assert [r.figures.bad for r in narrowed.rows] == [1]
    with pytest.raises(ValidationFailed):
        reports.build(w.supervisor, period=period, by="colour")


def test_excluded_rating_leaves_the_figures(w):
    rect = bad_rating(w).rectification
    services.rectification_assign(actor=w.head, rectification_id=rect.pk, assignee_id=w.handler.pk)
    services.rectification_verify(actor=w.handler, rectification_id=rect.pk, reached=True, note="x")
    services.rectification_classify(actor=w.handler, rectification_id=rect.pk, classification="appeal", note="误评")
    services.rectification_review_appeal(actor=w.supervisor, rectification_id=rect.pk, upheld=True, note="成立")
    t = reports.build(w.supervisor, period=this_month()).total
    assert t.total == 0 and t.bad == 0 and t.rateable == 1 and t.active_rate == 0.0


def test_scope_department_head_sees_own_department_only(w):
    rate(served(w)[1], 5)
    rate(served(w, window=w.other_window)[1], 4)
    assert reports.build(w.supervisor, period=this_month()).total.total == 2
    assert [r.label for r in reports.build(w.head, period=this_month()).rows] == ["天河区市场监督管理局"]
    assert [r.label for r in reports.build(w.other_head, period=this_month()).rows] == ["天河区民政局"]
    for outsider in (w.clerk, w.handler, w.citizen):
        with pytest.raises(PermissionDenied):
            reports.build(outsider, period=this_month())


def test_ranking_applies_the_minimum_sample(w, system):
    day = dt.date(2026, 3, 10)
    for _ in range(30):
        rollups.bump_rating(fake(day, level=4, department_id=w.dept.pk), rated=1, active=1)
    for _ in range(29):
        rollups.bump_rating(fake(day, level=5, department_id=w.other.pk), rated=1, active=1)
    rollups.bump_rating(fake(day, level=5, department_id=w.gov.pk, region="440100000000"), rated=1, active=1)
    report = reports.build(system, period=Period.month(2026, 3), min_sample=30)
    ranked = [(r.label, r.rank) for r in reports.ranking(report)]
    assert ranked == [("天河区市场监督管理局", 1), ("天河区民政局", None), ("广州市政务服务和数据管理局", None)]
    report = reports.build(system, period=Period.month(2026, 3), min_sample=1)
    assert next(r.label for r in reports.ranking(report)) in {"天河区民政局", "广州市政务服务和数据管理局"}


def test_trend_reads_month_rows(w, system):
    rollups.bump_rating(fake(dt.date(2026, 1, 5)), rated=1, active=1)
    rollups.bump_rating(fake(dt.date(2026, 3, 5), level=1), rated=1, active=1)
    report = reports.build(system, period=Period.month(2026, 3), trend_months=3)
    assert [(m.month, f.total, f.bad) for m, f in report.trend] == [(1, 1, 0), (2, 0, 0), (3, 1, 1)]


def test_exports(w):
    rate(served(w)[1], 5)
    walk(w, bad_rating(w, reasons=["b_wait"]).rectification)
    report = reports.build(w.supervisor, period=this_month(), min_sample=1)
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(exports.xlsx(report)))
    assert book.sheetnames == ["汇总", "趋势", "主要问题"]
    rows = list(book["汇总"].iter_rows(values_only=True))
    assert rows[2][:4] == ("排名", "名称", "评价量", "非常满意")
    assert rows[3][1] == "天河区市场监督管理局" and rows[3][2] == 2
    assert rows[-1][1] == "合计" and "50.0%" in rows[-1]
    assert ("排队等候时间长", 1) in list(book["主要问题"].iter_rows(values_only=True))
    pdf = exports.pdf(report)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    doc = exports.document(report)
    assert "差评整改率 100.0%" in doc.paragraphs[0]


def test_public_disclosure_has_figures_and_summaries_without_personal_data(w):
    rate(served(w)[1], 5)
    rating = bad_rating(w, contact_phone="13912345678", text="窗口人员张某态度差")
    walk(w, rating.rectification)
    period = this_month()
    overview = public.region_overview("4401", period)
    assert [(d.name, f.total, f.bad) for d, f in overview] == [("天河区市场监督管理局", 2, 1)]
    cases = public.rectified_cases(w.dept.pk, period)
    assert len(cases) == 1
    case = cases[0]
    assert case.item_name == "营业执照变更登记" and case.level_label == "不满意"
    assert case.classification_label == "立行立改" and case.summary == "加强窗口服务礼仪培训"
    flat = str(case)
    for secret in ("13912345678", "张三", "张某", "承办小陈"):
        assert secret not in flat
    assert public.department_figures(w.dept.pk, period).rectified_rate == 1.0


def test_department_level_rows_agree_with_the_detailed_rows(w):
    from yiwang.ratings.models import RatingRollup

    rate(served(w)[1], 5, reasons=["p_friendly"])
    rate(served(w, window=w.other_window)[1], 1, reasons=["b_wait"])
    walk(w, bad_rating(w).rectification)
    coarse = reports.build(w.supervisor, period=this_month(), by="department")
    detailed = reports.build(w.supervisor, period=this_month(), by="department", filters=Filters(hall_id=w.hall.pk))
    assert [(r.label, r.figures) for r in coarse.rows] == [(r.label, r.figures) for r in detailed.rows]
    assert coarse.bad_reasons == detailed.bad_reasons
    assert [f for _, f in coarse.trend] == [f for _, f in detailed.trend]
    for fine, dept in (("m", "md"), ("d", "dd")):
        rows = RatingRollup.objects.filter(grain=dept)
        assert sum(r.rated for r in rows) == sum(r.rated for r in RatingRollup.objects.filter(grain=fine)) == 3
        assert all((r.hall_id, r.window_id, r.staff_id, r.item_code) == (0, 0, 0, "") for r in rows)
    for by in ("item", "staff", "window", "hall"):  # summary rows ("mi", "ms") against the detailed "m" rows
        summary = reports.build(w.supervisor, period=this_month(), by=by)
        detailed = reports.build(w.supervisor, period=this_month(), by=by, filters=Filters(item_code=rows_item(w)))
        assert [(r.label, r.figures) for r in summary.rows] == [(r.label, r.figures) for r in detailed.rows], by


def rows_item(w):
    return "11440106MB2C910020001"


def test_grain_choice():
    month, days = Period.month(2026, 3), Period(dt.date(2026, 3, 2), dt.date(2026, 3, 9))
    assert reports.grain_for(month, {"department_id"}) == "md"
    assert reports.grain_for(month, {"channel", "department_id"}) == "md"
    assert reports.grain_for(month, {"staff_id", "hall_id"}) == "ms"
    assert reports.grain_for(month, {"item_code"}) == "mi"
    assert reports.grain_for(month, {"item_code", "staff_id"}) == "m"
    assert reports.grain_for(month, {"window_id", "channel"}) == "m"
    assert reports.grain_for(days, {"department_id"}) == "dd"
    assert reports.grain_for(days, {"hall_id"}) == "d"
