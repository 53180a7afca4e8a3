"""The lean application path (api_apply + direct, decision 0016) against the general one (Ninja + services).

The same request through both paths must give the same case, materials, files, numbers, events, message,
audit events and Idempotency-Key row, and the same status and error code for bad input.
"""

import json
import threading

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.cases import factories as f
from tests.cases.conftest import apply as apply_marks
from tests.cases.conftest import concurrent, on_postgres
from yiwang.cases import api_apply, direct, events, numbering
from yiwang.cases.models import Case, CaseEvent, CaseFile, IdempotencyRecord, Message, StoredFile
from yiwang.core.models import AuditEvent, PendingAuditEvent


@pytest.fixture(autouse=True)
def private_dir(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"
    direct.forget_items()
    yield
    direct.forget_items()


@pytest.fixture
def w(db):
    return f.world()


@pytest.fixture
def general(monkeypatch):
    """Send the next requests through the Ninja operation (the general path), as before decision 0016."""

    def use():
        monkeypatch.setattr(api_apply, "parse_multipart", lambda body, ctype: None)

    return use


def token(user):
    from yiwang.accounts import services

    return services.api_token_create(actor=user, name="test")[1]


def post(w, user=None, *, key=None, form=None, files=None, materials=None, item_code=None, auth=True):
    from django.core.files.uploadedfile import SimpleUploadedFile

    complete = f.files_for_required(w.item.current_version)
    if files is None:
        files = [(u.name, u.content) for u in complete]
    materials = materials if materials is not None else [u.material_index for u in complete][: len(files)]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token(user or w.applicant)}"} if auth else {}
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return Client().post(
        "/api/v1/cases/apply",
        {
            "item_code": item_code or w.item.code,
            "form": json.dumps(form or f.FORM, ensure_ascii=False),
            "materials": json.dumps(materials),
            "files": [SimpleUploadedFile(n, c, content_type="application/pdf") for n, c in files],
        },
        **headers,
    )


def snapshot(case_id: int) -> dict:
    """Everything an application writes, without ids, times and the serial."""
    case = Case.objects.get(pk=case_id)
    number = case.number
    skip = {"id", "number", "created_at", "updated_at", "submitted_at"}
    row = {k: v for k, v in Case.objects.filter(pk=case_id).values()[0].items() if k not in skip}

    def plain(text: str) -> str:
        return text.replace(number, "<number>")

    return {
        "case": row,
        "number": numbering.parse_number(number)[:2],
        "materials": list(
            case.materials.order_by("index").values("index", "name", "necessity", "format", "status", "note")
        ),
        "files": [
            (
                a.material.index,
                a.file.original_name,
                a.file.kind,
                a.file.content_type,
                a.file.size,
                a.file.sha256,
                a.file.owner_id,
                a.attached_by_id,
                len(a.file.storage_name),
            )
            for a in CaseFile.objects.filter(case=case).select_related("file", "material").order_by("id")
        ],
        "events": list(
            CaseEvent.objects.filter(case=case)
            .order_by("id")
            .values("action", "from_state", "to_state", "actor_id", "actor_label", "note", "data", "public")
        ),
        "messages": [
            (m.user_id, plain(m.title), plain(m.body)) for m in Message.objects.filter(case=case).order_by("id")
        ],
        "audit": [
            (
                e.action,
                e.actor_id,
                e.actor_label,
                e.object_type,
                e.region_code,
                json.loads(plain(json.dumps(e.summary))),
            )
            for model in (AuditEvent, PendingAuditEvent)
            for e in model.objects.filter(object_type="cases.case", object_id=str(case_id)).order_by("occurred_at")
        ],
        "keys": list(
            IdempotencyRecord.objects.filter(result_id=str(case_id)).values("scope", "result_type", "user_id")
        ),
    }


def test_both_paths_write_the_same_application(w, general, monkeypatch):
    taken = []
    real = direct.apply
    monkeypatch.setattr(direct, "apply", lambda **kw: taken.append(real(**kw)) or taken[-1])
    with CaptureQueriesContext(connection) as lean:
        fast = post(w, key="same-rows-0001")
    assert fast.status_code == 201, fast.json()
    assert taken and taken[0] is not None  # the direct path wrote it
    general()
    slow = post(w, key="same-rows-0002")
    assert slow.status_code == 201, slow.json()
    a, b = fast.json(), slow.json()
    assert {k: v for k, v in a.items() if k not in ("id", "number", "created_at", "submitted_at")} == {
        k: v for k, v in b.items() if k not in ("id", "number", "created_at", "submitted_at")
    }
    assert snapshot(a["id"]) == snapshot(b["id"])
    serials = sorted(numbering.parse_number(x["number"])[2] for x in (a, b))
    assert serials[1] == serials[0] + 1
    fingerprints = {r.result_id: r.fingerprint for r in IdempotencyRecord.objects.all()}
    assert fingerprints[str(a["id"])] == fingerprints[str(b["id"])]  # same request, same fingerprint
    if on_postgres():  # the common case took the two-statement path (plus the applicant's profile)
        writes = [q["sql"] for q in lean.captured_queries if "cases_" in q["sql"] or "accounts_person" in q["sql"]]
        assert len(writes) <= 4, writes


def test_an_enterprise_applicant_gets_the_same_application_on_both_paths(w, general):
    from tests.factories import enterprise

    company = enterprise(name="天河示范餐饮有限公司").user
    fast = post(w, company, key="enterprise-0001")
    assert fast.status_code == 201, fast.json()
    general()
    slow = post(w, company, key="enterprise-0002")
    assert slow.status_code == 201, slow.json()
    assert fast.json()["applicant_name"] == "天河示范餐饮有限公司"
    assert fast.json()["applicant_id_masked"] == slow.json()["applicant_id_masked"]
    assert snapshot(fast.json()["id"]) == snapshot(slow.json()["id"])
    assert fast["Content-Type"] == slow["Content-Type"] == "application/json; charset=utf-8"


def test_an_applicant_without_real_name_is_told_so_on_both_paths(w, general):
    from tests.factories import UserFactory

    nobody = UserFactory(display_name="未实名")
    fast = post(w, nobody)
    general()
    slow = post(w, nobody)
    assert fast.status_code == slow.status_code == 422
    assert fast.json() == slow.json() and fast.json()["code"] == "real_name_required"
    assert not Case.objects.exists() and not StoredFile.objects.exists()


def test_a_retry_of_either_path_returns_the_first_case(w, general):
    first = post(w, key="retry-key-0001")
    assert first.status_code == 201
    again = post(w, key="retry-key-0001")
    assert again.status_code == 200 and again.json() == first.json()
    general()
    assert post(w, key="retry-key-0001").json()["id"] == first.json()["id"]
    assert Case.objects.count() == 1 and StoredFile.objects.count() == 3
    # a retry spends no serial: the next application gets the next number
    nxt = post(w, key="retry-key-0002").json()["number"]
    assert numbering.parse_number(nxt)[2] == numbering.parse_number(first.json()["number"])[2] + 1


def test_the_same_key_with_other_content_is_refused_on_both_paths(w, general):
    assert post(w, key="reuse-key-0001").status_code == 201
    response = post(w, key="reuse-key-0001", form={**f.FORM, "shop_name": "另一家"})
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_reused"
    general()
    response = post(w, key="reuse-key-0001", form={**f.FORM, "shop_name": "另一家"})
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_reused"
    assert Case.objects.count() == 1


BAD = {
    "oversize": (dict(files=[("申请书.pdf", b"%PDF-" + b"0" * 3000), ("b.pdf", f.PDF), ("c.pdf", f.PDF)]), 413),
    "type_by_content": (dict(files=[("申请书.pdf", b"MZ\x90\x00exe"), ("b.pdf", f.PDF), ("c.pdf", f.PDF)]), 422),
    "name_disagrees": (dict(files=[("申请书.pdf", f.PNG), ("b.pdf", f.PDF), ("c.pdf", f.PDF)]), 422),
    "empty_file": (dict(files=[("申请书.pdf", b""), ("b.pdf", f.PDF), ("c.pdf", f.PDF)]), 422),
    "missing_field": (dict(form={"shop_name": "x"}), 422),
    "unknown_field": (dict(form={**f.FORM, "evil": "1"}), 422),
    "missing_material": (dict(files=[("a.pdf", f.PDF)], materials=[0]), 422),
    "unknown_material": (dict(files=[("a.pdf", f.PDF), ("b.pdf", f.PDF), ("c.pdf", f.PDF)], materials=[0, 1, 9]), 422),
    "mapping": (dict(materials=[0]), 422),
    "unknown_item": (dict(item_code="NO-SUCH-ITEM"), 404),
    "unauthenticated": (dict(auth=False), 401),
    "bad_key": (dict(key="has spaces in it!"), 422),
    "short_key": (dict(key="short"), 422),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_gives_the_same_error_on_both_paths_and_writes_nothing(w, general, settings, case):
    settings.CASE_UPLOAD_MAX_BYTES = 2000
    kwargs, status = BAD[case]
    fast = post(w, **kwargs)
    general()
    slow = post(w, **kwargs)
    assert fast.status_code == slow.status_code == status, (fast.json(), slow.json())
    assert fast.json() == slow.json()
    assert not Case.objects.exists() and not StoredFile.objects.exists() and not IdempotencyRecord.objects.exists()
    assert not CaseEvent.objects.exists() and not Message.objects.exists()
    assert not settings.PRIVATE_FILES_DIR.exists() or not any(
        p.is_file() for p in settings.PRIVATE_FILES_DIR.rglob("*")
    )


def test_other_applicants_take_the_general_path(w):
    """Staff (window intake needs an applicant id) and unpublished items are refused as before."""
    response = post(w, w.clerk)
    assert response.status_code == 422 and response.json()["code"] == "applicant_required"
    w.item.state = "withdrawn"
    w.item.save(update_fields=["state"])
    direct.forget_items()
    response = post(w)
    assert response.status_code == 409 and response.json()["code"] == "item_not_available"


def test_the_hooks_the_direct_path_relies_on():
    """A new guard or observer must be checked against a new own application before it joins the list."""
    assert {direct._name(g) for g in events._guards} == direct.SILENT_GUARDS
    assert {direct._name(o) for o in events._observers} == direct.SILENT_OBSERVERS
    assert direct.hooks_silent()


# --- the multipart reader ----------------------------------------------------------------------------------


def body(*parts: bytes, boundary=b"XyZ") -> bytes:
    return b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts) + b"--" + boundary + b"--\r\n"


def test_parser_reads_fields_and_files():
    raw = body(
        b'Content-Disposition: form-data; name="item_code"\r\n\r\nA1',
        'Content-Disposition: form-data; name="files"; filename="../材料 1.pdf"\r\n'.encode()
        + b"Content-Type: application/pdf\r\n\r\n%PDF-1\r\n--not-a-boundary",
    )
    fields, files = api_apply.parse_multipart(raw, "multipart/form-data; boundary=XyZ")
    assert fields == {"item_code": "A1"}
    assert files == [("材料 1.pdf", b"%PDF-1\r\n--not-a-boundary")]


@pytest.mark.parametrize(
    "raw",
    [
        b"preamble\r\n" + body(b'Content-Disposition: form-data; name="item_code"\r\n\r\nA1'),
        body(b'Content-Disposition: form-data; name="item_code"\r\nContent-Transfer-Encoding: base64\r\n\r\nQTE='),
        body(b'Content-Disposition: form-data; name="item_code"\r\nContent-Type: text/plain; charset=gbk\r\n\r\nA1'),
        body(
            b'Content-Disposition: form-data; name="item_code"\r\n\r\nA1',
            b'Content-Disposition: form-data; name="item_code"\r\n\r\nA2',
        ),
        body(b'Content-Disposition: form-data; name="applicant_id"\r\n\r\n5'),
        body(b'Content-Disposition: form-data; name="files"; filename=""\r\n\r\nx'),
        body(b'Content-Disposition: form-data; name="other"; filename="a.pdf"\r\n\r\nx'),
        body(b'Content-Disposition: form-data; name="form"\r\n\r\n\xff'),
        body(b'Content-Disposition: form-data; name="item_code"\r\n\r\nA1')[:-4],
    ],
)
def test_parser_leaves_anything_unusual_to_django(raw):
    assert api_apply.parse_multipart(raw, "multipart/form-data; boundary=XyZ") is None


# --- concurrency (PostgreSQL, real connections) -------------------------------------------------------------


def _in_threads(n, fn):
    results, errors = [None] * n, []

    def run(i):
        try:
            results[i] = fn(i)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


@apply_marks(concurrent)
def test_concurrent_applications_get_distinct_consecutive_numbers(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"
    w = f.world()
    tokens = [token(w.applicant) for _ in range(8)]
    complete = f.files_for_required(w.item.current_version)

    def one(i):
        from django.core.files.uploadedfile import SimpleUploadedFile

        response = Client().post(
            "/api/v1/cases/apply",
            {
                "item_code": w.item.code,
                "form": json.dumps(f.FORM, ensure_ascii=False),
                "materials": json.dumps([u.material_index for u in complete]),
                "files": [SimpleUploadedFile(u.name, u.content) for u in complete],
            },
            HTTP_AUTHORIZATION=f"Bearer {tokens[i]}",
            HTTP_IDEMPOTENCY_KEY=f"concurrent-{i:04d}",
        )
        return response.status_code, response.json()

    results = _in_threads(8, one)
    assert [s for s, _ in results] == [201] * 8
    serials = sorted(numbering.parse_number(b["number"])[2] for _, b in results)
    assert serials == list(range(serials[0], serials[0] + 8))
    assert Case.objects.count() == 8 and CaseEvent.objects.count() == 16 and StoredFile.objects.count() == 24


@apply_marks(concurrent)
def test_concurrent_retries_of_one_key_make_one_case(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"
    w = f.world()
    tokens = [token(w.applicant) for _ in range(6)]
    complete = f.files_for_required(w.item.current_version)

    def one(i):
        from django.core.files.uploadedfile import SimpleUploadedFile

        response = Client().post(
            "/api/v1/cases/apply",
            {
                "item_code": w.item.code,
                "form": json.dumps(f.FORM, ensure_ascii=False),
                "materials": json.dumps([u.material_index for u in complete]),
                "files": [SimpleUploadedFile(u.name, u.content) for u in complete],
            },
            HTTP_AUTHORIZATION=f"Bearer {tokens[i]}",
            HTTP_IDEMPOTENCY_KEY="one-key-for-all",
        )
        return response.status_code, response.json()

    results = _in_threads(6, one)
    assert sorted(s for s, _ in results) == [200] * 5 + [201]
    assert len({b["id"] for _, b in results}) == 1
    assert Case.objects.count() == 1 and StoredFile.objects.count() == 3
    assert len(list((settings.PRIVATE_FILES_DIR / "uploads").rglob("*.*"))) == 0  # no .part left
    assert sum(1 for p in (settings.PRIVATE_FILES_DIR / "uploads").rglob("*") if p.is_file()) == 3
