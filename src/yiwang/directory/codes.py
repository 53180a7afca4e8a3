"""Region codes (统计用区划代码, GB/T 2260 + GB/T 10114): pure helpers, no ORM.

A region code has 12 digits: 2 province, 2 city, 2 county, 3 town, 3 village. Shorter codes (the
National Bureau of Statistics files use 2/4/6/9/12) are padded with zeros. A region's *prefix* is the
significant part (2/4/6/9/12 digits by level); a region contains another exactly when the other's code
starts with its prefix — which is how region scopes are queried (``code__startswith``).
"""

from __future__ import annotations

from yiwang.core.errors import ValidationFailed

PROVINCE, CITY, COUNTY, TOWN, VILLAGE = 1, 2, 3, 4, 5
LEVEL_DIGITS = {PROVINCE: 2, CITY: 4, COUNTY: 6, TOWN: 9, VILLAGE: 12}
DIGITS_LEVEL = {v: k for k, v in LEVEL_DIGITS.items()}
LEVEL_NAMES = {PROVINCE: "省级", CITY: "市级", COUNTY: "县级", TOWN: "乡镇（街道）级", VILLAGE: "村（社区）级"}


def pad(code: str) -> str:
    """``"4401"`` → ``"440100000000"``."""
    return code.ljust(12, "0")


def level_of(code: str) -> int:
    """Level of a 12-digit code from its trailing zeros."""
    validate(code)
    for level in (PROVINCE, CITY, COUNTY, TOWN):
        if code[LEVEL_DIGITS[level] :].strip("0") == "":
            return level
    return VILLAGE


def prefix(code: str, level: int | None = None) -> str:
    return code[: LEVEL_DIGITS[level or level_of(code)]]


def parent_code(code: str) -> str | None:
    level = level_of(code)
    if level == PROVINCE:
        return None
    return pad(code[: LEVEL_DIGITS[level - 1]])


def validate(code: str) -> str:
    if not isinstance(code, str) or len(code) != 12 or not code.isdigit():
        raise ValidationFailed("区划代码应为12位数字。", code="invalid_region_code", details={"value": str(code)[:20]})
    if code[:2] == "00":
        raise ValidationFailed("区划代码的省级部分无效。", code="invalid_region_code", details={"value": code})
    return code


def contains(outer: str, inner: str) -> bool:
    """Is ``inner`` the same as or a descendant of ``outer``?"""
    return inner.startswith(prefix(outer))
