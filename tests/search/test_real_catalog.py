"""The real Guangdong catalogue (../shared/data): the searches the issue names return the right items first."""

from __future__ import annotations

import pytest

from tests.conftest import shared_path
from yiwang.core.actors import SystemActor
from yiwang.search import selectors, services

pytestmark = [pytest.mark.django_db, pytest.mark.shared_data]


@pytest.fixture
def real_index(settings, tmp_path):
    from yiwang.catalog.imports import import_gdzwfw

    path = shared_path("gd-service-items", "gd_items_raw.jsonl")
    settings.SEARCH_INDEX_DIR = tmp_path / "index"
    actor = SystemActor("test")
    report = import_gdzwfw(actor=actor, path=path)
    assert report.as_dict()["errors"] == [] or not report.as_dict()["errors"]
    services.rebuild(actor=actor)


def first(q: str, region: str | None = None) -> str:
    return selectors.search(q=q, region=region, log=False).results.hits[0].card["title"]


def test_the_named_searches(real_index):
    assert "社会保险" in first("shebao")
    assert first("辦護照") == "办理及加注普通护照"
    assert first("港奥通行证") == "办理往来港澳通行证"
    assert selectors.search(q="港奥通行证", log=False).results.corrected == "港澳通行证"
    assert "律师执业" in first("律师执业")
    assert "养老金" in first("退休金")
