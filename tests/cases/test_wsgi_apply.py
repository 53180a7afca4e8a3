"""The WSGI route for online applications (decision 0016): called as the WSGI callable with a real environ, it
answers like the lean view under Django's middleware (status, body, headers), and hands every request it does
not take to Django unchanged, body included."""

import io
import json
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from tests import wsgi as wsgi_support
from tests.cases import factories as f
from yiwang.cases import api_apply, direct
from yiwang.cases.models import Case, StoredFile

pytestmark = pytest.mark.django_db
call = wsgi_support.call
app = wsgi_support.app  # fixtures
_keep_test_connection = wsgi_support._keep_test_connection


@pytest.fixture(autouse=True)
def private_dir(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"
    direct.forget_items()
    yield
    direct.forget_items()


@pytest.fixture
def w(db):
    return f.world()


def _token(user) -> str:
    from yiwang.accounts import services

    return services.api_token_create(actor=user, name="test")[1]


def environ(w, *, user=None, key=None, auth=True, form=None, files=None, materials=None, item_code=None, **extra):
    complete = f.files_for_required(w.item.current_version)
    if files is None:
        files = [(u.name, u.content) for u in complete]
    materials = materials if materials is not None else [u.material_index for u in complete][: len(files)]
    data = encode_multipart(
        BOUNDARY,
        {
            "item_code": item_code or w.item.code,
            "form": json.dumps(form or f.FORM, ensure_ascii=False),
            "materials": json.dumps(materials),
            "files": [SimpleUploadedFile(n, c, content_type="application/pdf") for n, c in files],
            **extra.pop("fields", {}),
        },
    )
    env: dict = {}
    setup_testing_defaults(env)
    env.update(
        {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/v1/cases/apply",
            "CONTENT_TYPE": MULTIPART_CONTENT,
            "CONTENT_LENGTH": str(len(data)),
            "wsgi.input": io.BytesIO(data),
            "HTTP_X_REQUEST_ID": "req-12345678",
        }
    )
    if auth:
        env["HTTP_AUTHORIZATION"] = f"Bearer {_token(user or w.applicant)}"
    if key:
        env["HTTP_IDEMPOTENCY_KEY"] = key
    env.update(extra)
    return env


LEAN = {"HTTP_COOKIE": "other=1"}  # any cookie: Django's stack (the lean view), the same answer as the route


def _comparable(status: int, body: bytes) -> tuple[int, dict]:
    data = json.loads(body)
    if status in (200, 201):
        for k in ("id", "number", "created_at", "updated_at", "submitted_at"):
            data.pop(k, None)
        data = json.loads(json.dumps(data).replace('"id": ', '"_": '))
        data = {k: v for k, v in data.items() if k not in ("materials", "timeline", "files")} | {
            k: len(v) for k, v in data.items() if k in ("materials", "timeline", "files") and isinstance(v, list)
        }
    return status, data


KINDS = {
    "valid": (dict(), 201, True),
    "unknown_item": (dict(item_code="NO-SUCH-ITEM"), 404, True),
    "missing_field": (dict(form={"shop_name": "x"}), 422, True),
    "type_by_content": (dict(files=[("申请书.pdf", b"MZ\x90\x00exe"), ("b.pdf", f.PDF), ("c.pdf", f.PDF)]), 422, True),
    "staff": (dict(user="clerk"), 422, True),
    "unauthenticated": (dict(auth=False), None, False),  # Ninja: 403 CSRF without the test client
    "bad_key": (dict(key="has spaces in it!"), 422, False),
    "unknown_part": (dict(fields={"note": "x"}), None, False),
}


def _env(w, kind: str, n: int, **extra) -> dict:
    kwargs, _, _ = KINDS[kind]
    kwargs = dict(kwargs)
    if kwargs.get("user") == "clerk":
        kwargs["user"] = w.clerk
    kwargs.setdefault("key", f"wsgi-route-{kind}-{n:04d}".replace("_", "-"))
    return environ(w, **kwargs, **extra)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_route_answers_like_the_lean_view_under_the_middleware(w, app, kind):
    _, status, taken = KINDS[kind]
    route = call(app, _env(w, kind, 1))
    assert app.django.calls == (0 if taken else 1)
    django = call(app, _env(w, kind, 2, **LEAN))
    assert _comparable(route[0], route[2]) == _comparable(django[0], django[2])
    if status is not None:
        assert route[0] == status, route[2]
    skip = {"Content-Length"} if route[0] in (200, 201) else set()  # the new ids may differ in length
    assert {k: v for k, v in route[1].items() if k not in skip} == {k: v for k, v in django[1].items() if k not in skip}
    assert route[1]["X-Request-ID"] == "req-12345678"
    assert int(route[1]["Content-Length"]) == len(route[2])
    if status != 201:
        assert not StoredFile.objects.exists() or kind in ("unauthenticated", "bad_key", "unknown_part")


def test_route_writes_the_application_and_a_retry_returns_it(w, app):
    first = call(app, environ(w, key="wsgi-retry-0001"))
    again = call(app, environ(w, key="wsgi-retry-0001"))
    assert (first[0], again[0]) == (201, 200)
    assert json.loads(first[2])["number"] == json.loads(again[2])["number"]
    assert Case.objects.count() == 1 and app.django.calls == 0


def test_route_language_and_hsts_follow_the_request(w, app):
    extra = {"HTTP_ACCEPT_LANGUAGE": "en", "wsgi.url_scheme": "https"}
    route = call(app, environ(w, key="wsgi-lang-0001", **extra))
    django = call(app, environ(w, key="wsgi-lang-0002", **extra, **LEAN))
    assert app.django.calls == 1
    assert route[1]["Content-Language"] == django[1]["Content-Language"] == "en"
    assert route[1].get("Strict-Transport-Security") == django[1].get("Strict-Transport-Security")
    assert _comparable(route[0], route[2]) == _comparable(django[0], django[2])


def test_an_unexpected_error_is_answered_by_djangos_handler(w, app, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(api_apply, "outcome", boom)
    route = call(app, environ(w, key="wsgi-error-0001"))
    assert app.django.calls == 0
    django = call(app, environ(w, key="wsgi-error-0002", **LEAN))
    assert route[0] == django[0] == 500
    assert route[2] == django[2]
    assert route[1] == {**django[1], "Content-Length": str(len(route[2]))}


def test_a_body_the_route_does_not_take_reaches_django_whole(w, app):
    """A repeated field: Django's own parser reads the body the route has already read."""
    env = environ(w, key="wsgi-handon-0001")
    raw = env["wsgi.input"].getvalue()
    extra = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="contact_name"\r\n\r\n张三\r\n'.encode()
    raw = extra + extra + raw
    env.update({"wsgi.input": io.BytesIO(raw), "CONTENT_LENGTH": str(len(raw))})
    status, _, body = call(app, env)
    assert app.django.calls == 1
    assert status in (201, 422), body  # Ninja's answer to the whole body, not a truncated one
    assert status == 201 or json.loads(body)["code"] != "bad_request"
