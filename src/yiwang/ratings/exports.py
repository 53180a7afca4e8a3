"""Report exports: XLSX (openpyxl) and printable PDF (``yiwang.core.documents``)."""

from __future__ import annotations

import io

from django.utils import timezone

from yiwang.core.documents import Document, render_pdf

from . import reports, scale
from .reports import Report, percent

LEVEL_HEADERS = [lv.label for lv in scale.LEVELS_DESC]
HEADER = [
    "排名",
    "名称",
    "评价量",
    *LEVEL_HEADERS,
    "好评率",
    "差评",
    "差评率",
    "可评价服务",
    "主动评价率",
    "整改率",
    "回访率",
    "满意度",
]


def _row(rank, label, f: scale.Figures) -> list:
    return [
        rank if rank is not None else "样本不足",
        label,
        f.total,
        *[f.by_level.get(int(lv), 0) for lv in scale.LEVELS_DESC],
        percent(f.good_rate),
        f.bad,
        percent(f.bad_rate),
        f.rateable,
        percent(f.active_rate),
        percent(f.rectified_rate),
        percent(f.revisit_rate),
        reports.score(f.score),
    ]


def title(report: Report) -> str:
    return f"好差评统计报表（{report.period.label}，按{report.by_label}）"


def xlsx(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "汇总"
    sheet.append([title(report)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(
        [
            f"统计期间：{report.period.start:%Y-%m-%d} 至 {report.period.end:%Y-%m-%d}；"
            f"排名最小样本量：{report.min_sample}；生成时间：{timezone.localtime():%Y-%m-%d %H:%M}"
        ]
    )
    sheet.append(HEADER)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    for row in reports.ranking(report):
        sheet.append(_row(row.rank, row.label, row.figures))
    sheet.append(_row("", "合计", report.total))
    sheet.column_dimensions["B"].width = 36
    trend = book.create_sheet("趋势")
    trend.append(["月份", "评价量", "好评率", "差评", "差评率", "主动评价率", "整改率", "回访率"])
    for month, f in report.trend:
        trend.append(
            [
                f"{month:%Y-%m}",
                f.total,
                percent(f.good_rate),
                f.bad,
                percent(f.bad_rate),
                percent(f.active_rate),
                percent(f.rectified_rate),
                percent(f.revisit_rate),
            ]
        )
    reasons = book.create_sheet("主要问题")
    reasons.append(["差评原因", "次数"])
    for _, label, n in report.bad_reasons:
        reasons.append([label, n])
    reasons.append([])
    reasons.append(["全部评价选项", "次数"])
    for _, label, n in report.top_reasons:
        reasons.append([label, n])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


PDF_HEADER = ["排名", "名称", "评价量", "好评率", "差评", "主动评价率", "整改率", "回访率", "满意度"]


def document(report: Report, *, issuer: str = "一网通办 好差评") -> Document:
    rows = [
        [
            r.rank if r.rank is not None else "—",
            r.label,
            r.figures.total,
            percent(r.figures.good_rate),
            r.figures.bad,
            percent(r.figures.active_rate),
            percent(r.figures.rectified_rate),
            percent(r.figures.revisit_rate),
            reports.score(r.figures.score),
        ]
        for r in reports.ranking(report)
    ]
    t = report.total
    paragraphs = [
        f"本期共收到评价 {t.total} 件，其中好评 {t.good} 件、差评 {t.bad} 件；好评率 {percent(t.good_rate)}，"
        f"差评率 {percent(t.bad_rate)}，主动评价率 {percent(t.active_rate)}，差评整改率 {percent(t.rectified_rate)}，"
        f"回访率 {percent(t.revisit_rate)}。",
        f"排名按好评率、满意度、评价量排序；评价量少于 {report.min_sample} 件的不参与排名。",
    ]
    if report.bad_reasons:
        paragraphs.append(
            "主要差评原因：" + "；".join(f"{label} {n} 次" for _, label, n in report.bad_reasons[:5]) + "。"
        )
    return Document(
        title=title(report),
        issuer=issuer,
        paragraphs=paragraphs,
        table_header=PDF_HEADER,
        table_rows=rows,
        date_text=f"{timezone.localtime():%Y年%m月%d日}",
    )


def pdf(report: Report) -> bytes:
    return render_pdf(document(report))
