"""The transition tables, exhaustively."""

from __future__ import annotations

import itertools

import pytest

from yiwang.catalog import transitions as t
from yiwang.core.errors import InvalidTransition

ITEM_EXPECTED = {
    ("draft", "publish"): "published",
    ("published", "publish"): "published",
    ("published", "suspend"): "suspended",
    ("published", "cancel"): "cancelled",
    ("suspended", "resume"): "published",
    ("suspended", "publish"): "published",
    ("suspended", "cancel"): "cancelled",
}
BUNDLE_EXPECTED = {
    ("draft", "publish"): "published",
    ("published", "publish"): "published",
    ("withdrawn", "publish"): "published",
    ("published", "withdraw"): "withdrawn",
}


@pytest.mark.parametrize("state,act", list(itertools.product(t.ITEM_STATES, t.ITEM_ACTIONS)))
def test_item_table(state, act):
    if (state, act) in ITEM_EXPECTED:
        assert t.item_next(state, act) == ITEM_EXPECTED[(state, act)]
    else:
        with pytest.raises(InvalidTransition):
            t.item_next(state, act)


@pytest.mark.parametrize("state,act", list(itertools.product(t.BUNDLE_STATES, t.BUNDLE_ACTIONS)))
def test_bundle_table(state, act):
    if (state, act) in BUNDLE_EXPECTED:
        assert t.bundle_next(state, act) == BUNDLE_EXPECTED[(state, act)]
    else:
        with pytest.raises(InvalidTransition):
            t.bundle_next(state, act)


def test_cancelled_is_final():
    assert not [k for k in t.ITEM_TRANSITIONS if k[0] == "cancelled"]
