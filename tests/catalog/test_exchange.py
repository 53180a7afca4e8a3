"""The own JSON format: export → import into an empty catalog → export is identical; CLI commands."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests.factories import DepartmentFactory
from yiwang.catalog import exchange, imports, services
from yiwang.catalog.models import Bundle, BundleMember, CatalogItem, ServiceItem, ServiceItemVersion
from yiwang.core.errors import ValidationFailed

from .factories import SYSTEM, draft_item, elements, published_item
from .test_gdzwfw import rec

pytestmark = pytest.mark.django_db


def _wipe():
    BundleMember.objects.all().delete()
    Bundle.objects.all().delete()
    ServiceItem.objects.update(current_version=None)
    ServiceItemVersion.objects.all().delete()
    ServiceItem.objects.all().delete()
    CatalogItem.objects.update(parent=None)
    CatalogItem.objects.all().delete()


def _strip(data):
    data = dict(data)
    data.pop("exported_at")
    return data


@pytest.fixture
def catalog(geo):
    dept = DepartmentFactory(region=geo.th, name="天河区市场监督管理局")
    a = published_item(department=dept)
    services.item_update_draft(actor=SYSTEM, item=a, elements=elements(promised_limit=3))
    services.item_publish(actor=SYSTEM, item=a, note="压缩时限")
    services.item_update_draft(actor=SYSTEM, item=a, elements=elements(promised_limit=2))  # unpublished draft
    b = published_item(department=dept, item_type="20", faq=[], name="食品小作坊登记")
    services.item_suspend(actor=SYSTEM, item=b, reason="调整")
    draft_item(department=dept, name="从未发布的事项")
    bundle = services.bundle_save(
        actor=SYSTEM,
        code="open-restaurant",
        name="开办餐饮店一件事",
        region=geo.th,
        lead_department=dept,
        audience="corporate",
        scenarios=[{"key": "size", "question": "经营面积", "options": ["小", "大"]}],
        members=[{"item": a}, {"item": b, "order": 2, "condition": {"key": "size", "in": ["小"]}}],
    )
    imports.import_records(actor=SYSTEM, records=[rec(), rec(TASK_CODE="X1", CATAID="44010200300Y1")])
    return bundle


def test_round_trip_is_lossless(catalog):
    first = exchange.export_catalog()
    assert len(first["items"]) == 5 and len(first["bundles"]) == 1
    _wipe()
    report = exchange.import_catalog(actor=SYSTEM, data=json.loads(json.dumps(first)))
    assert report.errors == [] and report.created == 5
    second = exchange.export_catalog()
    assert _strip(second) == _strip(first)
    # Everything is there, including history and the state of each version.
    a = ServiceItem.objects.get(name="食品经营许可证核发")
    assert [v.number for v in a.versions.order_by("number")] == [1, 2]
    assert a.current_version.number == 2 and a.draft["promised_limit"] == 2 and a.draft_changed
    # Importing again changes nothing.
    again = exchange.import_catalog(actor=SYSTEM, data=first)
    assert (again.created, again.unchanged) == (0, 5)


def test_import_rejects_other_files():
    with pytest.raises(ValidationFailed):
        exchange.import_catalog(actor=SYSTEM, data={"format": "other"})
    with pytest.raises(ValidationFailed):
        exchange.import_catalog(actor=SYSTEM, data={"format": "yiwang-catalog", "version": 99})


def test_bad_item_is_skipped_whole(catalog):
    data = exchange.export_catalog()
    _wipe()
    data["items"][0]["versions"][0]["elements"]["legal_limit"] = -5
    code = data["items"][0]["code"]
    report = exchange.import_catalog(actor=SYSTEM, data=data)
    assert [e.code for e in report.errors][:1] == [code]
    assert not ServiceItem.objects.filter(code=code).exists()


def test_cli_export_import_check(catalog, tmp_path):
    out = tmp_path / "catalog.json"
    call_command("catalog", "export", "--out", str(out), stderr=io.StringIO())
    stdout = io.StringIO()
    call_command("catalog", "export", stdout=stdout)
    assert json.loads(stdout.getvalue())["format"] == "yiwang-catalog"
    _wipe()
    stdout = io.StringIO()
    call_command("catalog", "import", str(out), stdout=stdout)
    assert "新增 5" in stdout.getvalue()
    stdout = io.StringIO()
    call_command("catalog", "check", stdout=stdout)
    assert "共检查 5 个事项" in stdout.getvalue()
    stdout = io.StringIO()
    call_command("catalog", "check", "--json", stdout=stdout)
    report = json.loads(stdout.getvalue())
    assert sum(e["items"] for e in report) == 5
    # The imported records have no FAQ or steps: 行政许可 rules fail and are named.
    failing = {v["rule"] for e in report for p in e["problems"] for v in p["violations"]}
    assert {"licensing_faq", "licensing_steps"} <= failing


def test_cli_gdzwfw_errors_exit_nonzero(tmp_path, geo):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(rec(), ensure_ascii=False) + "\n{oops\n", encoding="utf-8")
    stderr = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "catalog", "import", "--format", "gdzwfw", "--no-progress", str(path), stdout=io.StringIO(), stderr=stderr
        )
    assert "第2行" in stderr.getvalue()
    assert ServiceItem.objects.count() == 1
    with pytest.raises(CommandError):
        call_command("catalog", "import", str(tmp_path / "missing.json"))
