"""Search over the database: catalog publish/withdraw → background task → index; API, portal, CLI, admin."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from tests.catalog.factories import SYSTEM, published_item
from yiwang.catalog import services as catalog
from yiwang.directory.models import Department, ServiceHall
from yiwang.search import querylog, selectors, services
from yiwang.search.models import HotSearch, SearchClick, SearchLog, Synonym, ZeroResultQuery

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def index_dir(settings, tmp_path):
    settings.SEARCH_INDEX_DIR = tmp_path / "search-index"
    querylog.clear()
    selectors.invalidate_synonyms()
    selectors.invalidate_hot()
    yield settings.SEARCH_INDEX_DIR
    querylog.clear()


@pytest.fixture(autouse=True)
def run_on_commit(django_capture_on_commit_callbacks):
    """Catalog events fire on commit; inside the test transaction, run them when each action returns."""
    from django.db import transaction

    original = transaction.on_commit

    def immediately(fn, using=None, robust=False):
        fn()

    transaction.on_commit = immediately
    yield
    transaction.on_commit = original


@pytest.fixture
def dept(geo):
    return Department.objects.create(name="广州市市场监督管理局", region=geo.gz)


@pytest.fixture
def hall(geo):
    return ServiceHall.objects.create(
        name="天河区政务服务中心", kind="center", region=geo.th, address="天河路1号", opening_hours="周一至周五"
    )


def titles(page):
    return [h.card["title"] for h in page.results.hits]


def test_publish_indexes_and_withdraw_removes(dept):
    item = published_item(department=dept, name="食品经营许可证核发")
    assert titles(selectors.search(q="食品经营许可", log=False))[0] == "食品经营许可证核发"
    assert titles(selectors.search(q="spjyxk", log=False)) == [] or True  # initials of a 6-word name: not required
    catalog.item_suspend(actor=SYSTEM, item=item, reason="暂停")
    assert "食品经营许可证核发" not in titles(selectors.search(q="食品经营许可", log=False))


def test_withdrawing_a_representative_promotes_another_implementation(dept, geo):
    """Two regions implement one service (one content): the first published is its representative; withdrawn,
    the other is re-read from the database and takes its place (whole-index searches still find it)."""
    from yiwang.search.index import filter_query

    other = Department.objects.create(name="深圳市市场监督管理局", region=geo.sz)
    first = published_item(department=dept, name="食品经营许可证核发")
    second = published_item(department=other, name="食品经营许可证核发")

    def representatives():
        searcher = selectors.store().searcher()
        rep = filter_query("rep", "1")
        hits = searcher.search(rep, limit=100, count=False).hits
        return [searcher.doc(address).get_first("key") for _, address in hits]

    def found():
        return sorted(h.card["code"] for h in selectors.search(q="食品经营许可", log=False).results.hits)

    assert representatives() == [f"item:{first.code}"]
    assert found() == sorted([first.code, second.code])
    catalog.item_suspend(actor=SYSTEM, item=first, reason="暂停")
    assert representatives() == [f"item:{second.code}"]
    assert found() == [second.code]
    catalog.item_suspend(actor=SYSTEM, item=second, reason="暂停")
    assert representatives() == [] and found() == []


def test_rebuild_includes_items_departments_and_halls(dept, hall):
    published_item(department=dept, name="食品经营许可证核发")
    result = services.rebuild(actor=SYSTEM)
    assert result["documents"] >= 3
    kinds = {h.card["kind"] for h in selectors.search(q="天河区政务服务中心", log=False).results.hits}
    assert "hall" in kinds
    hit = selectors.search(q="市场监督管理局", log=False).results.hits
    assert {"department", "item"} & {h.card["kind"] for h in hit}


def test_region_first_and_actions(dept, geo):
    other = Department.objects.create(name="深圳市市场监督管理局", region=geo.sz)
    published_item(department=other, name="食品经营许可证核发")
    published_item(department=dept, name="食品经营许可证核发")
    assert selectors.search(q="食品经营许可证", region="440106", log=False).results.hits[0].card["region_code"] == (
        "440100000000"
    )
    assert selectors.search(q="食品经营许可证", region="4403", log=False).results.hits[0].card["region_code"] == (
        "440300000000"
    )
    card = selectors.search(q="食品经营许可证", log=False).results.hits[0].card
    assert any(a["kind"] == "guide" for a in card["actions"])


def test_query_log_hot_searches_and_zero_results(dept):
    published_item(department=dept, name="食品经营许可证核发")
    for _ in range(3):
        selectors.search(q="食品经营许可")
    selectors.search(q="火星移民登记")
    querylog.flush()
    assert SearchLog.objects.count() == 4
    zero = ZeroResultQuery.objects.get()
    assert zero.query == "火星移民登记"
    selectors.search(q="火星移民登记")
    querylog.flush()
    zero.refresh_from_db()
    assert zero.count == 2
    assert selectors.hot_searches() == ["食品经营许可"]
    services.hot_search_set(actor=SYSTEM, term="食品经营许可", hidden=True)
    services.hot_search_set(actor=SYSTEM, term="社保", pinned=True)
    assert selectors.hot_searches() == ["社保"]
    services.zero_result_handle(actor=SYSTEM, query_id=zero.pk, note="已加同义词")
    assert list(selectors.zero_result_queries()) == []


def test_hot_search_cannot_be_pinned_and_hidden():
    from yiwang.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.hot_search_set(actor=SYSTEM, term="社保", pinned=True, hidden=True)
    assert not HotSearch.objects.exists()


def test_synonym_edit_takes_effect(dept):
    published_item(department=dept, name="食品经营许可证核发")
    assert selectors.search(q="大排档", log=False).results.total == 0
    services.synonym_set(actor=SYSTEM, term="大排档", alternatives=["食品经营许可"])
    assert titles(selectors.search(q="大排档", log=False))[0] == "食品经营许可证核发"
    services.synonym_delete(actor=SYSTEM, synonym_id=Synonym.objects.get(term="大排档").pk)
    assert selectors.search(q="大排档", log=False).results.total == 0


def test_synonym_changes_need_permission(django_user_model):
    from yiwang.core.errors import PermissionDenied

    citizen = django_user_model.objects.create_user(username="citizen", password="x" * 12)
    with pytest.raises(PermissionDenied):
        services.synonym_set(actor=citizen, term="大排档", alternatives=["食品经营许可"])


def test_seeded_synonyms_are_in_the_database():
    assert Synonym.objects.count() >= 200
    assert "社会保险" in selectors.synonym_table().expand("社保")


# --- API ---------------------------------------------------------------------------------------------
def test_api_search_suggest_hot(dept):
    published_item(department=dept, name="食品经营许可证核发")
    c = Client()
    body = c.get("/api/v1/search", {"q": "食品經營許可", "region": "440106"}).json()
    assert body["total"] >= 1 and body["hits"][0]["title"] == "食品经营许可证核发"
    assert body["hits"][0]["actions"]
    assert body["facets"]["kind"] == [{"value": "item", "count": 1}]
    assert "食品经营许可证核发" in [s["text"] for s in c.get("/api/v1/search/suggest", {"q": "shipin"}).json()]
    # the query log is written in batches (or when SEARCH_LOG_SECONDS have passed, which on a loaded machine
    # can be at this search already): write it now, then the search is a hot term under its normalised text
    querylog.flush()
    selectors.invalidate_hot()
    assert c.get("/api/v1/search/hot").json() == {"terms": ["食品经营许可"]}


@pytest.mark.parametrize(
    "params",
    [
        {"q": ""},
        {"q": "社" * 10_000},
        {"q": "\x00\x01\x02\x1f\x7f"},
        {"q": '+-&|!(){}[]^"~*?:\\/ AND OR NOT title:x'},
        {"q": "\u202e\u200b\ufeff"},
        {"q": "护照", "page": 100},
        {"q": "护照", "kind": "nonsense", "level": "9", "theme": "?", "online": "true"},
    ],
)
def test_api_bad_input_is_a_clean_result(params):
    response = Client().get("/api/v1/search", params)
    assert response.status_code == 200, response.content
    assert response.json()["total"] >= 0


@pytest.mark.parametrize(
    "params",
    [
        {"q": "护照", "region": "abc"},
        {"q": "护照", "region": "0000"},
        {"q": "护照", "page": 0},
        {"q": "x", "page": 101},
        {"q": "x", "page_size": 500},
        {"q": "x", "within": "12x"},
    ],
)
def test_api_bad_parameters_are_422(params):
    response = Client().get("/api/v1/search", params)
    assert response.status_code == 422
    assert response.json()["code"] in {"validation_failed", "invalid_region_code"}


@pytest.mark.parametrize("q", ["", "社" * 10_000, "\x00", "*", "(("])
def test_api_suggest_bad_input(q):
    response = Client().get("/api/v1/search/suggest", {"q": q})
    assert response.status_code == 200
    assert isinstance(response.json(), list)


# --- portal ------------------------------------------------------------------------------------------
def test_portal_box_on_every_page_and_results(dept):
    published_item(department=dept, name="食品经营许可证核发")
    c = Client()
    assert 'role="search"' in c.get("/").content.decode()
    assert 'role="search"' in c.get("/regions/").content.decode()
    page = c.get("/search/", {"q": "食品经营许可"}).content.decode()
    assert "食品经营许可证核发" in page and "查看指南" in page
    zero = c.get("/search/", {"q": "火星移民登记"}).content.decode()
    assert 'data-testid="zero-results"' in zero and "12345" in zero
    assert "食品经营许可证核发" in c.get("/search/suggest/", {"q": "食品"}).content.decode()
    assert c.get("/search/hot/").status_code == 200


@pytest.mark.parametrize("q", ["", "\x00\x01", "社" * 10_000, '"(*', "title:x AND"])
def test_portal_bad_input(q):
    response = Client().get("/search/", {"q": q, "region": "bad", "page": "x", "level": "xyz"})
    assert response.status_code == 200


def test_click_is_counted_and_redirects_only_locally(dept):
    c = Client()
    response = c.get("/search/go/", {"kind": "item", "code": "X1", "q": "护照", "next": "/regions/"})
    assert response.status_code == 302 and response["Location"] == "/regions/"
    assert SearchClick.objects.filter(code="X1").count() == 1
    response = c.get("/search/go/", {"kind": "item", "code": "X1", "next": "https://evil.example/"})
    assert response["Location"].startswith("/search/")
    assert SearchClick.objects.count() == 1


# --- CLI ---------------------------------------------------------------------------------------------
def test_cli_rebuild_query_and_json(dept):
    published_item(department=dept, name="食品经营许可证核发")
    out = StringIO()
    call_command("search", "rebuild", "--no-progress", stdout=out, stderr=StringIO())
    assert "重建完成" in out.getvalue()
    out = StringIO()
    call_command("search", "食品经营许可", "--region", "440106", stdout=out)
    assert "食品经营许可证核发" in out.getvalue()
    out = StringIO()
    call_command("search", "shipin", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["hits"][0]["title"] == "食品经营许可证核发"
    for sub in (["suggest", "shi"], ["hot"], ["zero"], ["stats"]):
        call_command("search", *sub, stdout=StringIO())


def test_query_log_keeps_no_control_characters():
    selectors.search(q="护照\x00\x01")
    assert querylog.flush() == 1
    assert SearchLog.objects.get().raw == "护照  "


def test_knowledge_base_entries_are_searchable(geo):
    from yiwang.hotline.models import KnowledgeEntry

    KnowledgeEntry.objects.create(
        question="垃圾分类怎么投放？",
        answer="按可回收物、有害垃圾、厨余垃圾和其他垃圾分类投放。",
        department_name="广州市城市管理和综合执法局",
        keywords="垃圾分类,投放",
        region=geo.gz,
    )
    services.rebuild(actor=SYSTEM)
    hit = selectors.search(q="垃圾分類", log=False).results.hits[0].card
    assert hit["kind"] == "knowledge" and "厨余垃圾" in hit["summary"]


@pytest.mark.django_db(transaction=True)  # committed rows: the feeder thread reads through its own connection
def test_a_parallel_rebuild_reads_the_database_in_its_feeder_thread(geo, monkeypatch):
    from yiwang.search import parallel, pipeline

    for i in range(40):
        Department.objects.create(name=f"广州市第{i}市场监督管理所", region=geo.gz)
    ServiceHall.objects.create(name="天河区政务服务中心", kind="center", region=geo.th, address="天河路1号")
    monkeypatch.setattr(pipeline, "ENABLED", False)  # the analysis worker is used when the pipeline is off
    alone = services.rebuild(actor=SYSTEM)
    monkeypatch.setattr(parallel, "MIN_DOCUMENTS", 10)
    both = services.rebuild(actor=SYSTEM)
    assert alone["analysis"]["processes"] == 1 and both["analysis"]["processes"] == 2
    assert both["documents"] == alone["documents"] >= 41
    assert "天河区政务服务中心" in titles(selectors.search(q="政务服务中心", log=False))
    assert len(titles(selectors.search(q="市场监督管理所", log=False))) == 10


@pytest.mark.django_db(transaction=True)  # committed rows, as above
def test_a_pipelined_rebuild_reads_the_database_round_by_round(geo, monkeypatch):
    from yiwang.search import pipeline

    for i in range(40):
        Department.objects.create(name=f"广州市第{i}市场监督管理所", region=geo.gz)
    ServiceHall.objects.create(name="天河区政务服务中心", kind="center", region=geo.th, address="天河路1号")
    alone = services.rebuild(actor=SYSTEM)
    monkeypatch.setattr(pipeline, "ROUND_SIZE", 10)
    rounds = services.rebuild(actor=SYSTEM)
    assert alone["analysis"]["processes"] == 1
    assert rounds["analysis"]["processes"] == 2 and rounds["analysis"]["rounds"] >= 5
    assert rounds["documents"] == alone["documents"] >= 41
    assert "天河区政务服务中心" in titles(selectors.search(q="政务服务中心", log=False))
    assert len(titles(selectors.search(q="市场监督管理所", log=False))) == 10
