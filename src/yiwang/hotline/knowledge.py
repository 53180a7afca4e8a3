"""知识库 — knowledge-base entries: writes (save, import, retire), the search index and stale-entry checks.

Search: every active entry's question, keywords and answer are normalised (Traditional → Simplified by
OpenCC, full-width spaces collapsed) and indexed as TF-IDF over character bigrams and rjieba words, with
the question and keywords weighted above the answer. The index lives in each process and is rebuilt when
the table changes (count + last update), so suggestions while an agent types take a millisecond or two.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.db.models import Count, Max, Q
from django.utils import timezone
from sklearn.feature_extraction.text import TfidfVectorizer

from yiwang.core import audit
from yiwang.core.actions import action, lock
from yiwang.core.errors import ValidationFailed
from yiwang.core.permissions import policy
from yiwang.directory.models import Department

from . import text
from .models import KnowledgeEntry

# --- writes -----------------------------------------------------------------------------------------


def search_text(question: str, keywords: str, answer: str) -> str:
    """The normalised text the index reads: question and keywords twice (they matter most), then the answer."""
    head = text.normalize(f"{question} {keywords}")
    return f"{head} {head} {text.normalize(answer)[:2000]}"


def _clean(value: str | None) -> str:
    return (value or "").replace("\x00", "").strip()


def _department(name: str, department_id: int | None) -> Department | None:
    if department_id:
        dept = Department.objects.filter(pk=department_id).first()
        if dept is None:
            raise ValidationFailed("责任部门不存在。", code="invalid_department", details={"field": "department_id"})
        return dept
    if name:
        return Department.objects.filter(Q(name=name) | Q(short_name=name), is_active=True).first()
    return None


def _check(question: str, answer: str, valid_from: dt.date | None, valid_until: dt.date | None) -> None:
    if not question.strip():
        raise ValidationFailed("请填写问题。", code="question_required", details={"field": "question"})
    if len(question) > 500:
        raise ValidationFailed("问题不能超过500字。", code="question_too_long", details={"field": "question"})
    if not answer.strip():
        raise ValidationFailed("请填写答复口径。", code="answer_required", details={"field": "answer"})
    if valid_from and valid_until and valid_until < valid_from:
        raise ValidationFailed("失效日期不能早于生效日期。", code="invalid_validity", details={"field": "valid_until"})


@action
def entry_save(
    *,
    actor: Any,
    question: str,
    answer: str,
    entry_id: int | None = None,
    department_id: int | None = None,
    department_name: str = "",
    keywords: str = "",
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    source: str = "",
    contact_phone: str = "",
    is_active: bool = True,
) -> KnowledgeEntry:
    """Create or update a knowledge entry (知识维护)."""
    question, answer, keywords = (_clean(v) for v in (question, answer, keywords))
    keywords = keywords[:500]
    department_name = _clean(department_name)[:200]
    contact_phone = _clean(contact_phone)
    _check(question, answer, valid_from, valid_until)
    dept = _department(department_name, department_id)
    if entry_id is not None:
        entry = lock(KnowledgeEntry.objects.filter(pk=entry_id), missing="知识库条目不存在。")
        policy.require(actor, "hotline.kb.manage", entry)
    else:
        entry = KnowledgeEntry()
        policy.require(actor, "hotline.kb.manage", dept)
    entry.question, entry.answer, entry.keywords = question, answer, keywords
    entry.department = dept
    entry.department_name = dept.name if dept else (department_name or "")[:200]
    entry.valid_from, entry.valid_until = valid_from, valid_until
    entry.source = (source or entry.source or "人工维护")[:100]
    entry.contact_phone = (contact_phone or "")[:100]
    entry.is_active = is_active
    entry.search_text = search_text(question, keywords, answer)
    entry.updated_at = timezone.now()
    entry.save()
    audit.record(
        actor=actor,
        action="hotline.kb.save",
        obj=entry,
        region_code=entry.region_code,
        summary={"question": question[:60], "created": entry_id is None},
    )
    return entry


@dataclass(frozen=True)
class CsvColumns:
    """Column names of a knowledge CSV. Defaults read the Taipei FAQ and yiwang's own export alike."""

    question: tuple[str, ...] = ("question", "问题")
    answer: tuple[str, ...] = ("answer", "answer_text", "答复口径", "答案")
    department: tuple[str, ...] = ("department", "dept_name", "责任部门")
    keywords: tuple[str, ...] = ("keywords", "关键词")
    ref: tuple[str, ...] = ("source_ref", "data_id", "编号")
    valid_from: tuple[str, ...] = ("valid_from", "post_date", "生效日期")
    valid_until: tuple[str, ...] = ("valid_until", "失效日期")
    phone: tuple[str, ...] = ("contact_phone", "咨询电话")


def _pick(row: Mapping[str, str], names: tuple[str, ...]) -> str:
    for name in names:
        if row.get(name):
            return row[name]
    return ""


def _date(value: str) -> dt.date | None:
    value = (value or "").strip()[:10]
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.replace("/", "-"))
    except ValueError:
        return None


@action
def import_rows(
    *,
    actor: Any,
    rows: Iterable[Mapping[str, str]],
    source: str,
    columns: CsvColumns = CsvColumns(),
    simplify: bool = True,
) -> dict[str, int]:
    """Import knowledge rows (idempotent by source reference). Traditional script becomes Simplified."""
    policy.require(actor, "hotline.kb.manage")
    conv = text.to_simplified if simplify else (lambda s: s)
    departments = {d.name: d for d in Department.objects.filter(is_active=True)}
    existing = {e.source_ref: e for e in KnowledgeEntry.objects.filter(source=source).exclude(source_ref=None)}
    created = updated = skipped = 0
    now = timezone.now()
    new: list[KnowledgeEntry] = []
    for row in rows:
        question = conv(text.clean(_pick(row, columns.question)))[:500]
        answer = conv(text.clean(_pick(row, columns.answer)))
        if not question or not answer:
            skipped += 1
            continue
        dept_name = conv(text.clean(_pick(row, columns.department)))[:200]
        keywords = conv(text.clean(_pick(row, columns.keywords)))[:500]
        ref = _pick(row, columns.ref).strip()[:100] or None
        ref = f"{source}:{ref}" if ref else None
        fields = {
            "question": question,
            "answer": answer,
            "department_name": dept_name,
            "department": departments.get(dept_name),
            "keywords": keywords,
            "valid_from": _date(_pick(row, columns.valid_from)),
            "valid_until": _date(_pick(row, columns.valid_until)),
            "contact_phone": text.clean(_pick(row, columns.phone))[:100],
            "search_text": search_text(question, keywords, answer),
            "source": source[:100],
        }
        entry = existing.get(ref) if ref else None
        if entry is None:
            entry = KnowledgeEntry(source_ref=ref, created_at=now, updated_at=now, **fields)
            new.append(entry)
            if ref:
                existing[ref] = entry
            created += 1
            continue
        changed = [k for k, v in fields.items() if getattr(entry, k) != v]
        if changed:
            for k in changed:
                setattr(entry, k, fields[k])
            entry.updated_at = now
            entry.save(update_fields=[*changed, "updated_at"])
            updated += 1
    KnowledgeEntry.objects.bulk_create(new, batch_size=500)
    audit.record(
        actor=actor,
        action="hotline.kb.import",
        object_type="hotline.knowledgeentry",
        summary={"source": source, "created": created, "updated": updated, "skipped": skipped},
    )
    return {"created": created, "updated": updated, "skipped": skipped}


def import_csv(*, actor: Any, path: Path | str, source: str | None = None, simplify: bool = True) -> dict[str, int]:
    path = Path(path)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    header = set(rows[0]) if rows else set()
    if rows and not header & set(CsvColumns.question):
        raise ValidationFailed(
            "CSV 缺少问题列（question/问题）。", code="kb_csv_columns", details={"columns": sorted(header)}
        )
    return import_rows(actor=actor, rows=rows, source=source or path.stem, simplify=simplify)


CATALOG_SOURCE = "办事指南"


def _comparable(value: Any) -> Any:
    return value.pk if hasattr(value, "_meta") else value


def _current(entry: KnowledgeEntry, field: str) -> Any:
    return getattr(entry, f"{field}_id") if field in ("department", "region") else getattr(entry, field)


def _faq_ref(item_code: str, question: str) -> str:
    digest = hashlib.sha1(text.normalize(question).encode(), usedforsecurity=False).hexdigest()[:12]
    return f"catalog:{item_code}:{digest}"


@action
def import_catalog_faqs(*, actor: Any, region_prefix: str | None = None) -> dict[str, int]:
    """Knowledge from the 常见问题 of published service items (source 办事指南), idempotent.

    One entry per FAQ of an item's current version, owned by the item's department and region, the item's
    name and short name as keywords, valid from the version's publication. FAQs that disappeared from their
    item (or whose item is no longer published) are retired (``is_active`` off), never deleted.
    """
    from yiwang.catalog import selectors as catalog

    policy.require(actor, "hotline.kb.manage")
    scope = KnowledgeEntry.objects.filter(source=CATALOG_SOURCE)
    if region_prefix:
        scope = scope.filter(region__code__startswith=region_prefix)
    existing = {e.source_ref: e for e in scope.exclude(source_ref=None)}
    seen: set[str] = set()
    created = updated = 0
    now = timezone.now()
    new: list[KnowledgeEntry] = []
    for item in catalog.published_items(region_prefix=region_prefix).iterator(chunk_size=500):
        version = item.current_version
        elements = version.data
        keywords = " ".join(dict.fromkeys(k for k in (version.name, elements.short_name) if k))[:500]
        for faq in elements.faq:
            question = text.clean(faq.question)[:500]
            answer = text.clean(faq.answer)
            if not question or not answer:
                continue
            ref = _faq_ref(item.code, question)
            if ref in seen:
                continue
            seen.add(ref)
            fields = {
                "question": question,
                "answer": answer,
                "department": item.department,
                "department_name": item.department.name[:200],
                "region": item.region,
                "keywords": keywords,
                "valid_from": timezone.localdate(version.published_at) if version.published_at else None,
                "search_text": search_text(question, keywords, answer),
                "is_active": True,
            }
            entry = existing.get(ref)
            if entry is None:
                new.append(
                    KnowledgeEntry(source=CATALOG_SOURCE, source_ref=ref, created_at=now, updated_at=now, **fields)
                )
                created += 1
                continue
            changed = [k for k, v in fields.items() if _current(entry, k) != _comparable(v)]
            if changed:
                for k in changed:
                    setattr(entry, k, fields[k])
                entry.updated_at = now
                entry.save(update_fields=[*changed, "updated_at"])
                updated += 1
    retired = [e.pk for ref, e in existing.items() if ref not in seen and e.is_active]
    if retired:
        KnowledgeEntry.objects.filter(pk__in=retired).update(is_active=False, updated_at=now)
    KnowledgeEntry.objects.bulk_create(new, batch_size=500)
    audit.record(
        actor=actor,
        action="hotline.kb.import",
        object_type="hotline.knowledgeentry",
        summary={"source": CATALOG_SOURCE, "created": created, "updated": updated, "retired": len(retired)},
    )
    return {"created": created, "updated": updated, "retired": len(retired)}


# --- the index ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    entry_id: int
    score: float
    question: str
    answer: str
    department_name: str
    stale: bool


class _Index:
    def __init__(self, rows: list[tuple[int, str, str, str, str, dt.date | None]]) -> None:
        self.ids = np.array([r[0] for r in rows], dtype=np.int64)
        self.rows = {r[0]: r for r in rows}
        self.char = TfidfVectorizer(analyzer="char", ngram_range=(2, 2), sublinear_tf=True, dtype=np.float32)
        self.word = TfidfVectorizer(
            tokenizer=lambda s: text.words(s), token_pattern=None, lowercase=False, sublinear_tf=True, dtype=np.float32
        )
        docs = [r[1] or search_text(r[2], "", r[3]) for r in rows]  # rows written without the action
        try:
            self.char_m = self.char.fit_transform(docs) if rows else None
        except ValueError:  # nothing indexable
            self.char_m = None
        try:
            self.word_m = self.word.fit_transform(docs) if rows else None
        except ValueError:  # no words at all
            self.word_m = None

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        if self.char_m is None or not query.strip():
            return []
        q = text.normalize(query)
        scores = (self.char_m @ self.char.transform([q]).T).toarray().ravel()
        if self.word_m is not None:
            scores = 0.5 * scores + 0.5 * (self.word_m @ self.word.transform([q]).T).toarray().ravel()
        if not scores.any():
            return []
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(self.ids[i]), float(scores[i])) for i in top if scores[i] > 0]


_state: dict[str, Any] = {"version": None, "index": None}
_lock = threading.Lock()


def _version() -> str:
    agg = KnowledgeEntry.objects.aggregate(n=Count("id"), t=Max("updated_at"))
    return f"{agg['n']}:{agg['t']}"


def index() -> _Index:
    version = _version()
    with _lock:
        if _state["version"] != version or _state["index"] is None:
            rows = list(
                KnowledgeEntry.objects.filter(is_active=True)
                .order_by("pk")
                .values_list("pk", "search_text", "question", "answer", "department_name", "valid_until")
            )
            _state["index"] = _Index(rows)
            _state["version"] = version
        return _state["index"]


def search(query: str, *, k: int = 5, min_score: float = 0.05, include_stale: bool = True) -> list[Hit]:
    """The ``k`` entries that best match ``query`` (Simplified or Traditional, colloquial words)."""
    idx = index()
    today = timezone.localdate()
    hits = []
    for pk, score in idx.search(query, k * 2):
        if score < min_score:
            continue
        _pk, _text, question, answer, dept, until = idx.rows[pk]
        stale = until is not None and until < today
        if stale and not include_stale:
            continue
        hits.append(Hit(pk, round(score, 4), question, answer, dept, stale))
    return hits[:k]


def stale_entries(*, department_ids: Iterable[int] | None = None, today: dt.date | None = None):
    """Entries past their validity (to be refreshed by their department)."""
    today = today or timezone.localdate()
    qs = KnowledgeEntry.objects.filter(is_active=True, valid_until__lt=today).select_related("department")
    if department_ids is not None:
        qs = qs.filter(department_id__in=list(department_ids))
    return qs.order_by("valid_until", "pk")


def forget() -> None:
    with _lock:
        _state["version"] = None
        _state["index"] = None
