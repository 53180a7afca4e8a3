"""Search fixtures: a small realistic set of documents and an index built from them."""

from __future__ import annotations

import pytest

from yiwang.search.documents import Action, SearchDocument

GZ = "440100000000"
TIANHE = "440106000000"
SZ = "440300000000"
GD = "440000000000"
NAMES = {GD: "广东省", GZ: "广州市", TIANHE: "天河区", SZ: "深圳市"}


def doc(
    code,
    title,
    *,
    region=GD,
    dept="广东省公安厅",
    short="",
    materials=(),
    guide="",
    online=True,
    themes=(),
    objects=("自然人",),
    kind="item",
    popularity=0.0,
):
    return SearchDocument(
        kind=kind,
        code=code,
        title=title,
        short_name=short,
        materials=list(materials),
        guide=guide,
        department=dept,
        region_code=region,
        region_name=NAMES[region],
        themes=list(themes),
        service_objects=list(objects),
        online=online,
        popularity=popularity,
        actions=[Action("guide", "查看指南", f"/items/{code}/")],
        url=f"/items/{code}/",
    )


SAMPLE = [
    doc(
        "P1",
        "办理及加注普通护照",
        region=GZ,
        dept="广州市公安局",
        themes=["出境入境"],
        materials=["居民身份证", "照片"],
    ),
    doc("P2", "换发普通护照办证进度查询", themes=["出境入境"]),
    doc("H1", "办理往来港澳通行证", region=GZ, dept="广州市公安局", themes=["出境入境"]),
    doc("H2", "办理往来港澳通行证", region=SZ, dept="深圳市公安局", themes=["出境入境"]),
    doc("H3", "办理往来港澳通行证", region=TIANHE, dept="天河区公安分局", themes=["出境入境"]),
    doc("T1", "办理往来台湾通行证", region=GZ, dept="广州市公安局", themes=["出境入境"]),
    doc(
        "S1",
        "企业职工社会保险费断缴补缴申报",
        dept="广东省人力资源和社会保障厅",
        short="社保断缴、补交社保",
        themes=["社会保障（社会保险、社会救助）"],
        objects=("自然人", "企业法人"),
    ),
    doc(
        "S2",
        "企业职工基本养老金申领",
        dept="广东省人力资源和社会保障厅",
        short="领取养老金",
        themes=["社会保障（社会保险、社会救助）"],
    ),
    doc("C1", "内资有限责任公司设立登记", dept="广东省市场监督管理局", objects=("企业法人",), themes=["设立变更"]),
    doc("L1", "兼职律师执业许可", dept="广东省司法厅", online=False),
    doc("D1", "广州市公安局", region=GZ, dept="广州市公安局", kind="department"),
]


@pytest.fixture
def store(tmp_path):
    from yiwang.search.index import IndexStore

    s = IndexStore(tmp_path / "index")
    s.build(SAMPLE)
    return s


@pytest.fixture
def engine(store):
    from yiwang.search.engine import SearchEngine
    from yiwang.search.synonyms import SynonymTable, load_seed

    table = SynonymTable(load_seed())
    return SearchEngine(store, synonyms=lambda: table)
