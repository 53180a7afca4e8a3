"""办件文书 — the notices and receipts a case produces (受理通知书, 不予受理通知书, 补正告知书 …).

Each document is built as a :class:`yiwang.core.documents.Document`, stored with the case as JSON
(:class:`CaseDocument.content`, the record of what was issued) and rendered to PDF once, after commit,
into private storage (``PRIVATE_FILES_DIR/documents``); the HTML view renders the same content.
Numbers: ``<办件编号>-<type code><nn>``, e.g. ``44010600000020261009000042-SL01``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from yiwang.core.documents import Document, render_pdf

from .models import Case, CaseDocument

CODES = {
    CaseDocument.Kind.RECEIPT: "SJ",
    CaseDocument.Kind.ACCEPT: "SL",
    CaseDocument.Kind.NOT_ACCEPT: "BSL",
    CaseDocument.Kind.SUPPLEMENT: "BZ",
    CaseDocument.Kind.SPECIAL: "TB",
    CaseDocument.Kind.EXTENSION: "YQ",
    CaseDocument.Kind.APPROVE: "ZY",
    CaseDocument.Kind.REJECT: "BY",
    CaseDocument.Kind.COMPLETION: "BJ",
    CaseDocument.Kind.SUPERVISION: "DB",
    CaseDocument.Kind.GAP_PLEDGE: "RQ",
    CaseDocument.Kind.PLEDGE: "CN",
    CaseDocument.Kind.PICKUP: "LQ",
    CaseDocument.Kind.DELIVERY_RECEIPT: "SD",
    CaseDocument.Kind.REVOCATION_NOTICE: "CXG",
    CaseDocument.Kind.REVOCATION: "CX",
}


def _date_text(at=None) -> str:
    local = timezone.localtime(at or timezone.now())
    return f"{local.year}年{local.month}月{local.day}日"


def _time_text(at) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M") if at else ""


def base_fields(case: Case) -> list[tuple[str, str]]:
    return [
        ("办件编号", case.number or ""),
        ("事项名称", case.item_name),
        ("申请人", case.applicant_name),
        ("证件号码", case.applicant_id_masked),
        ("申请时间", _time_text(case.submitted_at or case.received_at)),
    ]


def issue(
    case: Case,
    kind: str,
    *,
    paragraphs: list[str],
    fields: list[tuple[str, str]] | None = None,
    table_header: list[str] | None = None,
    table_rows: list[list[str]] | None = None,
    public: bool = True,
) -> CaseDocument:
    """Create the document row (inside the action's transaction); the PDF follows after commit."""
    kind = CaseDocument.Kind(kind)
    count = CaseDocument.objects.filter(case=case, kind=kind).count() + 1
    number = f"{case.number}-{CODES[kind]}{count:02d}"
    issuer = case.department.name
    doc = Document(
        title=kind.label,
        issuer=issuer,
        number=number,
        recipient=case.applicant_name,
        fields=[*base_fields(case), *(fields or [])],
        paragraphs=paragraphs,
        table_header=table_header or [],
        table_rows=table_rows or [],
        date_text=_date_text(),
        seal_text=f"{issuer}（专用章）",
        qr_payload=f"yiwang:document:{number}",
        footer="本文书由一网政务服务平台生成，可扫码核验。",
    )
    row = CaseDocument.objects.create(
        case=case, kind=kind, number=number, title=kind.label, content=to_json(doc), public=public
    )
    from django.db import transaction

    from . import tasks

    transaction.on_commit(lambda: tasks.render_document.enqueue(row.pk))
    return row


def to_json(doc: Document) -> dict[str, Any]:
    data = dataclasses.asdict(doc)
    for key in ("fields", "table_rows"):
        data[key] = [list(x) for x in data[key]]
    return data


def from_json(data: dict[str, Any]) -> Document:
    known = {f.name for f in dataclasses.fields(Document)}
    values = {k: v for k, v in data.items() if k in known}
    values["fields"] = [tuple(x) for x in values.get("fields", [])]
    return Document(**values)


def root() -> Path:
    return Path(settings.PRIVATE_FILES_DIR) / "documents"


def ensure_pdf(row: CaseDocument) -> bytes:
    """The PDF of ``row``: from storage, or rendered now and stored (content hash recorded)."""
    if row.pdf_name:
        path = root() / row.pdf_name
        if path.exists():
            return path.read_bytes()
    pdf = render_pdf(from_json(row.content))
    name = f"{timezone.now():%Y/%m}/{secrets.token_hex(16)}.pdf"
    path = root() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf)
    CaseDocument.objects.filter(pk=row.pk).update(pdf_name=name, pdf_sha256=hashlib.sha256(pdf).hexdigest())
    row.pdf_name, row.pdf_sha256 = name, hashlib.sha256(pdf).hexdigest()
    return pdf
