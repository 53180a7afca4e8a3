"""Knowledge base: maintenance, CSV import (Traditional → Simplified), search while typing, stale entries."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import shared_path
from tests.factories import DepartmentFactory, UserFactory
from tests.hotline.factories import SYSTEM, world
from yiwang.core.errors import PermissionDenied, ValidationFailed
from yiwang.hotline import knowledge
from yiwang.hotline.models import KnowledgeEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_index():
    knowledge.forget()
    yield
    knowledge.forget()


def test_entry_save_validates_and_indexes(geo):
    dept = DepartmentFactory(name="天河区公安分局", region=geo.th)
    entry = knowledge.entry_save(
        actor=SYSTEM,
        question="居住证如何办理？",
        answer="持身份证到社区居住证受理点办理。",
        department_id=dept.pk,
        keywords="居住证,办证",
    )
    assert entry.department_name == "天河区公安分局" and "居住证" in entry.search_text
    with pytest.raises(ValidationFailed) as exc:
        knowledge.entry_save(actor=SYSTEM, question="", answer="x")
    assert exc.value.code == "question_required"
    with pytest.raises(ValidationFailed) as exc:
        knowledge.entry_save(
            actor=SYSTEM, question="q", answer="a", valid_from=dt.date(2026, 2, 1), valid_until=dt.date(2026, 1, 1)
        )
    assert exc.value.code == "invalid_validity"
    with pytest.raises(PermissionDenied):
        knowledge.entry_save(actor=UserFactory(), question="q", answer="a")


def test_agent_maintains_entries():
    w = world()
    entry = knowledge.entry_save(actor=w.agent, question="社保卡丢了怎么补办", answer="可在粤省事小程序申请补换卡。")
    entry = knowledge.entry_save(actor=w.agent, entry_id=entry.pk, question=entry.question, answer="到社保网点补办。")
    assert KnowledgeEntry.objects.get(pk=entry.pk).answer == "到社保网点补办。"


def test_search_ranks_the_matching_entry_first_even_in_traditional_script(geo):
    rows = [
        {
            "question": "小型復康巴士如何預約訂車?",
            "answer_text": "請於搭乘日前預約。",
            "dept_name": "臺北市公共運輸處",
            "keywords": "復康巴士,預約",
            "data_id": "A1",
        },
        {
            "question": "如何申請育兒津貼？",
            "answer_text": "向戶籍地區公所申請。",
            "dept_name": "社會局",
            "data_id": "A2",
        },
        {"question": "垃圾清運時間為何？", "answer_text": "每週一至週五晚間。", "dept_name": "環保局", "data_id": "A3"},
    ]
    stats = knowledge.import_rows(actor=SYSTEM, rows=rows, source="tpe")
    assert stats == {"created": 3, "updated": 0, "skipped": 0}
    entry = KnowledgeEntry.objects.get(source_ref="tpe:A1")
    assert entry.question == "小型复康巴士如何预约订车?" and entry.department_name == "台北市公共运输处"
    hits = knowledge.search("复康巴士怎么预约")
    assert hits and hits[0].entry_id == entry.pk
    assert knowledge.search("育兒津貼")[0].question == "如何申请育儿津贴？"
    assert knowledge.search("   ") == []
    # idempotent: a second import changes nothing, an edited row updates
    assert knowledge.import_rows(actor=SYSTEM, rows=rows, source="tpe") == {"created": 0, "updated": 0, "skipped": 0}
    rows[2]["answer_text"] = "每週一至週六晚間。"
    assert knowledge.import_rows(actor=SYSTEM, rows=rows, source="tpe")["updated"] == 1
    assert "周六" in knowledge.search("垃圾清运时间")[0].answer


def test_stale_entries_are_flagged_and_excluded_on_request(geo):
    dept = DepartmentFactory(region=geo.th)
    today = timezone.localdate()
    old = knowledge.entry_save(
        actor=SYSTEM,
        question="2020年消费券如何领取",
        answer="已结束。",
        department_id=dept.pk,
        valid_until=today - dt.timedelta(days=1),
    )
    knowledge.entry_save(actor=SYSTEM, question="消费券如何领取", answer="关注官方公众号。", department_id=dept.pk)
    assert list(knowledge.stale_entries()) == [old]
    assert list(knowledge.stale_entries(department_ids=[dept.pk])) == [old]
    assert list(knowledge.stale_entries(department_ids=[0])) == []
    hits = knowledge.search("消费券领取")
    assert {h.stale for h in hits} == {True, False}
    assert all(not h.stale for h in knowledge.search("消费券领取", include_stale=False))
    out = io.StringIO()
    call_command("hotline", "kb-stale", stdout=out)
    assert "过期知识 1 条" in out.getvalue()


def test_csv_without_question_column_is_refused(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("title,body\nx,y\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        knowledge.import_csv(actor=SYSTEM, path=path)
    assert exc.value.code == "kb_csv_columns"


@pytest.mark.shared_data
def test_taipei_faq_import_and_search():
    path = shared_path("taipei-faq", "faq_dev.csv")
    out = io.StringIO()
    call_command("hotline", "kb-import", str(path), "--source", "taipei-faq", stdout=out)
    assert "新增" in out.getvalue()
    n = KnowledgeEntry.objects.count()
    assert n > 1300
    hits = knowledge.search("复康巴士预约订车")
    assert hits and "复康巴士" in hits[0].question
    # Traditional query finds the same entry
    assert knowledge.search("復康巴士預約訂車")[0].entry_id == hits[0].entry_id
