"""Region import: levels, idempotency, bad rows, strict mode, and the real files (one province)."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import shared_path
from yiwang.core.models import AuditEvent
from yiwang.directory import services
from yiwang.directory.importers import StrictImportError, import_regions
from yiwang.directory.models import Region

pytestmark = pytest.mark.django_db

GOOD = {
    "provinces.csv": 'code,name\n44,"广东省"\n45,"广西壮族自治区"\n',
    "cities.csv": 'code,name,provinceCode\n4401,"广州市",44\n4501,"南宁市",45\n',
    "areas.csv": 'code,name,cityCode,provinceCode\n440106,"天河区",4401,44\n440104,"越秀区",4401,44\n',
    "streets.csv": 'code,name,areaCode,provinceCode,cityCode\n440106001,"五山街道",440106,44,4401\n',
    "villages.csv": "code,name,streetCode,provinceCode,cityCode,areaCode\n"
    '440106001001,"岳洲社区居委会",440106001,44,4401,440106\n'
    '440106001002,"茶山社区居委会",440106001,44,4401,440106\n',
}


def write(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_imports_all_five_levels_with_parents_and_full_names(tmp_path):
    report = import_regions(write(tmp_path, GOOD))
    assert report.created == 9 and not report.errors
    assert report.per_level == {1: 2, 2: 2, 3: 2, 4: 1, 5: 2}
    village = Region.objects.get(code="440106001002")
    assert village.level == 5 and village.parent_id == "440106001000"
    assert village.full_name == "广东省广州市天河区五山街道茶山社区居委会"
    assert Region.objects.get(code="440000000000").parent is None


def test_second_run_changes_nothing(tmp_path):
    import_regions(write(tmp_path, GOOD))
    before = list(Region.objects.order_by("code").values_list("code", "name", "parent_id", "full_name"))
    report = import_regions(tmp_path)
    assert report.created == report.updated == 0 and report.unchanged == 9
    assert list(Region.objects.order_by("code").values_list("code", "name", "parent_id", "full_name")) == before


def test_renamed_region_is_updated(tmp_path):
    import_regions(write(tmp_path, GOOD))
    (tmp_path / "streets.csv").write_text(GOOD["streets.csv"].replace("五山街道", "五山街"), encoding="utf-8")
    report = import_regions(tmp_path)
    assert report.updated == 3  # the street and the full names of its two communities
    assert Region.objects.get(code="440106001000").name == "五山街"
    assert Region.objects.get(code="440106001001").full_name.endswith("五山街岳洲社区居委会")


def test_placeholder_city_names_are_left_out_of_full_names(tmp_path):
    files = {
        "provinces.csv": 'code,name\n11,"北京市"\n',
        "cities.csv": 'code,name,provinceCode\n1101,"市辖区",11\n',
        "areas.csv": 'code,name,cityCode,provinceCode\n110101,"东城区",1101,11\n',
    }
    import_regions(write(tmp_path, files))
    assert Region.objects.get(code="110101000000").full_name == "北京市东城区"


BAD_VILLAGES = (
    "code,name,streetCode,provinceCode,cityCode,areaCode\n"
    '440106001001,"岳洲社区居委会",440106001,44,4401,440106\n'
    '44010600100,"少一位",440106001,44,4401,440106\n'  # line 3: 11 digits
    '440106001003,"",440106001,44,4401,440106\n'  # line 4: empty name
    '440106999001,"无上级",440106999,44,4401,440106\n'  # line 5: unknown parent
    '440104001001,"错挂",440106001,44,4401,440106\n'  # line 6: outside its parent
    '440106001001,"岳洲社区",440106001,44,4401,440106\n'  # line 7: duplicate code, other name
)


def test_bad_rows_are_reported_and_skipped_whole(tmp_path):
    report = import_regions(write(tmp_path, {**GOOD, "villages.csv": BAD_VILLAGES}))
    reasons = {e.line: e.reason for e in report.errors}
    assert set(reasons) == {3, 4, 5, 6, 7}
    assert "12位" in reasons[3]
    assert "名称为空" in reasons[4]
    assert "不存在" in reasons[5]
    assert "不在上级" in reasons[6]
    assert "重复" in reasons[7]
    assert all(e.file == "villages.csv" for e in report.errors)
    assert Region.objects.filter(level=5).count() == 1
    assert not Region.objects.filter(code__in=["440106999001", "440104001001"]).exists()


def test_strict_mode_imports_nothing(tmp_path):
    with pytest.raises(StrictImportError) as exc:
        import_regions(write(tmp_path, {**GOOD, "villages.csv": BAD_VILLAGES}), strict=True)
    assert len(exc.value.report.errors) == 5
    assert Region.objects.count() == 0


def test_partial_import_uses_parents_already_in_the_database(tmp_path):
    import_regions(write(tmp_path, GOOD))
    other = tmp_path / "more"
    other.mkdir()
    (other / "villages.csv").write_text(
        'code,name,streetCode,provinceCode,cityCode,areaCode\n440106001009,"新社区",440106001,44,4401,440106\n',
        encoding="utf-8",
    )
    report = import_regions(other)
    assert report.created == 1 and not report.errors
    assert Region.objects.get(code="440106001009").full_name.startswith("广东省广州市天河区五山街道")


def test_city_without_counties_is_merged(tmp_path):
    files = {
        "provinces.csv": 'code,name\n44,"广东省"\n',
        "cities.csv": 'code,name,provinceCode\n4419,"东莞市",44\n',
        "areas.csv": 'code,name,cityCode,provinceCode\n441900,"东莞市",4419,44\n',
        "streets.csv": 'code,name,areaCode,provinceCode,cityCode\n441900003,"东城街道",441900,44,4419\n',
    }
    report = import_regions(write(tmp_path, files))
    assert report.merged == 1 and not report.errors
    town = Region.objects.get(code="441900003000")
    assert town.parent_id == "441900000000" and town.parent.level == 2 and town.level == 4
    assert town.full_name == "广东省东莞市东城街道"
    assert import_regions(tmp_path).updated == 0


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        import_regions(tmp_path)


def test_command_reports_and_exits_nonzero_on_bad_rows(tmp_path):
    write(tmp_path, {**GOOD, "villages.csv": BAD_VILLAGES})
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="5 行有误"):
        call_command("regions", "import", str(tmp_path), "--no-progress", stdout=out, stderr=err)
    assert "villages.csv:5" in err.getvalue()
    assert "新增 8" in out.getvalue()


def test_command_success_is_audited(tmp_path, system):
    write(tmp_path, GOOD)
    out = io.StringIO()
    call_command("regions", "import", str(tmp_path), "--no-progress", stdout=out)
    assert "新增 9" in out.getvalue() and "错误 0" in out.getvalue()
    event = AuditEvent.objects.get(action="directory.regions_import")
    assert event.summary["created"] == 9


def _province_subset(src, dst, prefix: str) -> None:
    """Copy the rows of one province from the real files (the test never stores the data)."""
    for name in ("provinces.csv", "cities.csv", "areas.csv", "streets.csv", "villages.csv"):
        with (src / name).open(encoding="utf-8") as fh, (dst / name).open("w", encoding="utf-8", newline="") as out:
            reader = csv.reader(fh)
            writer = csv.writer(out)
            writer.writerow(next(reader))
            for row in reader:
                if row[0].startswith(prefix):
                    writer.writerow(row)


@pytest.mark.shared_data
def test_real_files_of_one_province_import_all_levels_idempotently(tmp_path, system):
    src = shared_path("admin-divisions")
    _province_subset(src, tmp_path, "44")
    report = services.regions_import(actor=system, directory=tmp_path)
    assert not report.errors
    assert report.per_level[1] == 1 and report.per_level[2] == 21
    assert report.per_level[5] > 20000
    assert Region.objects.get(code="440106000000").name == "天河区"
    assert Region.objects.get(code="440106001001").full_name == "广东省广州市天河区五山街道岳洲社区居委会"
    again = services.regions_import(actor=system, directory=tmp_path)
    assert again.created == again.updated == 0 and again.unchanged == report.created
