"""National identifier checks and masking.

- 居民身份证号码 (GB 11643-1999): 17 digits + check character (ISO 7064 MOD 11-2, ``X`` for 10).
- 统一社会信用代码 (GB 32100-2015): 18 characters from 31 symbols, last one a MOD 31 check character.

Pure functions; no Django imports. ``validate_*`` raise :class:`ValidationFailed` with a stable code and a
message that says what is wrong; ``is_valid_*`` answer yes/no; ``mask_*`` produce the display form.
"""

from __future__ import annotations

import datetime as dt
import re

from .errors import ValidationFailed

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")

_CC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CC_RE = re.compile(rf"^[{_CC_CHARS}]{{18}}$")


def normalize_resident_id(value: str) -> str:
    return (value or "").strip().replace(" ", "").upper()


def resident_id_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def validate_resident_id(value: str, *, today: dt.date | None = None) -> str:
    """Return the normalised 18-character ID number or raise ``ValidationFailed``."""
    number = normalize_resident_id(value)
    if not _ID_RE.match(number):
        raise ValidationFailed(
            "身份证号码应为18位：17位数字加1位校验码（数字或X）。",
            code="invalid_resident_id",
            details={"reason": "format"},
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationFailed(
            "身份证号码中的出生日期无效。", code="invalid_resident_id", details={"reason": "birth_date"}
        ) from None
    today = today or dt.date.today()  # noqa: DTZ011 - a calendar date, not an instant
    if birth > today or birth.year < 1850:
        raise ValidationFailed(
            "身份证号码中的出生日期无效。", code="invalid_resident_id", details={"reason": "birth_date"}
        )
    if resident_id_check_char(number[:17]) != number[17]:
        raise ValidationFailed(
            "身份证号码校验码错误，请核对后重新输入。",
            code="invalid_resident_id",
            details={"reason": "check_digit"},
        )
    return number


def is_valid_resident_id(value: str) -> bool:
    try:
        validate_resident_id(value)
    except ValidationFailed:
        return False
    return True


def normalize_credit_code(value: str) -> str:
    return (value or "").strip().replace(" ", "").upper()


def credit_code_check_char(first17: str) -> str:
    total = sum(_CC_CHARS.index(c) * w for c, w in zip(first17, _CC_WEIGHTS, strict=True))
    return _CC_CHARS[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    """Return the normalised 18-character unified social credit code or raise ``ValidationFailed``."""
    code = normalize_credit_code(value)
    if not _CC_RE.match(code):
        raise ValidationFailed(
            "统一社会信用代码应为18位，由数字和大写字母组成（不含I、O、Z、S、V）。",
            code="invalid_credit_code",
            details={"reason": "format"},
        )
    if not code[2:8].isdigit():
        raise ValidationFailed(
            "统一社会信用代码第3至8位应为登记机关行政区划码。",
            code="invalid_credit_code",
            details={"reason": "region"},
        )
    if credit_code_check_char(code[:17]) != code[17]:
        raise ValidationFailed(
            "统一社会信用代码校验码错误，请核对后重新输入。",
            code="invalid_credit_code",
            details={"reason": "check_digit"},
        )
    return code


def is_valid_credit_code(value: str) -> bool:
    try:
        validate_credit_code(value)
    except ValidationFailed:
        return False
    return True


def make_credit_code(first17: str) -> str:
    """Complete 17 characters with their check character (used by demo data and tests)."""
    return first17 + credit_code_check_char(first17)


def make_resident_id(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


def mask_resident_id(value: str) -> str:
    """``440106199001011234`` → ``4401**********1234``."""
    if not value:
        return ""
    if len(value) < 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_credit_code(value: str) -> str:
    """``91440101MA5CXXXXXX`` → ``914401**********XX``: keeps the registering region, hides the body."""
    if not value:
        return ""
    if len(value) < 8:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 8) + value[-2:]


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def validate_mobile(value: str) -> str:
    phone = (value or "").strip().replace(" ", "").replace("-", "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not _PHONE_RE.match(phone):
        raise ValidationFailed("请输入11位中国大陆手机号码。", code="invalid_phone")
    return phone


# Free text that may carry an ID or credit code (logs, audit summaries): mask anything that looks like one.
_FREE_ID_RE = re.compile(r"(?<![0-9A-Z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Z])")
_FREE_CC_RE = re.compile(
    rf"(?<![0-9A-Z])([{_CC_CHARS}]{{2}}\d{{6}})([{_CC_CHARS}]{{8}})([{_CC_CHARS}]{{2}})(?![0-9A-Z])"
)


def mask_identifiers_in_text(text: str) -> str:
    text = _FREE_ID_RE.sub(lambda m: mask_resident_id(m.group(0).upper()), text)
    return _FREE_CC_RE.sub(lambda m: mask_credit_code(m.group(0)), text)
