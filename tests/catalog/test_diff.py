"""Version diff (pure)."""

from yiwang.catalog.diff import diff
from yiwang.catalog.elements import ItemElements

from .factories import elements


def dump(**overrides):
    return ItemElements.parse(elements(**overrides)).dump()


def test_identical_sets_have_no_changes():
    assert diff(dump(), dump()) == []


def test_scalar_and_row_changes():
    old = dump()
    new_data = elements(promised_limit=3)
    new_data["materials"][0]["necessity"] = "optional"
    new_data["materials"].append({"name": "授权委托书"})
    del new_data["materials"][3]
    new_data["faq"].append({"question": "可以代办吗？", "answer": "可以。"})
    new_data["form"]["fields"][0]["required"] = False
    new_data["result"]["sample"] = "/x.pdf"
    changes = {(c.path, c.kind) for c in diff(old, ItemElements.parse(new_data).dump())}
    assert ("promised_limit", "changed") in changes
    assert ("materials[食品经营许可申请书].necessity", "changed") in changes
    assert ("materials[授权委托书]", "added") in changes
    assert ("materials[食品安全管理制度]", "removed") in changes
    assert ("faq[可以代办吗？]", "added") in changes
    assert ("form[shop_name].required", "changed") in changes
    assert ("result.sample", "changed") in changes


def test_reordering_is_a_change():
    old = dump()
    data = elements()
    data["steps"] = list(reversed(data["steps"]))
    changes = diff(old, ItemElements.parse(data).dump())
    assert [c.path for c in changes] == ["steps.order"]


def test_labels_are_chinese():
    c = diff(dump(), dump(visits=1, visits_reason="核验", online_depth=3))
    assert {x.label for x in c} >= {"到办事现场次数", "必须现场办理原因说明"}
