"""Parsing gdzwfw records (pure): limits with units, materials, themes, objects, bad records."""

from __future__ import annotations

import copy

import pytest

from yiwang.catalog import gdzwfw

RECORD = {
    "TASK_CODE": "11440000006939756B2440101007000",
    "TASK_TYPE_TEXT": "行政许可",
    "LIMIT_SCENE_NUM": "0",
    "CATANAME": "临时价格干预范围事项提价申报",
    "DEPT_NAME": "广东省发展和改革委员会",
    "AREA_CODE_TEXT": "广东省",
    "parentCatalogId": "440101007000",
    "TASK_TYPE": "01",
    "TASK_NAME": "临时价格干预范围事项提价申报",
    "parentCatalogName": "临时价格干预范围事项提价申报",
    "CATAID": "440101007000",
    "URL": "https://www.gdzwfw.gov.cn/gaio/apply.html#/11440000006939756B2440101007000",
    "AREACODE": "440000",
    "subCatalogName": "临时价格干预范围事项提价申报",
    "ONLINECHECK": "1",
    "matter_short": "无",
    "matter_daily": "提价申报，价格干预",
    "matter_code": "无",
    "matter_level": "省级",
    "visit_number": "0",
    "co_department": "无",
    "handle_location": "办理地点：广州市越秀区东风中路305号5号楼808房",
    "handle_time": "30(工作日)",
    "handle_time_limit": "7(工作日)",
    "accept_standard": "符合条件的经营者。",
    "consult_phone": "020-34121084",
    "courier_service": "是",
    "bear_paltform": "广东省政务服务网统一申办平台",
    "complain_phone": "020-83134173",
    "online_book": "是",
    "online_book_addr": "无",
    "theme_category": ["其他", "设立变更"],
    "service_object_name": ["自然人", "企业法人"],
    "material_intro": ["提价申报申请报告", "营业执照复印件", "居民身份证原件", "委托书（如有）"],
}


def rec(**changes):
    r = copy.deepcopy(RECORD)
    r.update(changes)
    return r


def test_parse_full_record():
    p = gdzwfw.parse_record(rec())
    e = p.elements
    assert (p.code, p.catalog_code, p.item_type, p.region_code) == (
        "11440000006939756B2440101007000",
        "440101007000",
        "01",
        "440000000000",
    )
    assert p.parent_code == "" and p.use_level == 2
    assert (e.legal_limit, e.legal_limit_unit, e.promised_limit, e.promised_limit_unit) == (30, "workday", 7, "workday")
    assert e.handling_type == "promised" and e.visits == 0 and e.online_depth == 4
    assert e.handling_forms == ["window", "online", "post"]
    assert e.is_online and e.is_express and e.is_appointment and e.in_hall
    assert e.aliases == ["提价申报", "价格干预"]
    assert e.service_objects == ["1", "2"]
    assert e.personal_themes == ["其他"] and e.corporate_themes == ["其他", "设立变更"]
    assert e.places[0].address == "广州市越秀区东风中路305号5号楼808房"
    assert e.conditions[0].text == "符合条件的经营者。"
    m = {x.name: x for x in e.materials}
    assert m["营业执照复印件"].licence_type == "business_licence" and m["营业执照复印件"].copies == 1
    assert m["营业执照复印件"].type == "certificate"
    assert m["居民身份证原件"].originals == 1 and m["居民身份证原件"].copies == 0
    assert m["委托书（如有）"].necessity == "optional" and m["提价申报申请报告"].necessity == "required"


def test_guangdong_type_codes_map_to_the_national_list():
    assert gdzwfw.parse_record(rec(TASK_TYPE="21", TASK_TYPE_TEXT="公共服务")).item_type == "20"
    assert gdzwfw.parse_record(rec(TASK_TYPE="20", TASK_TYPE_TEXT="其他行政权力")).item_type == "10"


def test_natural_days_and_missing_limits():
    e = gdzwfw.parse_record(rec(handle_time="90(自然日)", handle_time_limit="无")).elements
    assert (e.legal_limit, e.legal_limit_unit, e.promised_limit) == (90, "natural", None)


def test_no_window_and_not_online():
    e = gdzwfw.parse_record(
        rec(handle_location="无线下办理窗口", ONLINECHECK="0", courier_service="不支持", visit_number="1")
    ).elements
    assert e.handling_forms == [] and e.online_depth == 0 and not e.in_hall and e.places == []
    assert e.visits == 1


def test_instant_when_promised_zero():
    assert gdzwfw.parse_record(rec(handle_time_limit="0(工作日)")).elements.handling_type == "instant"


def test_parent_catalog_kept_when_different():
    p = gdzwfw.parse_record(rec(CATAID="440102002003", parentCatalogId="44010200200Y", parentCatalogName="主项"))
    assert (p.parent_code, p.parent_name) == ("44010200200Y", "主项")


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"TASK_CODE": ""}, "TASK_CODE"),
        ({"TASK_CODE": "abc def"}, "TASK_CODE"),
        ({"TASK_NAME": "", "matter_name": ""}, "TASK_NAME"),
        ({"DEPT_NAME": "无"}, "DEPT_NAME"),
        ({"AREACODE": "44"}, "AREACODE"),
        ({"CATAID": None}, "CATAID"),
        ({"TASK_TYPE": "77", "TASK_TYPE_TEXT": "奇怪类型"}, "TASK_TYPE"),
        ({"handle_time": "办公时间：周一至周五"}, "handle_time"),
        ({"handle_time_limit": "三天"}, "handle_time_limit"),
        ({"visit_number": "两次"}, "visit_number"),
        ({"service_object_name": ["外星人"]}, "service_object_name"),
    ],
)
def test_bad_records_name_the_field(changes, field):
    with pytest.raises(gdzwfw.RecordError) as exc:
        gdzwfw.parse_record(rec(**changes))
    assert exc.value.field == field and exc.value.reason


def test_not_a_dict():
    with pytest.raises(gdzwfw.RecordError):
        gdzwfw.parse_record(["x"])


def test_csv_row_maps_to_record():
    row = {
        "task_code": "11440000006939756B2440101007000",
        "item_name": "临时价格干预范围事项提价申报",
        "catalog_name": "临时价格干预范围事项提价申报",
        "catalog_id": "440101007000",
        "item_type": "行政许可",
        "dept_name": "广东省发展和改革委员会",
        "area": "广东省",
        "area_code": "440000",
        "level": "省级",
        "legal_limit_raw": "30(工作日)",
        "promised_limit_raw": "7(工作日)",
        "visit_number": "0",
        "themes": "其他",
        "service_objects": "自然人|企业法人",
        "materials": "提价申报申请报告|营业执照",
        "url": "https://x",
    }
    p = gdzwfw.parse_record(gdzwfw.csv_record(row))
    assert p.item_type == "01" and p.elements.is_online and len(p.elements.materials) == 2
