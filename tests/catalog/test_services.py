"""Drafts, publication with the quality rules, versions by date, suspension/cancellation, events, 同源."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import DepartmentFactory, staff
from yiwang.accounts.roles import Role
from yiwang.catalog import events, selectors, services
from yiwang.catalog.models import ServiceItem, ServiceItemVersion
from yiwang.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed

from .factories import SYSTEM, draft_item, elements, published_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def dept(geo):
    return DepartmentFactory(region=geo.th, name="天河区市场监督管理局")


def test_publish_freezes_a_version_with_hot_columns(dept):
    item = draft_item(department=dept)
    assert item.state == "draft" and selectors.current_version(item=item) is None
    version = services.item_publish(actor=SYSTEM, item=item, note="首次发布")
    item.refresh_from_db()
    assert item.state == "published" and item.current_version == version
    assert version.number == 1 and version.name == "食品经营许可证核发"
    assert (version.legal_limit, version.promised_limit, version.online_depth) == (20, 5, 4)
    assert version.is_online and version.material_count == 4 and not version.has_fees
    assert version.themes == "|就业创业|准营准办|" and version.service_objects == "|1|2|"
    assert version.data.materials[1].licence_type == "business_licence"
    assert version.department == dept and version.region_id == dept.region_id
    assert version.catalog_code == item.catalog_item.code


def test_publish_refuses_a_failing_item_naming_rule_and_field(dept):
    item = draft_item(department=dept, promised_limit=30)
    with pytest.raises(ValidationFailed) as exc:
        services.item_publish(actor=SYSTEM, item=item)
    assert exc.value.code == "quality_rules_failed"
    assert {"rule": "promised_within_legal", "field": "promised_limit"}.items() <= exc.value.details[0].items()
    assert not ServiceItemVersion.objects.exists()
    item.refresh_from_db()
    assert item.state == "draft"


def test_new_version_supersedes_and_date_lookup(dept):
    item = published_item(department=dept)
    v1 = item.current_version
    t_between = timezone.now()
    services.item_update_draft(actor=SYSTEM, item=item, elements=elements(promised_limit=3))
    item.refresh_from_db()
    assert item.draft_changed
    assert selectors.current_version(item=item) == v1  # the draft does not change what is in force
    v2 = services.item_publish(actor=SYSTEM, item=item)
    v1.refresh_from_db()
    assert v2.number == 2 and v1.superseded_at == v2.published_at
    assert selectors.item_version_at(item_code=item.code, at=t_between) == v1
    assert selectors.item_version_at(item_code=item.code, at=timezone.now()) == v2
    assert selectors.item_version_at(item_code=item.code, at=timezone.now()).promised_limit == 3
    with pytest.raises(NotFound):
        selectors.item_version_at(item_code=item.code, at=v1.published_at - dt.timedelta(seconds=1))
    with pytest.raises(NotFound):
        selectors.item_version_at(item_code="no-such-item", at=timezone.now())


def test_republishing_an_unchanged_draft_is_refused(dept):
    item = published_item(department=dept)
    with pytest.raises(Conflict) as exc:
        services.item_publish(actor=SYSTEM, item=item)
    assert exc.value.code == "nothing_to_publish"


def test_versions_are_immutable_snapshots(dept):
    item = published_item(department=dept)
    v1 = item.current_version
    services.item_update_draft(actor=SYSTEM, item=item, elements=elements(name="食品经营许可证核发（新）"))
    v1.refresh_from_db()
    assert v1.name == "食品经营许可证核发" and v1.data.name == "食品经营许可证核发"


def test_suspend_resume_cancel_keep_history(dept):
    item = published_item(department=dept)
    v1 = item.current_version
    before = timezone.now()
    with pytest.raises(ValidationFailed):
        services.item_suspend(actor=SYSTEM, item=item, reason=" ")
    services.item_suspend(actor=SYSTEM, item=item, reason="政策调整")
    v1.refresh_from_db()
    assert v1.state == "suspended" and v1.state_at(before) == "published" and v1.state_at(timezone.now()) == "suspended"
    assert not selectors.published_items().filter(pk=item.pk).exists()
    services.item_resume(actor=SYSTEM, item=item)
    assert selectors.published_items().filter(pk=item.pk).exists()
    services.item_cancel(actor=SYSTEM, item=item, reason="事项取消")
    item.refresh_from_db()
    assert item.state == "cancelled"
    assert selectors.item_version_at(item_code=item.code, at=timezone.now()) == v1  # history stays
    with pytest.raises(InvalidTransition):
        services.item_resume(actor=SYSTEM, item=item)
    with pytest.raises(Conflict):
        services.item_update_draft(actor=SYSTEM, item=item, elements=elements())


def test_events_fire_on_commit(dept, django_capture_on_commit_callbacks):
    published, withdrawn = [], []
    on_pub = events.item_published.connect(lambda *, item_codes: published.extend(item_codes))
    on_wd = events.item_withdrawn.connect(lambda *, item_codes: withdrawn.extend(item_codes))
    try:
        item = draft_item(department=dept)
        with django_capture_on_commit_callbacks(execute=True):
            services.item_publish(actor=SYSTEM, item=item)
        assert published == [item.code]
        with django_capture_on_commit_callbacks(execute=True):
            services.item_suspend(actor=SYSTEM, item=item, reason="调整")
        assert withdrawn == [item.code]
    finally:
        events.item_published.disconnect(on_pub)
        events.item_withdrawn.disconnect(on_wd)


def test_failed_callback_does_not_stop_others():
    seen = []

    def bad(**kw):
        raise RuntimeError("boom")

    hook = events.Hook("t")
    hook.connect(bad)
    hook.connect(lambda **kw: seen.append(kw))
    hook.send_now(item_codes=["x"])
    assert seen == [{"item_codes": ["x"]}]


def test_catalog_elements_cannot_change_locally(dept):
    item = draft_item(department=dept)
    with pytest.raises(ValidationFailed) as exc:
        services.item_update_draft(actor=SYSTEM, item=item, elements=elements(item_type="20"))
    assert exc.value.code == "catalog_element_locked"


def test_invalid_elements_list_fields(dept):
    item = draft_item(department=dept)
    bad = elements(legal_limit=-1, materials=[{"name": ""}], service_objects=["x"])
    with pytest.raises(ValidationFailed) as exc:
        services.item_update_draft(actor=SYSTEM, item=item, elements=bad)
    fields = {d["field"] for d in exc.value.details}
    assert {"legal_limit", "materials.0.name", "service_objects"} <= fields


def test_duplicate_code_conflicts(dept):
    draft_item(department=dept, code="DUP1")
    with pytest.raises(Conflict):
        draft_item(department=dept, code="DUP1")


def test_permissions_follow_region_scope(geo, dept):
    admin = staff(Role.CATALOG_ADMIN, dept)
    other = staff(Role.CATALOG_ADMIN, DepartmentFactory(region=geo.ft))
    clerk = staff(Role.WINDOW_CLERK, dept)
    item = draft_item(department=dept)
    services.item_publish(actor=admin, item=item)
    for user in (other, clerk):
        with pytest.raises(PermissionDenied):
            services.item_suspend(actor=user, item=item, reason="x")
    assert list(selectors.items_for_staff(user=admin)) == [item]
    assert list(selectors.items_for_staff(user=other)) == []


def test_index_documents(dept):
    item = published_item(department=dept)
    draft_item(department=dept)  # never published: not indexed
    docs = list(selectors.iter_index_documents())
    assert [d["code"] for d in docs] == [item.code]
    doc = docs[0]
    assert doc["department"] == "天河区市场监督管理局" and doc["online"] is True
    assert doc["service_objects"] == ["自然人", "企业法人"]
    assert "食品经营许可申请书" in doc["guide_text"] and "有效期" in doc["faq_text"]
    assert set(doc["themes"]) == {"就业创业", "准营准办"}


def test_published_items_filters(geo, dept):
    a = published_item(department=dept)
    b = published_item(
        department=DepartmentFactory(region=geo.yx),
        item_type="20",
        is_online=False,
        online_depth=0,
        handling_forms=["window", "post"],
        personal_themes=["生育收养"],
        corporate_themes=[],
        faq=[],
    )
    assert set(selectors.published_items(region_prefix="440106")) == {a}
    assert set(selectors.published_items(theme="生育收养")) == {b}
    assert set(selectors.published_items(online=True)) == {a}
    assert set(selectors.published_items(item_type="20")) == {b}
    assert set(selectors.published_items(service_object="2")) == {a, b}
    assert set(selectors.published_items(q="食品")) == {a, b}
    assert set(selectors.published_items(level=3)) == {a, b}
    assert ServiceItem.objects.count() == 2
