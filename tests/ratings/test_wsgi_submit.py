"""The WSGI route for rating submissions (decision 0014): called as the WSGI callable with a real environ, it
answers like the Ninja operation (status, body, error code) and like Django's middleware (headers), and
hands every request it does not take to Django unchanged."""

import datetime as dt
import io
import json
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings
from django.utils import timezone

from tests import wsgi as wsgi_support
from tests.ratings.factories import rate, served, world
from yiwang.ratings import wsgi_submit
from yiwang.ratings.models import Rating, RatingInvitation, Rectification

pytestmark = pytest.mark.django_db
call = wsgi_support.call
app = wsgi_support.app  # fixtures
_keep_test_connection = wsgi_support._keep_test_connection


@pytest.fixture
def w(db):
    return world()


def environ(token: str, body, **extra) -> dict:
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    env: dict = {}
    setup_testing_defaults(env)
    env.update(
        {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": f"/api/v1/ratings/invitations/{token}/rating",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(data)),
            "wsgi.input": io.BytesIO(data),
            "HTTP_X_DEVICE_ID": "device-1",
        }
    )
    env.update(extra)
    return env


NINJA = {"HTTP_COOKIE": "sessionid=none"}  # a session cookie: the lean view hands it to the Ninja operation
LEAN = {"HTTP_COOKIE": "other=1"}  # any cookie: Django's stack (the lean view), same headers as the route


def _token(w, case: str) -> tuple[str, dict, dict]:
    """(token, body, extra environ) of one request of ``case``, on fresh data."""
    if case == "bad_token":
        return "123-abcdef.not-a-signature", {"level": 5}, {}
    _, invitation = served(w)
    token = invitation.token
    if case == "used_token":
        rate(invitation, 5)
    elif case == "double_rating":
        inv = RatingInvitation.objects.get(pk=invitation.pk)
        Rating.objects.create(
            target_kind=inv.target_kind,
            target_id=inv.target_id,
            kind="first",
            level=5,
            channel="qr",
            mode="onsite",
            region_code=inv.region_code,
            served_at=inv.served_at,
            rated_on=inv.served_at.date(),
        )
    elif case == "too_early":
        RatingInvitation.objects.filter(pk=invitation.pk).update(served_at=timezone.now() + dt.timedelta(hours=1))
    body = {
        "valid": {"level": 5},
        "valid_full": {"level": 4, "channel": "web", "text": "办事很快，态度好", "anonymous": True},
        "bad_rating": {"level": 1, "reasons": ["b_attitude"], "text": "等了很久"},
        "invalid_level": {"level": 9},
        "level_as_string": {"level": "5"},
        "nul_text": {"level": 4, "text": "好\x00评"},
        "unknown_reason": {"level": 2, "reasons": ["no_such_reason"]},
    }.get(case, {"level": 4})
    return token, body, {}


CASES = [
    "valid",
    "valid_full",
    "bad_rating",
    "bad_token",
    "used_token",
    "double_rating",
    "too_early",
    "invalid_level",
    "level_as_string",
    "nul_text",
    "unknown_reason",
]


def _comparable(status: int, body: bytes) -> tuple[int, dict]:
    data = json.loads(body)
    if status == 201:
        assert isinstance(data.pop("id"), int) and data.pop("follow_up_token").count(".") == 1
    return status, data


@pytest.mark.parametrize("case", CASES)
def test_route_answers_like_the_ninja_operation(w, app, case):
    token, body, extra = _token(w, case)
    route = call(app, environ(token, body, **extra))
    token, body, extra = _token(w, case)
    ninja = call(app, environ(token, body, **extra, **NINJA))
    assert _comparable(route[0], route[2]) == _comparable(ninja[0], ninja[2])
    # the route took the plain JSON body itself; what it does not accept reached Django (then Ninja)
    taken = case not in ("invalid_level", "level_as_string")
    assert app.django.calls == (1 if taken else 2)


@pytest.mark.parametrize("case", ["valid", "bad_token", "nul_text"])
def test_route_headers_are_the_middlewares(w, app, case):
    token, body, _ = _token(w, case)
    route = call(app, environ(token, body, HTTP_X_REQUEST_ID="req-12345678"))
    token, body, _ = _token(w, case)
    django = call(app, environ(token, body, HTTP_X_REQUEST_ID="req-12345678", **LEAN))
    assert app.django.calls == 1
    skip = {"Content-Length"} if case == "valid" else set()  # the new ids may differ in length
    assert {k: v for k, v in route[1].items() if k not in skip} == {k: v for k, v in django[1].items() if k not in skip}
    assert route[1]["X-Request-ID"] == "req-12345678"
    assert int(route[1]["Content-Length"]) == len(route[2])
    assert route[1]["Content-Type"] == "application/json; charset=utf-8"


def test_route_language_and_hsts_follow_the_request(w, app):
    token, body, _ = _token(w, "valid")
    extra = {"HTTP_ACCEPT_LANGUAGE": "en", "wsgi.url_scheme": "https"}
    route = call(app, environ(token, body, **extra))
    token, body, _ = _token(w, "valid")
    django = call(app, environ(token, body, **extra, **LEAN))
    assert app.django.calls == 1
    assert route[1]["Content-Language"] == django[1]["Content-Language"] == "en"
    assert route[1].get("Strict-Transport-Security") == django[1].get("Strict-Transport-Security")
    plain = call(app, environ(_token(w, "valid")[0], {"level": 5}))  # http: no HSTS, like Django
    assert plain[0] == 201 and "Strict-Transport-Security" not in plain[1]
    assert json.loads(route[2])["level_label"] == json.loads(django[2])["level_label"]


@override_settings(RATINGS={"MAX_PER_DEVICE_PER_HOUR": 1})
def test_route_device_limit_like_the_ninja_operation(w, app):
    first, body, _ = _token(w, "valid")
    assert call(app, environ(first, body))[0] == 201
    token, body, _ = _token(w, "valid")
    route = call(app, environ(token, body))
    token, body, _ = _token(w, "valid")
    ninja = call(app, environ(token, body, **NINJA))
    assert route[0] == ninja[0] == 429
    assert json.loads(route[2]) == json.loads(ninja[2])
    assert json.loads(route[2])["code"] == "rating_throttled_device"


def test_route_writes_what_the_action_writes(w, app):
    _, invitation = served(w)
    status, _, body = call(app, environ(invitation.token, {"level": 1, "reasons": ["b_attitude"]}))
    assert status == 201
    rating = Rating.objects.get(pk=json.loads(body)["id"])
    assert (rating.level, rating.invitation_id, rating.device_hash != "") == (1, invitation.pk, True)
    assert Rectification.objects.filter(rating=rating).exists()  # a 差评 opens a rectification
    assert RatingInvitation.objects.get(pk=invitation.pk).used_at is not None


@pytest.mark.parametrize(
    "change",
    [
        {"REQUEST_METHOD": "PUT"},
        {"PATH_INFO": "/api/v1/ratings/invitations/x/y/rating"},
        {"HTTP_COOKIE": "sessionid=x"},
        {"HTTP_AUTHORIZATION": "Bearer x"},
        {"HTTP_X_EVALUATOR_KEY": "ywd_x"},
        {"CONTENT_TYPE": "text/plain"},
        {"CONTENT_LENGTH": ""},
        {"HTTP_HOST": "evil.example"},
    ],
)
def test_other_requests_go_to_django_with_their_body(w, app, change):
    _, invitation = served(w)
    env = environ(invitation.token, {"level": 5}, **change)
    status, _, _ = call(app, env)
    assert app.django.calls == 1
    if change.get("REQUEST_METHOD") or change.get("PATH_INFO"):
        assert status in (404, 405)
    elif change.get("HTTP_HOST"):
        assert status == 400  # Django refuses the host
    elif change.get("CONTENT_LENGTH") == "":
        assert status == 422  # no body
    else:  # the body read by the route reached Django intact
        assert status in (201, 401, 403), status


def test_body_the_route_does_not_accept_reaches_django(w, app):
    _, invitation = served(w)
    status, _, body = call(app, environ(invitation.token, {"level": 5, "extra": 1}))
    assert app.django.calls == 1
    assert status == 422 or (status == 201 and json.loads(body)["level"] == 5)


@pytest.mark.parametrize("body", [b"[" * 100_000, b"\xff\xfe", b'{"level": 5', b"[]"])
def test_bodies_the_parser_refuses_reach_django(w, app, body):
    _, invitation = served(w)
    try:
        status, _, _ = call(app, environ(invitation.token, body))
    except RecursionError:  # Django's own JSON parsing of a body nested too deep, not the route's
        status = 500
    assert app.django.calls == 1
    assert status in (400, 422, 500)
    assert not Rating.objects.exists()


def test_wsgi_application_is_the_dispatcher(monkeypatch):
    monkeypatch.setenv("YIWANG_SEARCH_WARM", "0")
    from yiwang import wsgi

    assert isinstance(wsgi.application, wsgi_submit.Dispatcher)
    assert isinstance(wsgi.application.django, WSGIHandler)
