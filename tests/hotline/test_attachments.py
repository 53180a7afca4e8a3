"""Work-order attachments: type by content, SHA-256, private storage, permission-checked download."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import person
from tests.hotline.factories import order, world
from yiwang.accounts import services as account_services
from yiwang.cases.models import StoredFile
from yiwang.core.errors import Conflict, NotFound, ValidationFailed
from yiwang.hotline import services
from yiwang.hotline.models import Attachment

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% hotline photo report\n%%EOF\n"


@pytest.fixture(autouse=True)
def private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"
    return settings.PRIVATE_FILES_DIR


@pytest.fixture
def w(db):
    return world()


def bearer(user) -> dict:
    _, plain = account_services.api_token_create(actor=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def post_file(client, user, order_id, name, content):
    return client.post(
        f"/api/v1/hotline/orders/{order_id}/attachments",
        {"file": SimpleUploadedFile(name, content, content_type="application/octet-stream")},
        **bearer(user),
    )


def test_agent_attaches_a_photo_and_the_handling_department_downloads_it(w, client):
    o = order(w)
    r = post_file(client, w.agent, o.pk, "现场照片.png", PNG)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["kind"] == "png" and body["sha256"] == hashlib.sha256(PNG).hexdigest() and body["size"] == len(PNG)
    stored = StoredFile.objects.get()
    assert stored.owner == w.agent and stored.original_name == "现场照片.png"
    assert [e.event for e in o.events.all()][-1] == "attach"

    # not yet the housing department's order: it cannot see it
    assert client.get(body["url"], **bearer(w.housing_staff)).status_code == 404
    services.order_dispatch(actor=w.agent, order_id=o.pk, department_id=w.housing.pk)
    r = client.get(body["url"], **bearer(w.housing_staff))
    assert r.status_code == 200 and b"".join(r.streaming_content) == PNG
    assert r["Content-Type"] == "image/png" and r["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in r["Content-Security-Policy"]
    detail = client.get(f"/api/v1/hotline/orders/{o.pk}", **bearer(w.housing_staff)).json()
    assert [a["name"] for a in detail["attachments"]] == ["现场照片.png"]
    listing = client.get(f"/api/v1/hotline/orders/{o.pk}/attachments", **bearer(w.agent)).json()
    assert listing[0]["id"] == body["id"]
    # another department and anonymous callers get nothing
    assert client.get(body["url"], **bearer(w.hrss_staff)).status_code == 404
    assert client.get(body["url"]).status_code == 401


def test_citizen_attaches_to_own_order_only(w, client):
    citizen = person().user
    mine = order(w, actor=citizen, channel="web", caller_name="", caller_phone="")
    other = order(w)
    assert post_file(client, citizen, mine.pk, "a.pdf", PDF).status_code == 201
    r = post_file(client, citizen, other.pk, "a.pdf", PDF)
    assert r.status_code == 404 and r.json()["code"] == "workorder_not_found"
    assert Attachment.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("photo.png", b"MZ\x90\x00exe", "upload_type_not_allowed"),
        ("photo.pdf", PNG, "upload_type_mismatch"),
        ("photo.png", b"", "upload_empty"),
    ],
)
def test_bad_files_are_refused_and_leave_nothing(w, client, private_dir, name, content, code):
    o = order(w)
    r = post_file(client, w.agent, o.pk, name, content)
    assert r.status_code == 422 and r.json()["code"] == code
    assert not Attachment.objects.exists() and not StoredFile.objects.exists()
    assert not [p for p in private_dir.rglob("*") if p.is_file()]


def test_too_large_is_413(w, client, settings):
    settings.CASE_UPLOAD_MAX_BYTES = 100
    r = post_file(client, w.agent, order(w).pk, "big.pdf", b"%PDF-" + b"0" * 500)
    assert r.status_code == 413 and r.json()["code"] == "upload_too_large"


def test_confidential_orders_keep_files_from_departments(w, client):
    o = order(w, is_confidential=True)
    a = services.attachment_add(actor=w.agent, order_id=o.pk, name="举报材料.pdf", content=PDF)
    services.order_dispatch(actor=w.agent, order_id=o.pk, department_id=w.housing.pk)
    assert client.get(f"/api/v1/hotline/attachments/{a.pk}", **bearer(w.housing_staff)).status_code == 404
    assert client.get(f"/api/v1/hotline/attachments/{a.pk}", **bearer(w.supervisor)).status_code == 200


def test_closed_orders_take_no_files_and_limits_hold(w, monkeypatch):
    o = order(w)
    services.order_refuse(actor=w.agent, order_id=o.pk, reason="emergency_police")
    with pytest.raises(Conflict):
        services.attachment_add(actor=w.agent, order_id=o.pk, name="a.pdf", content=PDF)
    o2 = order(w)
    monkeypatch.setattr(services, "MAX_ATTACHMENTS", 1)
    services.attachment_add(actor=w.agent, order_id=o2.pk, name="a.pdf", content=PDF)
    with pytest.raises(ValidationFailed) as err:
        services.attachment_add(actor=w.agent, order_id=o2.pk, name="b.pdf", content=PDF)
    assert err.value.code == "too_many_attachments"
    with pytest.raises(NotFound):
        services.attachment_add(actor=w.housing_staff, order_id=o2.pk, name="b.pdf", content=PDF)


def test_pages_list_and_upload_attachments(w, client):
    o = order(w)
    client.force_login(w.agent)
    r = client.post(
        f"/workbench/hotline/orders/{o.pk}/attach/",
        {"file": SimpleUploadedFile("现场.png", PNG, content_type="image/png")},
    )
    assert r.status_code == 302
    a = Attachment.objects.get()
    page = client.get(f"/workbench/hotline/orders/{o.pk}/").content.decode()
    assert "现场.png" in page and f"/api/v1/hotline/attachments/{a.pk}" in page
    assert client.get(f"/api/v1/hotline/attachments/{a.pk}").status_code == 200  # the browser session works
    r = client.post(
        f"/workbench/hotline/orders/{o.pk}/attach/",
        {"file": SimpleUploadedFile("x.png", b"<html>", content_type="image/png")},
        follow=True,
    )
    assert Attachment.objects.count() == 1 and "只能上传" in r.content.decode()
