import pytest

from yiwang.core.errors import ValidationFailed
from yiwang.core.text import is_storable, require_storable


@pytest.mark.parametrize("value", ["", "办事很快，态度好", "第一行\n第二行\r\n\t缩进", "emoji 👍", "𠀀 extension B"])
def test_ordinary_text_is_storable(value):
    assert is_storable(value)


@pytest.mark.parametrize("value", ["a\x00b", "\x07", "\x1b[31m", "\x7f", "\ud800", "x\udfffy"])
def test_controls_and_lone_surrogates_are_not(value):
    assert not is_storable(value)


def test_require_storable_names_the_field_and_checks_every_string_of_a_list():
    require_storable(text="好", reasons=["态度好", "效率高"])
    with pytest.raises(ValidationFailed) as caught:
        require_storable(text="好", reasons=["态度好", "\x00"])
    assert caught.value.code == "invalid_text"
    assert caught.value.details == {"field": "reasons"}
