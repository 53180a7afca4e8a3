"""Case pages: apply, fill and upload, submit, my cases, staff queues, actions, documents and files."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.cases import factories as f
from yiwang.cases import services
from yiwang.cases.models import Case


@pytest.fixture(autouse=True)
def private_dir(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"


@pytest.fixture
def w(db):
    return f.world()


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


def test_online_application_through_the_pages(w):
    c = client_for(w.applicant)
    page = c.get(f"/items/{w.item.code}/application/")
    assert page.status_code == 200 and "开始填写" in page.content.decode()
    r = c.post(f"/items/{w.item.code}/application/", {"applicant": ""})
    case = Case.objects.get()
    assert r.status_code == 302 and r.url == f"/me/cases/{case.pk}/edit/"
    edit = c.get(r.url).content.decode()
    assert 'name="f_shop_name"' in edit and 'name="material_0"' in edit
    form = {f"f_{k}": v for k, v in f.FORM.items()}
    files = {
        f"material_{u.material_index}": SimpleUploadedFile(u.name, u.content, "application/pdf")
        for u in f.files_for_required(w.item.current_version)
    }
    r = c.post(r.url, {**form, **files, "intent": "submit"})
    assert r.status_code == 302 and r.url == f"/me/cases/{case.pk}/"
    case.refresh_from_db()
    assert case.state == "submitted"
    detail = c.get(r.url).content.decode()
    assert case.number in detail and "待预审" in detail and "提交申请" in detail
    assert case.number in c.get("/me/cases/").content.decode()


def test_submit_with_errors_shows_them(w):
    c = client_for(w.applicant)
    case = services.case_create_draft(actor=w.applicant, item_code=w.item.code)
    r = c.post(f"/me/cases/{case.pk}/edit/", {"intent": "submit"})
    assert r.status_code == 200
    assert "请填写店铺名称" in r.content.decode()


def test_disguised_upload_is_refused_on_the_page(w):
    c = client_for(w.applicant)
    case = services.case_create_draft(actor=w.applicant, item_code=w.item.code)
    r = c.post(
        f"/me/cases/{case.pk}/edit/",
        {"intent": "save", "material_0": SimpleUploadedFile("a.pdf", b"MZ\x90\x00", "application/pdf")},
    )
    assert "只能上传" in r.content.decode()
    assert not case.files.exists()


def test_other_people_cannot_open_a_case(w):
    case = f.submitted(w)
    assert client_for(w.stranger).get(f"/me/cases/{case.pk}/").status_code == 404
    assert client_for(w.clerk_yx).get(f"/workbench/cases/{case.pk}/").status_code == 404
    file_id = case.files.first().file_id
    assert client_for(w.stranger).get(f"/cases/files/{file_id}/").status_code == 404
    r = client_for(w.applicant).get(f"/cases/files/{file_id}/")
    assert r.status_code == 200 and r["X-Content-Type-Options"] == "nosniff"


def test_workbench_queue_and_actions(w):
    case = f.submitted(w)
    c = client_for(w.clerk)
    page = c.get("/workbench/cases/?queue=pretrial").content.decode()
    assert case.number in page
    partial = c.get("/workbench/cases/?queue=pretrial", HTTP_HX_REQUEST="true").content.decode()
    assert case.number in partial and "<html" not in partial
    detail = c.get(f"/workbench/cases/{case.pk}/").content.decode()
    assert 'data-testid="act-pretrial_pass"' in detail and 'data-testid="act-accept"' not in detail
    c.post(f"/workbench/cases/{case.pk}/act/pretrial_pass/")
    r = c.post(f"/workbench/cases/{case.pk}/act/request_supplement/", {"material": ["0"], "reason_0": "缺少签名"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == "supplement"
    r = c.post(f"/workbench/cases/{case.pk}/act/accept/", follow=True)
    assert "不能受理" in r.content.decode()
    assert client_for(w.applicant).get("/workbench/cases/").status_code in (302, 403)


def test_document_page_and_pdf(w):
    case = f.accepted(w)
    doc = case.documents.get(kind="accept")
    c = client_for(w.applicant)
    html = c.get(f"/cases/documents/{doc.number}/").content.decode()
    assert "受理通知书" in html and case.number in html
    pdf = c.get(f"/cases/documents/{doc.number}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client_for(w.stranger).get(f"/cases/documents/{doc.number}/").status_code == 404


def test_window_intake_pages(w):
    from yiwang.core import crypto

    c = client_for(w.clerk)
    assert w.item.name in c.get(f"/workbench/cases/intake/?q={w.item.name[:4]}").content.decode()
    person = w.applicant.person
    number = crypto.decrypt(person.id_encrypted)
    r = c.post("/workbench/cases/intake/", {"item_code": w.item.code, "id_number": number})
    case = Case.objects.get()
    assert r.status_code == 302 and r.url == f"/workbench/cases/{case.pk}/"
    assert 'data-testid="act-window_receive"' in c.get(r.url).content.decode()
    form = {f"f_{k}": v for k, v in f.FORM.items()}
    r = c.post(
        f"/workbench/cases/{case.pk}/act/window_receive/",
        {**form, "paper": ["0", "1", "2"], "window": str(w.window.pk)},
    )
    case.refresh_from_db()
    assert case.state == "received" and case.window_id == w.window.pk


def test_messages_page(w):
    f.submitted(w)
    c = client_for(w.applicant)
    assert "申请已提交" in c.get("/me/messages/").content.decode()
    c.post("/me/messages/")
    assert not w.applicant.case_messages.filter(read_at__isnull=True).exists()
