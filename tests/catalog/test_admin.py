"""Admin pages of the catalog render; catalog-item edits bump the version and are audited."""

import pytest
from django.test import Client

from tests.factories import DepartmentFactory
from yiwang.accounts.models import User
from yiwang.core.models import AuditEvent

from .factories import catalog_item, published_item

pytestmark = pytest.mark.django_db


def test_admin_pages(geo):
    item = published_item(department=DepartmentFactory(region=geo.th))
    cat = catalog_item(name="示例目录")
    c = Client()
    c.force_login(User.objects.create_superuser("root", "x"))
    for url in [
        "/admin/catalog/catalogitem/",
        "/admin/catalog/serviceitem/",
        f"/admin/catalog/serviceitem/{item.pk}/change/",
        "/admin/catalog/bundle/",
        "/admin/catalog/bundle/add/",
    ]:
        assert c.get(url, secure=True).status_code == 200, url
    r = c.post(
        f"/admin/catalog/catalogitem/{cat.pk}/change/",
        {
            "code": cat.code,
            "name": "示例目录（改）",
            "item_type": "01",
            "legal_basis": "[]",
            "use_levels": "[3]",
            "state": "active",
        },
        secure=True,
    )
    assert r.status_code == 302, [str(e) for e in r.context["adminform"].form.errors.items()]
    cat.refresh_from_db()
    assert cat.name == "示例目录（改）" and cat.version == 2 and cat.use_levels == [3]
    assert AuditEvent.objects.filter(action="catalog.directory.change").exists()
