"""The lean GET /api/v1/search and /search/suggest answer exactly what the Ninja operations answer."""

from __future__ import annotations

import re

import pytest
from django.test import Client, RequestFactory

from yiwang.search import api_lean, querylog, selectors

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/search"
SUGGEST = "/api/v1/search/suggest"
TOOK = re.compile(rb'"took_ms": [0-9.e-]+')


@pytest.fixture(autouse=True)
def live_index(settings, store):
    settings.SEARCH_INDEX_DIR = store.path
    selectors.invalidate_synonyms()
    querylog.clear()
    yield
    querylog.clear()


@pytest.fixture
def ninja_calls(monkeypatch):
    calls = []
    original = api_lean._ninja

    def recording(request):
        calls.append(request.get_full_path())
        return original(request)

    monkeypatch.setattr(api_lean, "_ninja", recording)
    return calls


def through_ninja(path: str, params: dict):
    """The Ninja operation's own response (what the lean view hands over to)."""
    return api_lean._ninja(RequestFactory().get(path, params))


def same(lean, ninja) -> None:
    assert lean.status_code == ninja.status_code
    assert lean["Content-Type"] == ninja["Content-Type"]
    assert TOOK.sub(b"", lean.content) == TOOK.sub(b"", ninja.content)  # byte-identical but for the timing


PLAIN = [
    {"q": "护照"},
    {"q": "護照"},
    {"q": "huzhao"},
    {"q": "hz"},
    {"q": "港澳 通行证"},
    {"q": "护照", "region": "440106"},
    {"q": "护照", "region": "4401"},
    {"q": "护照", "region": ""},
    {"q": "护照", "page": "2", "page_size": "1"},
    {"q": "护照", "page": "100", "page_size": "50"},
    {"q": ""},
    {},
    {"q": "社" * 10_000},
    {"q": "\x00\x01\x02\x1f\x7f护照"},
    {"q": '+-&|!(){}[]^"~*?:\\/ AND OR NOT title:x'},
    {"q": "\u202e\u200b\ufeff"},
    {"q": "护照", "region": "abc"},  # a domain error (422 invalid_region_code), answered by the lean view
    {"q": "护照", "region": "0000"},
]


@pytest.mark.parametrize("params", PLAIN)
def test_plain_search_is_answered_lean_and_equals_ninja(params, ninja_calls):
    lean = Client().get(SEARCH, params)
    assert ninja_calls == []
    assert lean.status_code in (200, 422)
    same(lean, through_ninja(SEARCH, params))


def test_lean_search_finds_and_ranks(ninja_calls):
    body = Client().get(SEARCH, {"q": "huzhao", "region": "440106"}).json()
    assert body["total"] >= 1 and "护照" in body["hits"][0]["title"]
    assert body["facets_over"] >= 1 and body["facets"]["kind"]
    assert ninja_calls == []


UNUSUAL = [
    {"q": "护照", "kind": "item"},
    {"q": "护照", "online": "true", "level": "2"},
    {"q": "护照", "within": "4401"},
    {"q": "护照", "page": "01"},
    {"q": "护照", "page": "0"},
    {"q": "护照", "page": "101"},
    {"q": "护照", "page_size": "500"},
    {"q": "护照", "page": "２"},  # a full-width digit
    {"q": "社" * 10_001},
    {"q": "护照", "region": "4401060000001"},
    {"q": "护照", "unknown": "1"},
]


@pytest.mark.parametrize("params", UNUSUAL)
def test_anything_unusual_goes_to_ninja(params, ninja_calls):
    response = Client().get(SEARCH, params)
    assert len(ninja_calls) == 1
    assert response.status_code in (200, 422)
    if response.status_code == 422:
        assert response.json()["code"] in {"validation_failed", "invalid_region_code"}


def test_repeated_parameter_goes_to_ninja(ninja_calls):
    response = Client().get(SEARCH + "?q=护照&q=户口")
    assert len(ninja_calls) == 1 and response.status_code == 200


@pytest.mark.parametrize("path", [SEARCH, SUGGEST])
def test_other_methods_go_to_ninja(path, ninja_calls):
    response = Client(enforce_csrf_checks=True).post(path, {"q": "护照"})  # 405 from Ninja, not a CSRF 403
    assert len(ninja_calls) == 1 and response.status_code == 405


def test_security_headers_as_on_every_response():
    response = Client().get(SEARCH, {"q": "护照"})
    assert response["X-Request-ID"] and response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "params", [{"q": "hu"}, {"q": "护"}, {"q": "护照", "limit": "1"}, {"q": ""}, {"q": "\x00"}, {"q": "(("}, {}]
)
def test_plain_suggest_is_answered_lean_and_equals_ninja(params, ninja_calls):
    lean = Client().get(SUGGEST, params)
    assert ninja_calls == []
    assert lean.status_code == 200
    same(lean, through_ninja(SUGGEST, params))


@pytest.mark.parametrize("params", [{"q": "hu", "limit": "21"}, {"q": "hu", "limit": "x"}, {"q": "社" * 10_001}])
def test_unusual_suggest_goes_to_ninja(params, ninja_calls):
    response = Client().get(SUGGEST, params)
    assert len(ninja_calls) == 1 and response.status_code == 422


def test_lean_search_logs_the_query(settings):
    from yiwang.search.models import SearchLog

    settings.SEARCH_LOG_SECONDS = 3600
    Client().get(SEARCH, {"q": "護照", "region": "440106"})
    assert querylog.flush() == 1
    logged = SearchLog.objects.get()
    assert (logged.query, logged.raw, logged.region_code, logged.channel) == ("护照", "護照", "440106000000", "api")


def test_same_headers_as_through_ninja(ninja_calls):
    lean = Client().get(SEARCH, {"q": "护照"})
    ninja = Client().get(SEARCH, {"q": "护照", "kind": ""})  # an empty filter: handed to Ninja, same answer
    assert len(ninja_calls) == 1
    assert sorted(lean.headers) == sorted(ninja.headers)
    assert {k: v for k, v in lean.headers.items() if k not in ("X-Request-ID", "Content-Length")} == {
        k: v for k, v in ninja.headers.items() if k not in ("X-Request-ID", "Content-Length")
    }
