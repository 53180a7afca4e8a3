"""The cases API: one-shot application with Idempotency-Key, files, the staff flow, queues and bad input."""

import json

import pytest

from tests.cases import factories as f
from yiwang.cases.models import Case, CaseFile, IdempotencyRecord, StoredFile


@pytest.fixture(autouse=True)
def private_dir(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"


@pytest.fixture
def w(db):
    return f.world()


def upload(name, content, content_type="application/pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def apply(client, w, *, key=None, form=None, files=None, materials=None, complete=False):
    version = w.item.current_version
    complete = f.files_for_required(version, deferrable=complete)
    files = files if files is not None else [upload(u.name, u.content) for u in complete]
    materials = materials if materials is not None else [u.material_index for u in complete]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {client.token}"}
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.client.post(
        "/api/v1/cases/apply",
        {
            "item_code": w.item.code,
            "form": json.dumps(form or f.FORM),
            "materials": json.dumps(materials),
            "files": files,
        },
        **headers,
    )


def test_apply_then_retry_with_the_same_key(w, api_as):
    client = api_as(w.applicant)
    first = apply(client, w, key="apply-retry-0001")
    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["state"] == "submitted" and body["number"]
    detail = client.get(f"/cases/{body['id']}").json()
    assert [len(m["files"]) for m in detail["materials"]] == [1, 1, 1, 0]
    again = apply(client, w, key="apply-retry-0001")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert Case.objects.count() == 1 and StoredFile.objects.count() == 3


@pytest.mark.parametrize(
    ("key", "code"), [("short", "validation_failed"), ("has spaces in it!", "idempotency_key_invalid")]
)
def test_malformed_idempotency_keys(w, api_as, key, code):
    response = apply(api_as(w.applicant), w, key=key)
    assert response.status_code == 422 and response.json()["code"] == code
    assert not Case.objects.exists()


def test_key_reused_with_other_content(w, api_as):
    client = api_as(w.applicant)
    assert apply(client, w, key="apply-reuse-0001").status_code == 201
    response = apply(client, w, key="apply-reuse-0001", form={**f.FORM, "shop_name": "另一家"})
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_reused"
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "content", "status", "code"),
    [
        ("申请书.pdf", b"MZ\x90\x00exe", 422, "upload_type_not_allowed"),
        ("申请书.pdf", f.PNG, 422, "upload_type_mismatch"),
        ("申请书.pdf", b"%PDF-" + b"0" * 3000, 413, "upload_too_large"),
    ],
)
def test_bad_files_leave_no_rows(w, api_as, settings, name, content, status, code):
    settings.CASE_UPLOAD_MAX_BYTES = 2000
    files = [upload(name, content), upload("b.pdf", f.PDF), upload("c.pdf", f.PDF)]
    response = apply(api_as(w.applicant), w, key="bad-file-0001", files=files)
    assert response.status_code == status and response.json()["code"] == code
    assert not Case.objects.exists() and not StoredFile.objects.exists() and not IdempotencyRecord.objects.exists()


def test_material_mapping_must_match_the_files(w, api_as):
    response = apply(api_as(w.applicant), w, materials=[0])
    assert response.status_code == 422 and response.json()["code"] == "materials_mapping_invalid"
    response = apply(api_as(w.applicant), w, form={"shop_name": "x"})
    assert response.status_code == 422 and response.json()["code"] == "form_invalid"
    assert not Case.objects.exists()


def test_draft_upload_submit_and_file_access(w, api_as):
    client = api_as(w.applicant)
    created = client.post("/cases", {"item_code": w.item.code, "form": f.FORM})
    assert created.status_code == 201
    case_id = created.json()["id"]
    response = client.client.post(
        f"/api/v1/cases/{case_id}/files",
        {"material_index": 0, "file": upload("申请书.pdf", f.PDF)},
        HTTP_AUTHORIZATION=f"Bearer {client.token}",
    )
    assert response.status_code == 201
    file_id = response.json()["id"]
    download = client.get(f"/cases/files/{file_id}")
    assert download.status_code == 200 and b"".join(download.streaming_content) == f.PDF
    assert download["X-Content-Type-Options"] == "nosniff"
    assert api_as(w.stranger).get(f"/cases/files/{file_id}").status_code == 404
    assert api_as(w.clerk).get(f"/cases/files/{file_id}").status_code == 404  # a draft: not the clerk's yet
    submit = client.post(f"/cases/{case_id}/submit")
    assert submit.status_code == 422 and submit.json()["code"] == "materials_missing"
    assert client.delete(f"/cases/{case_id}/files/{file_id}").status_code == 200
    assert not CaseFile.objects.exists()


def test_staff_flow_through_the_api(w, api_as):
    applicant, clerk, reviewer, head = (api_as(u) for u in (w.applicant, w.clerk, w.reviewer, w.head))
    case_id = apply(applicant, w, complete=True).json()["id"]
    assert [c["id"] for c in clerk.get("/cases/queues/pretrial").json()] == [case_id]
    counts = {q["key"]: q["count"] for q in clerk.get("/cases/queues").json()}
    assert counts["pretrial"] == 1 and counts["in_process"] == 0
    assert clerk.post(f"/cases/{case_id}/pretrial", {"outcome": "pass"}).status_code == 200
    r = clerk.post(f"/cases/{case_id}/supplement", {"items": [{"material_index": 0, "reason": "未签名"}]})
    assert r.status_code == 200 and r.json()["state"] == "supplement"
    files = [m["files"] for m in applicant.get(f"/cases/{case_id}").json()["materials"]]
    assert files[0]
    applicant.client.post(
        f"/api/v1/cases/{case_id}/files",
        {"material_index": 0, "file": upload("签名版.pdf", f.PDF)},
        HTTP_AUTHORIZATION=f"Bearer {applicant.token}",
    )
    assert applicant.post(f"/cases/{case_id}/resubmit", {}).json()["state"] == "received"
    accepted = clerk.post(f"/cases/{case_id}/accept", {})
    assert accepted.status_code == 200 and accepted.json()["promised_due"]
    second = clerk.post(f"/cases/{case_id}/accept", {})
    assert second.status_code == 409 and second.json()["code"] == "invalid_transition"
    assert reviewer.post(f"/cases/{case_id}/steps", {"opinion": "符合条件"}).status_code == 200
    assert reviewer.post(f"/cases/{case_id}/extensions", {"days": 3, "reason": "核查"}).status_code == 200
    decided = head.post(f"/cases/{case_id}/extensions/decision", {"approve": True})
    assert decided.json()["extension_days"] == 3
    assert reviewer.post(f"/cases/{case_id}/decision", {"approve": True, "opinion": "准予"}).status_code == 200
    done = clerk.post(f"/cases/{case_id}/complete", {"delivery": "window"})
    assert done.json()["state"] == "completed"
    detail = applicant.get(f"/cases/{case_id}").json()
    assert [d["title"] for d in detail["documents"]] == [
        "收件凭证",
        "补正告知书",
        "受理通知书",
        "延长办理期限通知书",
        "准予许可决定书",
        "办结通知书",
    ]
    assert detail["extensions"] == [] and detail["allowed_actions"] == []
    timeline = applicant.get(f"/cases/{case_id}/timeline").json()
    assert [e["label"] for e in timeline] == [
        "创建申请",
        "提交申请",
        "预审通过",
        "一次性告知补正",
        "补正提交",
        "受理",
        "办理环节",
        "批准延期",
        "准予许可",
        "出件办结",
    ]
    pdf = applicant.get(f"/cases/documents/{detail['documents'][2]['number']}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert api_as(w.stranger).get(f"/cases/documents/{detail['documents'][2]['number']}/pdf").status_code == 404
    messages = applicant.get("/cases/messages").json()
    assert any("已受理" in m["title"] for m in messages)
    assert applicant.post("/cases/messages/read", {}).json()["count"] == len(messages)


def test_foreign_and_unknown_ids(w, api_as):
    case_id = apply(api_as(w.applicant), w).json()["id"]
    stranger = api_as(w.stranger)
    for path in (f"/cases/{case_id}", f"/cases/{case_id}/timeline", "/cases/999999"):
        r = stranger.get(path)
        assert r.status_code == 404 and r.json()["code"] == "case_not_found"
    r = stranger.post(f"/cases/{case_id}/withdraw", {})
    assert r.status_code == 404
    r = api_as(w.clerk_yx).post(f"/cases/{case_id}/pretrial", {"outcome": "pass"})
    assert r.status_code == 404
    assert api_as(w.applicant).get("/cases/queues").status_code == 403
    assert stranger.get("/cases/files/not-a-uuid-at-all-0000000000000").status_code in (404, 422)


def test_unauthenticated(w, api):
    assert api.get("/cases").status_code == 401
    assert api.post("/cases", {"item_code": w.item.code}).status_code == 401
