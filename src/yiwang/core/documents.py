"""Official documents (文书): notices, receipts, commitments and reports as PDF, with a QR code.

One small document model rendered by ReportLab with a TrueType CJK font from Debian
(``fonts-wqy-zenhei``: about 20 ms a page, the font subset embedded). When that font is missing the
built-in ``STSong-Light`` CID font is used (not embedded: fine for printing, not for archiving).
The same :class:`Document` renders to HTML through ``web/document.html`` for screens and print.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import segno

FONT_CANDIDATES = [
    os.environ.get("YIWANG_PDF_FONT", ""),
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
]


@dataclass(frozen=True)
class Document:
    """文书 — what every notice has: an issuer, a title, a number, fields, text, an optional table."""

    title: str
    issuer: str
    number: str = ""
    recipient: str = ""
    fields: Sequence[tuple[str, str]] = ()
    paragraphs: Sequence[str] = ()
    table_header: Sequence[str] = ()
    table_rows: Sequence[Sequence[str]] = ()
    date_text: str = ""
    seal_text: str = ""
    qr_payload: str = ""
    footer: str = ""
    extra: dict = field(default_factory=dict)


@functools.cache
def cjk_font() -> tuple[str, bool]:
    """(font name, embedded?) — registers the font with ReportLab once per process."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    for path in FONT_CANDIDATES:
        if path and os.path.exists(path):
            pdfmetrics.registerFont(TTFont("YiwangCJK", path, subfontIndex=0))
            return "YiwangCJK", True
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light", False


def qr_png(payload: str, *, scale: int = 3) -> bytes:
    buffer = io.BytesIO()
    segno.make(payload, error="m").save(buffer, kind="png", scale=scale, border=1)
    return buffer.getvalue()


def qr_svg_data_uri(payload: str, *, scale: int = 3) -> str:
    return segno.make(payload, error="m").svg_data_uri(scale=scale, border=1)


def render_pdf(doc: Document) -> bytes:
    """Render one document to A4 PDF bytes."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font, _ = cjk_font()
    title = ParagraphStyle("title", fontName=font, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=4 * mm)
    small = ParagraphStyle("small", fontName=font, fontSize=9, leading=13, alignment=TA_CENTER)
    body = ParagraphStyle("body", fontName=font, fontSize=11, leading=18, firstLineIndent=22, wordWrap="CJK")
    plain = ParagraphStyle("plain", fontName=font, fontSize=11, leading=18, wordWrap="CJK")
    cell = ParagraphStyle("cell", fontName=font, fontSize=9.5, leading=13, wordWrap="CJK")
    right = ParagraphStyle("right", fontName=font, fontSize=11, leading=18, alignment=TA_RIGHT)

    story: list = [Paragraph(escape(doc.issuer), small), Paragraph(escape(doc.title), title)]
    if doc.number:
        story.append(Paragraph(escape(doc.number), small))
        story.append(Spacer(1, 4 * mm))
    if doc.recipient:
        story.append(Paragraph(escape(doc.recipient) + "：", plain))
    for text in doc.paragraphs:
        story.append(Paragraph(escape(text), body))
    if doc.fields:
        rows = [[Paragraph(escape(k), cell), Paragraph(escape(v), cell)] for k, v in doc.fields]
        table = Table(rows, colWidths=[38 * mm, 132 * mm])
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                    ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story += [Spacer(1, 3 * mm), table]
    if doc.table_rows:
        header = [Paragraph(escape(h), cell) for h in doc.table_header]
        rows = [[Paragraph(escape(str(c)), cell) for c in row] for row in doc.table_rows]
        n = max(len(doc.table_header), max(len(r) for r in doc.table_rows))
        table = Table(([header] if header else []) + rows, colWidths=[170 * mm / n] * n, repeatRows=1 if header else 0)
        style = [("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke))
        table.setStyle(TableStyle(style))
        story += [Spacer(1, 3 * mm), table]
    story.append(Spacer(1, 8 * mm))
    if doc.seal_text:
        story.append(Paragraph(escape(doc.seal_text), right))
    if doc.date_text:
        story.append(Paragraph(escape(doc.date_text), right))
    if doc.qr_payload:
        image = Image(io.BytesIO(qr_png(doc.qr_payload)), width=28 * mm, height=28 * mm)
        image.hAlign = "LEFT"
        story += [Spacer(1, 4 * mm), image]
    if doc.footer:
        story += [Spacer(1, 2 * mm), Paragraph(escape(doc.footer), small)]

    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=doc.title,
        author=doc.issuer,
    ).build(story)
    return buffer.getvalue()
