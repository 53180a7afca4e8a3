"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# Unit tests are never timed (speed targets live in bench/): a property example that takes longer on a loaded
# machine is not a failure.
hypothesis_settings.register_profile("yiwang", deadline=None)
hypothesis_settings.load_profile("yiwang")

SHARED_DATA = Path(os.environ.get("YIWANG_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def shared_path(*parts: str) -> Path:
    """A file under ../shared/data; the test is skipped when the folder is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


@pytest.fixture(autouse=True)
def _fresh_calendar_and_outbox():
    from django.core.cache import cache

    from yiwang.accounts import sms
    from yiwang.hotline import services as hotline_services
    from yiwang.workdays import calendar

    calendar.invalidate()
    hotline_services.forget_regions()
    sms.outbox.clear()
    cache.clear()  # hot searches and other cached reads start empty whatever ran before (order, xdist worker)
    yield
    calendar.invalidate()
    hotline_services.forget_regions()


@pytest.fixture
def is_postgres(db) -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


@pytest.fixture
def system():
    from yiwang.core.actors import SystemActor

    return SystemActor("test")


@pytest.fixture
def geo(db):
    """A small region tree: 广东省 > 广州市 > 天河区/越秀区 > streets > communities, plus 深圳市."""
    from tests.factories import region_tree

    return region_tree()
