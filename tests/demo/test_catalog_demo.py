"""The demo catalog: at least 60 complete items over at least 10 departments, three bundles, idempotent."""

from __future__ import annotations

import pytest

from yiwang.catalog import quality, selectors
from yiwang.catalog.models import Bundle, ServiceItem, ServiceItemVersion
from yiwang.demo import catalog, foundation

pytestmark = pytest.mark.django_db


def test_demo_catalog():
    foundation.load()
    catalog.load()
    items = ServiceItem.objects.filter(state="published")
    assert items.count() >= 60
    assert items.values("department").distinct().count() >= 10
    levels = set(items.values_list("region__level", flat=True))
    assert {2, 3, 4} <= levels  # city, county, town
    for version in ServiceItemVersion.objects.all():
        e = version.data
        assert quality.check(e) == [], version.name
        assert e.materials and e.steps and e.faq and e.places and e.form.fields and e.conditions
        assert e.result.sample and e.consult_phone and e.complain_phone
    assert set(Bundle.objects.filter(state="published").values_list("name", flat=True)) == {
        "新生儿出生一件事",
        "开办餐饮店一件事",
        "退休一件事",
    }
    newborn = selectors.bundle_get(code="newborn")
    members = selectors.bundle_applicable_members(bundle=newborn, answers={"hukou": "是", "ss_card": "是"})
    assert len(members) == 5
    merged = [m.name for m, _ in selectors.bundle_materials(members=members)]
    assert len(merged) < sum(len(m.item.current_version.data.materials) for m in members)  # duplicates removed
    before = (ServiceItem.objects.count(), ServiceItemVersion.objects.count(), Bundle.objects.count())
    catalog.load()
    assert (ServiceItem.objects.count(), ServiceItemVersion.objects.count(), Bundle.objects.count()) == before
