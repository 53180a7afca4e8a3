"""Importing the real Guangdong catalogue (skipped when ../shared is absent) and bad-record handling."""

from __future__ import annotations

import json

import pytest

from tests.conftest import shared_path
from yiwang.catalog import imports, selectors
from yiwang.catalog.models import CatalogItem, ServiceItem, ServiceItemVersion
from yiwang.core.actors import SystemActor
from yiwang.directory.models import Department

from .test_gdzwfw import rec

pytestmark = pytest.mark.django_db
ACTOR = SystemActor("test:import")


@pytest.mark.shared_data
def test_real_guangdong_catalog_imports_completely_and_reruns_unchanged(django_capture_on_commit_callbacks):
    path = shared_path("gd-service-items", "gd_items_raw.jsonl")
    with django_capture_on_commit_callbacks(execute=False):
        report = imports.import_gdzwfw(actor=ACTOR, path=path)
    assert report.errors == []
    assert (report.read, report.created) == (2262, 2262)
    assert ServiceItem.objects.filter(state="published").count() == 2262
    assert ServiceItemVersion.objects.count() == 2262
    assert Department.objects.count() == 177
    assert CatalogItem.objects.filter(code="440101007000").exists()

    # A sample of parsed fields.
    v = selectors.item_get(code="11440000006939756B2440101007000").current_version
    assert v.name == "临时价格干预范围事项提价申报" and v.item_type == "01"
    assert (v.legal_limit, v.promised_limit, v.legal_limit_unit) == (30, 7, "workday")
    assert v.department.name == "广东省发展和改革委员会" and v.region_id == "440000000000"
    assert [m.name for m in v.data.materials] == ["提价申报申请报告"]
    assert v.data.consult_phone == "020-34121084" and v.data.complain_phone == "020-83134173"
    assert v.data.places[0].address.startswith("广州市越秀区东风中路305号")
    assert v.data.service_objects == ["1", "2", "3", "4", "5", "6", "9"]
    natural = ServiceItemVersion.objects.filter(legal_limit_unit="natural").count()
    assert natural == 11  # 90/91/60/30(自然日) in the source
    assert ServiceItemVersion.objects.filter(item_type="20").count() == 1586  # Guangdong 21 公共服务
    assert ServiceItemVersion.objects.filter(region_id="440100000000").count() == 238
    assert ServiceItemVersion.objects.filter(visits__gt=0).count() == 91
    assert ServiceItemVersion.objects.filter(themes__contains="|生小孩|").count() == 6
    assert sum(v.material_count for v in ServiceItemVersion.objects.only("material_count")) > 2262
    assert len(list(selectors.iter_index_documents())) == 2262

    again = imports.import_gdzwfw(actor=ACTOR, path=path)
    assert (again.created, again.updated, again.unchanged, again.errors) == (0, 0, 2262, [])
    assert ServiceItemVersion.objects.count() == 2262


@pytest.mark.shared_data
def test_flat_csv_imports_completely():
    path = shared_path("gd-service-items", "gd_items_flat.csv")
    report = imports.import_gdzwfw(actor=ACTOR, path=path)
    assert report.errors == [] and report.created == 2262
    v = selectors.item_get(code="11440000006940116U2440102002003").current_version
    assert v.legal_limit == 70 and v.promised_limit == 18 and v.material_count == 4


def test_bad_records_are_reported_and_skipped_whole(tmp_path, geo):
    lines = [
        json.dumps(rec(), ensure_ascii=False),
        "{not json",
        json.dumps(rec(TASK_CODE="11440000006939756B2440101007001", handle_time="很快"), ensure_ascii=False),
        json.dumps(
            rec(TASK_CODE="11440000006939756B2440101007002", service_object_name=["外星人"]), ensure_ascii=False
        ),
        json.dumps(rec(), ensure_ascii=False),  # duplicate code
        json.dumps(rec(TASK_CODE="11440000006939756B2440101007003", CATAID="440101007001"), ensure_ascii=False),
    ]
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = imports.import_gdzwfw(actor=ACTOR, path=path)
    assert report.read == 6 and report.created == 2
    assert [(e.line, e.code) for e in report.errors] == [
        (2, ""),
        (3, "11440000006939756B2440101007001"),
        (4, "11440000006939756B2440101007002"),
        (5, "11440000006939756B2440101007000"),
    ]
    assert "时限无法识别" in report.errors[1].reason and "重复" in report.errors[3].reason
    assert set(ServiceItem.objects.values_list("code", flat=True)) == {
        "11440000006939756B2440101007000",
        "11440000006939756B2440101007003",
    }
    # A changed record gets a new version; the old one is superseded and kept.
    path.write_text(json.dumps(rec(handle_time_limit="5(工作日)"), ensure_ascii=False) + "\n", encoding="utf-8")
    report = imports.import_gdzwfw(actor=ACTOR, path=path)
    assert (report.updated, report.unchanged) == (1, 0)
    item = selectors.item_get(code="11440000006939756B2440101007000")
    assert item.current_version.number == 2 and item.current_version.promised_limit == 5
    assert item.versions.get(number=1).superseded_at == item.current_version.published_at


def test_dry_run_writes_nothing(tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_text(json.dumps(rec(), ensure_ascii=False) + "\n", encoding="utf-8")
    report = imports.import_gdzwfw(actor=ACTOR, path=path, dry_run=True)
    assert report.read == 1 and not ServiceItem.objects.exists()
