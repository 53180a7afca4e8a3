"""Knowledge from the 常见问题 of published service items, and hotline knowledge in the site search."""

import datetime as dt

import pytest
from django.core.management import call_command

from tests.catalog import factories as cf
from tests.factories import DepartmentFactory
from tests.hotline.factories import SYSTEM, kb_entry
from yiwang.catalog import services as catalog_services
from yiwang.hotline import knowledge, selectors
from yiwang.hotline.models import KnowledgeEntry

pytestmark = pytest.mark.django_db

FAQ = [
    {"question": "食品经营许可证有效期多久？", "answer": "有效期为5年。"},
    {"question": "许可证遗失怎么办？", "answer": "可在线申请补办，无需登报。"},
]


@pytest.fixture
def item(db):
    dept = DepartmentFactory(name="天河区市场监督管理局")
    return cf.published_item(department=dept, faq=FAQ)


def test_faqs_become_knowledge_with_department_region_and_keywords(item):
    stats = knowledge.import_catalog_faqs(actor=SYSTEM)
    assert stats == {"created": 2, "updated": 0, "retired": 0}
    entries = {e.question: e for e in KnowledgeEntry.objects.filter(source=knowledge.CATALOG_SOURCE)}
    entry = entries["许可证遗失怎么办？"]
    assert entry.answer == "可在线申请补办，无需登报。"
    assert entry.department == item.department and entry.region_id == item.region_id
    assert item.current_version.name in entry.keywords
    assert entry.valid_from is not None
    # the agent's suggestions find it
    hits = knowledge.search("食品经营许可证丢了怎么补办", k=3)
    assert hits and hits[0].entry_id == entry.pk


def test_reimport_is_idempotent_and_retires_removed_faqs(item):
    knowledge.import_catalog_faqs(actor=SYSTEM)
    assert knowledge.import_catalog_faqs(actor=SYSTEM) == {"created": 0, "updated": 0, "retired": 0}
    data = cf.elements(faq=[{"question": FAQ[0]["question"], "answer": "有效期为5年，期满前30日申请延续。"}])
    data["name"] = item.current_version.name
    catalog_services.item_update_draft(actor=SYSTEM, item=item, elements=data)
    catalog_services.item_publish(actor=SYSTEM, item=item)
    assert knowledge.import_catalog_faqs(actor=SYSTEM) == {"created": 0, "updated": 1, "retired": 1}
    active = KnowledgeEntry.objects.filter(source=knowledge.CATALOG_SOURCE, is_active=True)
    assert [e.answer for e in active] == ["有效期为5年，期满前30日申请延续。"]


def test_command(item, capsys):
    call_command("hotline", "kb-from-catalog")
    assert "新增 2" in capsys.readouterr().out
    call_command("hotline", "kb-from-catalog", "--region", "45")
    assert KnowledgeEntry.objects.filter(is_active=True).count() == 2


def test_search_reads_hotline_knowledge_but_not_item_faqs_twice(item):
    knowledge.import_catalog_faqs(actor=SYSTEM)
    own = kb_entry(question="居住证怎么办理？", keywords="居住证")
    kb_entry(question="过期口径", valid_until=dt.date(2020, 1, 1), source_ref="old")
    docs = list(selectors.iter_index_documents())
    assert [d["code"] for d in docs] == [f"kb{own.pk}"]

    from yiwang.search import sources

    found = list(sources.knowledge_documents())
    assert [(d.kind, d.title) for d in found] == [("knowledge", "居住证怎么办理？")]
