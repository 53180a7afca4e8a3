"""Every quality rule: one element set that fails it and one that passes it."""

from __future__ import annotations

import pytest

from yiwang.catalog import quality
from yiwang.catalog.elements import ItemElements

from .factories import elements


def violations(**overrides):
    return quality.check(ItemElements.parse(elements(**overrides)))


def rules_of(**overrides):
    return {v.rule for v in violations(**overrides)}


def test_complete_item_passes_every_rule():
    assert violations() == []


CASES = {
    # rule: (failing overrides, passing overrides)
    "promised_within_legal": ({"promised_limit": 30, "legal_limit": 20}, {"promised_limit": 20, "legal_limit": 20}),
    "instant_consistency": (
        {"promised_limit": 0, "handling_type": "promised"},
        {"promised_limit": 0, "handling_type": "instant"},
    ),
    "visits_reason": (
        {"visits": 1, "online_depth": 3},
        {"visits": 1, "online_depth": 3, "visits_reason": "须现场核验原件"},
    ),
    "zero_visits_post": (
        {"visits": 0, "is_online": False, "online_depth": 0, "handling_forms": ["window"]},
        {"visits": 0, "is_online": False, "online_depth": 0, "handling_forms": ["window", "post"]},
    ),
    "full_online_zero_visits": (
        {"online_depth": 4, "visits": 1, "visits_reason": "核验"},
        {"online_depth": 3, "visits": 1, "visits_reason": "核验"},
    ),
    "fees_basis": (
        {"fees": [{"name": "工本费", "standard": "10元/本"}]},
        {"fees": [{"name": "工本费", "standard": "10元/本", "basis": "发改价格〔2017〕1186号"}]},
    ),
    "phones": ({"complain_phone": "0755-12345678"}, {"complain_phone": "0755-12345"}),
    "licensing_faq": ({"faq": []}, {"faq": [{"question": "要多久？", "answer": "5个工作日。"}]}),
    "licensing_steps": (
        {"steps": [{"kind": "accept"}, {"kind": "decide"}]},
        {"steps": [{"kind": k} for k in ("accept", "review", "decide", "certify", "deliver")]},
    ),
    "result_sample": (
        {"result": {"name": "许可证", "sample": ""}},
        {"result": {"name": "许可证", "sample": "/static/samples/x.pdf"}},
    ),
}


def test_every_rule_has_cases():
    assert set(CASES) == set(quality.RULES)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fails(rule):
    failing, _ = CASES[rule]
    found = [v for v in violations(**failing) if v.rule == rule]
    assert found, rule
    assert all(v.field and v.message for v in found)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_passes(rule):
    _, passing = CASES[rule]
    assert rule not in rules_of(**passing)


def test_units_are_compared_in_natural_days():
    # 20 working days span 28 natural days: a promise of 25 natural days is within it, 30 is not.
    assert "promised_within_legal" not in rules_of(promised_limit=25, promised_limit_unit="natural")
    assert "promised_within_legal" in rules_of(promised_limit=30, promised_limit_unit="natural")


def test_instant_type_needs_zero_promise():
    found = [v for v in violations(handling_type="instant") if v.rule == "instant_consistency"]
    assert found and found[0].field == "promised_limit"


def test_zero_visits_needs_no_reason():
    assert "visits_reason" in rules_of(visits=0, visits_reason="多余说明")


def test_missing_phone_names_field():
    fields = {v.field for v in violations(consult_phone="") if v.rule == "phones"}
    assert fields == {"consult_phone"}


def test_non_licensing_needs_no_faq_or_steps():
    assert not {"licensing_faq", "licensing_steps"} & rules_of(item_type="20", faq=[], steps=[])


def test_no_fees_no_online_payment():
    assert "fees_basis" in rules_of(fees=[], is_pay_online=True)


def test_licensing_steps_lists_missing():
    v = next(v for v in violations(steps=[{"kind": "accept"}]) if v.rule == "licensing_steps")
    assert "审查" in v.message and "送达" in v.message
