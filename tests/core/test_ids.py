import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yiwang.core.errors import ValidationFailed
from yiwang.core.ids import (
    credit_code_check_char,
    is_valid_credit_code,
    is_valid_resident_id,
    make_credit_code,
    make_resident_id,
    mask_credit_code,
    mask_identifiers_in_text,
    mask_phone,
    mask_resident_id,
    resident_id_check_char,
    validate_credit_code,
    validate_mobile,
    validate_resident_id,
)

# Published examples: GB 11643 appendix sample and real, public credit codes of government bodies.
KNOWN_IDS = ["11010519491231002X", "440524188001010014"]
KNOWN_CREDIT_CODES = ["91350100M000100Y43", "91440300708461136T", "911100001000080343"]


@pytest.mark.parametrize("number", KNOWN_IDS)
def test_known_resident_ids_are_valid(number):
    assert validate_resident_id(number) == number


def test_lowercase_x_and_spaces_are_normalised():
    assert validate_resident_id(" 11010519491231002x ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("110105194912310021", "check_digit"),
        ("11010519491231002", "format"),
        ("1101051949123100X2", "format"),
        ("110105194913310029", "birth_date"),
        ("", "format"),
    ],
)
def test_bad_resident_ids_are_rejected_with_reason(number, reason):
    with pytest.raises(ValidationFailed) as exc:
        validate_resident_id(number)
    assert exc.value.code == "invalid_resident_id"
    assert exc.value.details["reason"] == reason
    assert "身份证" in exc.value.message


def test_future_birth_date_is_rejected():
    number = make_resident_id("44010620990101001")
    with pytest.raises(ValidationFailed):
        validate_resident_id(number, today=dt.date(2026, 1, 1))


@pytest.mark.parametrize("code", KNOWN_CREDIT_CODES)
def test_known_credit_codes_are_valid(code):
    assert validate_credit_code(code) == code


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y42", "check_digit"),
        ("91350100M000100Y4", "format"),
        ("91350100M0001O0Y43", "format"),  # letter O is not in the character set
        ("91ABCDEFM000100Y43", "region"),
    ],
)
def test_bad_credit_codes_are_rejected(code, reason):
    with pytest.raises(ValidationFailed) as exc:
        validate_credit_code(code)
    assert exc.value.code == "invalid_credit_code"
    assert exc.value.details["reason"] == reason


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_every_17_digit_prefix_completes_to_exactly_one_check_char(prefix):
    checks = [c for c in "0123456789X" if resident_id_check_char(prefix) == c]
    assert len(checks) == 1
    full = prefix + checks[0]
    others = [prefix + c for c in "0123456789X" if c != checks[0]]
    try:
        validate_resident_id(full)
    except ValidationFailed as exc:
        assert exc.details["reason"] == "birth_date"  # only the date can still be wrong
    assert not any(is_valid_resident_id(o) for o in others)


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=17, max_size=17).filter(lambda s: s[2:8].isdigit()))
def test_credit_code_check_char_is_unique(prefix):
    code = make_credit_code(prefix)
    assert is_valid_credit_code(code)
    assert code[-1] == credit_code_check_char(prefix)
    wrong = [prefix + c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != code[-1]]
    assert not any(is_valid_credit_code(w) for w in wrong)


def test_masks():
    assert mask_resident_id("440106199001011234") == "4401**********1234"
    assert mask_credit_code("91440300708461136T") == "914403**********6T"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_resident_id("") == ""


def test_identifiers_are_masked_in_free_text():
    text = "申请人 11010519491231002X 单位 91350100M000100Y43 电话 020-12345"
    masked = mask_identifiers_in_text(text)
    assert "11010519491231002X" not in masked
    assert "1101**********002X" in masked
    assert "91350100M000100Y43" not in masked
    assert "020-12345" in masked


@pytest.mark.parametrize("phone", ["13800138000", "+86 138 0013 8000", "138-0013-8000"])
def test_mobile_numbers(phone):
    assert validate_mobile(phone) == "13800138000"


@pytest.mark.parametrize("phone", ["12800138000", "1380013800", "abc"])
def test_bad_mobile_numbers(phone):
    with pytest.raises(ValidationFailed):
        validate_mobile(phone)
