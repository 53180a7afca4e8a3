"""The index and the engine over a small sample (no database)."""

import json

import pytest

from yiwang.search.engine import Filters
from yiwang.search.index import IndexStore, region_prefixes

from .conftest import GD, GZ, SAMPLE, SZ, TIANHE, doc


def codes(results):
    return [h.card["code"] for h in results.hits]


def test_region_prefixes():
    assert region_prefixes("440106000000") == ["44", "4401", "440106"]
    assert region_prefixes("440000000000") == ["44"]
    assert region_prefixes("441900003000") == ["44", "4419", "441900", "441900003"]
    assert region_prefixes("") == []


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("辦護照", "P1"),
        ("护照", "P1"),
        ("huzhao", "P1"),
        ("港奥通行证", "H1"),
        ("gangaotongxingzheng", "H1"),
        ("shebao", "S1"),
        ("sb", "S1"),
        ("社保", "S1"),
        ("退休金", "S2"),
        ("我想开公司", "C1"),
        ("律师执业", "L1"),
    ],
)
def test_right_item_first(engine, query, first):
    results = engine.search(query, limit=5)
    assert results.hits, query
    assert results.hits[0].card["code"] in {first, "H1", "H2", "H3"} if first == "H1" else codes(results)[0] == first


def test_typo_is_corrected_and_reported(engine):
    results = engine.search("港奥通行证")
    assert results.corrected == "港澳通行证"
    assert {"H1", "H2", "H3"} <= set(codes(results)[:3])


def test_pinyin_is_reported_as_chinese(engine):
    assert engine.search("shebao").corrected == "社保"


def test_users_region_first(engine):
    assert codes(engine.search("港澳通行证", region_code=TIANHE))[0] == "H3"
    assert codes(engine.search("港澳通行证", region_code=GZ))[0] == "H1"
    assert codes(engine.search("港澳通行证", region_code="440300000000"))[0] == "H2"


def test_filters_and_facets(engine):
    results = engine.search("通行证", filters=Filters(region_prefix="4401"), facets=True)
    assert set(codes(results)) == {"H1", "H3", "T1"}
    facets = dict(results.facets["department"])
    assert facets["广州市公安局"] == 2
    assert codes(engine.search("律师", filters=Filters(online=False))) == ["L1"]
    assert codes(engine.search("律师", filters=Filters(online=True))) == []
    assert codes(engine.search("公安局", filters=Filters(kind="department"))) == ["D1"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "\x00\x01",
        "*",
        '"',
        "(",
        ")",
        '+-&|!(){}[]^"~*?:\\/',
        "社" * 10_000,
        "AND OR NOT",
        "title:护照",
        "\u202e\u200b",
    ],
)
def test_bad_input_is_a_clean_result(engine, query):
    results = engine.search(query)
    assert results.total >= 0


def test_pagination_limits(engine):
    assert len(engine.search("办理", limit=2).hits) == 2
    assert engine.search("办理", offset=10_000).hits == []


def test_suggestions(engine):
    assert [s.text for s in engine.suggest("办理往来")][:1] in (["办理往来港澳通行证"], ["办理往来台湾通行证"])
    assert "企业职工社会保险费断缴补缴申报" in [s.text for s in engine.suggest("qyzg")]
    assert "办理及加注普通护照" in [s.text for s in engine.suggest("huzhao")]


def test_did_you_mean_for_nothing_found(engine):
    assert engine.did_you_mean("往来港澳通证") in {"办理往来港澳通行证"}
    assert engine.did_you_mean("x") is None


def test_incremental_update_and_delete(engine, store):
    store.apply(upsert=[doc("N1", "新生儿出生登记", region=GZ)])
    store.refresh()
    assert codes(engine.search("出生登记"))[0] == "N1"
    store.apply(delete=["item:N1"])
    store.refresh()
    assert "N1" not in codes(engine.search("出生登记"))


def test_rebuild_replays_updates_made_during_the_build(tmp_path):
    store = IndexStore(tmp_path / "ix")
    store.build(SAMPLE[:2])

    def documents():
        yield from SAMPLE[:3]
        store.apply(upsert=[doc("LATE", "迟到的事项")])  # published while the rebuild runs

    store.build(documents(), replay=lambda keys: [doc("LATE", "迟到的事项")] if "item:LATE" in keys else [])
    store.refresh()
    searcher = store.searcher()
    assert searcher.num_docs == 4
    assert len(list((tmp_path / "ix").glob("gen-*"))) == 1


def test_empty_store_searches_to_nothing(tmp_path):
    from yiwang.search.engine import SearchEngine

    engine = SearchEngine(IndexStore(tmp_path / "none"))
    assert engine.search("护照").total == 0
    assert engine.suggest("hu") == []


def _many_implementations():
    """Implementations of a few services across regions, some popular: many exact score ties."""
    import random

    rng = random.Random(7)
    titles = ["办理往来港澳通行证", "普通护照签发", "港澳通行证签注", "社会保险登记", "律师执业许可"]
    regions = [GD, GZ, TIANHE, SZ]
    return [
        doc(
            f"M{i:04d}",
            titles[rng.randrange(len(titles))] + rng.choice(["", "（变更）", "（遗失补办）"]),
            region=regions[rng.randrange(len(regions))],
            dept=rng.choice(["公安局", "司法局", "人力资源和社会保障局"]),
            popularity=rng.choice([0, 0, 0, 0, 0, 3, 40, 900]),
        )
        for i in range(600)
    ]


@pytest.mark.parametrize("region", [None, GD, GZ, TIANHE, SZ])
@pytest.mark.parametrize("query", ["港澳通行证", "护照", "社保", "律师 执业", "gatxz"])
def test_partial_searches_rank_like_one_full_query(tmp_path, region, query):
    """The pruned partial searches return the same top scores as scoring every match at once."""
    import tantivy

    from yiwang.search.engine import SearchEngine

    store = IndexStore(tmp_path / "ix")
    store.build(_many_implementations())
    engine = SearchEngine(store)
    searcher = store.searcher()
    plan = engine.plan(query)
    full = tantivy.Query.boolean_query([(tantivy.Occur.Must, engine.text_query(plan)), *engine.region_clauses(region)])
    for offset in (0, 20):
        expected = searcher.search(full, limit=20, offset=offset, count=True, weight_by_field="boost")
        got = engine.search(query, region_code=region, limit=20, offset=offset)
        assert [round(h.score, 4) for h in got.hits] == [round(s, 4) for s, _ in expected.hits]
        assert got.total == expected.count and got.total_exact


def test_large_totals_are_estimated(engine, monkeypatch):
    from yiwang.search import engine as engine_module

    exact = engine.search("港澳通行证")
    monkeypatch.setattr(engine_module, "EXACT_COUNT_POSTINGS", 0)
    estimated = engine.search("港澳通行证")
    assert exact.total_exact and not estimated.total_exact
    assert estimated.total >= len(estimated.hits) and estimated.total > 0
    assert codes(estimated) == codes(exact)


def test_estimate_ors_a_concepts_words_and_counts_each_words_fields_once(monkeypatch):
    """社保's documents: the word's best field (or its pinyin) and, independently, its synonym's."""
    from yiwang.search import engine as engine_module
    from yiwang.search.engine import Concept, Plan, SearchEngine

    monkeypatch.setattr(engine_module, "EXACT_COUNT_POSTINGS", 0)

    class Searcher:
        num_docs = 1000
        df = {
            ("title", "社保"): 100,
            ("alias", "社保"): 60,
            ("guide", "社保"): 90,
            ("py", "shebao"): 120,
            ("title", "社会保险"): 200,
            ("title", "补缴"): 100,
        }

        def doc_freq(self, fname, word):
            return self.df.get((fname, word), 0)

    plan = Plan(
        cleaned="社保 补缴",
        concepts=[
            Concept(source="社保", alternatives=[("社保", 1.0), ("社会保险", 0.9)], pinyin=["shebao"]),
            Concept(source="补缴", alternatives=[("补缴", 1.0)]),
        ],
    )
    total, exact = SearchEngine.count(None, Searcher(), plan, None, None)
    social = 1 - (1 - 0.12) * (1 - 0.2)  # max(title, alias, guide, pinyin) of 社保, OR 社会保险
    assert not exact and total == round(1000 * (1 - (1 - social) * (1 - 0.1)))
    assert total > 200 + 100  # the most frequent clause per concept alone would say 280


def test_facets_count_the_top_results(engine, monkeypatch):
    from yiwang.search import engine as engine_module

    monkeypatch.setattr(engine_module, "FACET_TOP", 2)
    results = engine.search("港澳通行证", region_code=TIANHE, facets=True)
    assert results.facets_over == 2
    assert sum(c for _, c in results.facets["kind"]) == 2


def test_lexicon_refresh_rebuilds_only_when_its_sources_changed(store, monkeypatch):
    from yiwang.search.engine import SearchEngine

    hot = [("护照", 5.0)]
    engine = SearchEngine(store, extra_words=lambda: list(hot))
    engine.warm()
    builds = []
    original = engine._build_lexicons
    monkeypatch.setattr(engine, "_build_lexicons", lambda: builds.append(1) or original())
    key = engine._lexicon[0]
    engine._refresh(key)
    assert builds == []  # nothing changed: no rebuild
    hot.append(("新热词", 9.0))
    engine._refresh(key)
    assert builds == [1]
    store.apply(upsert=[doc("N1", "新增事项名称")])
    store.refresh()
    engine._refresh(key)
    assert builds == [1, 1]
    assert "新增事项名称" in [s.text for s in engine.suggest("新增")]


def test_facet_id_names_the_facet_values_of_the_card():

    from yiwang.search.index import card_facets, card_json, doc_facets, facet_id

    documents = [*SAMPLE, *_many_implementations()]
    for d in documents:
        assert doc_facets(d) == card_facets(json.loads(card_json(d)))
    by_id = {}
    for d in documents:
        by_id.setdefault(facet_id(doc_facets(d)), set()).add(doc_facets(d))
    assert all(len(sets) == 1 for sets in by_id.values())
    assert len(by_id) > 10


@pytest.mark.parametrize("region", [None, TIANHE])
@pytest.mark.parametrize("query", ["港澳通行证", "护照", "社保"])
def test_facets_from_the_fast_field_count_like_the_cards(tmp_path, monkeypatch, region, query):
    """Facets read through ``facet_id`` equal the counts over the top results' cards; once an id has been
    seen, only the shown cards are read from the store."""
    from yiwang.search import engine as engine_module
    from yiwang.search.engine import FACET_TOP, SearchEngine
    from yiwang.search.index import card_facets

    store = IndexStore(tmp_path / "ix")
    store.build(_many_implementations())
    engine = SearchEngine(store)
    top = engine.search(query, region_code=region, limit=FACET_TOP)
    expected = SearchEngine.count_facets([card_facets(h.card) for h in top.hits])
    reads = []
    real = engine_module._card
    monkeypatch.setattr(engine_module, "_card", lambda s, a: reads.append(a) or real(s, a))
    first = engine.search(query, region_code=region, facets=True)
    assert first.facets == expected and first.facets_over == len(top.hits)
    reads.clear()
    again = engine.search(query, region_code=region, facets=True)
    assert again.facets == expected
    assert len(reads) == len(again.hits)


def test_an_index_of_an_older_schema_is_ignored_until_rebuilt(tmp_path):
    from yiwang.search.engine import SearchEngine

    store = IndexStore(tmp_path / "ix")
    store.build(SAMPLE)
    generation = store.current_generation()
    (tmp_path / "ix" / generation / "SCHEMA_VERSION").write_text("2")  # built before the facet_id field
    old = IndexStore(tmp_path / "ix")
    assert not old.exists()
    assert SearchEngine(old).search("护照").total == 0
    old.build(SAMPLE)
    old.refresh()
    results = SearchEngine(old).search("护照", facets=True)
    assert results.total >= 2 and results.facets["theme"] == [("出境入境", 2)]


def test_result_cache_answers_copies_and_follows_commits(store, monkeypatch):
    from yiwang.search import engine as engine_module
    from yiwang.search.engine import SearchEngine

    engine = SearchEngine(store, result_cache=2)
    calls = []
    original = engine._search
    monkeypatch.setattr(engine, "_search", lambda *a: calls.append(a[0]) or original(*a))
    first = engine.search("护照", region_code=GZ, facets=True)
    expected = [dict(h.card) for h in first.hits]
    first.hits[0].card["title"] = "changed by a caller"  # callers decorate cards: never the remembered ones
    again = engine.search(" 护照 ", region_code=GZ, facets=True)  # the same cleaned query
    assert len(calls) == 1
    assert [h.card for h in again.hits] == expected and again.facets == first.facets and again.query == " 护照 "
    engine.search("护照", region_code=SZ, facets=True)  # another region: another entry
    assert len(calls) == 2
    store.apply(upsert=[doc("N1", "护照", region=GZ)])  # a commit: a new snapshot
    store.refresh()
    assert codes(engine.search("护照", region_code=GZ, facets=True))[0] == "N1"
    assert len(calls) == 3
    engine.search("社保")
    assert len(engine._results) == 2  # bounded: the least recently used went out
    monkeypatch.setattr(engine_module, "RESULT_CACHE_SECONDS", 0.0)
    engine.search("社保")
    assert len(calls) == 5  # expired


def test_facet_counting_keeps_its_rules():
    """Per facet: empty kind/department/level not counted (online is); most frequent first, then by value; 12."""
    from yiwang.search.engine import SearchEngine

    sets = [
        ("item", "公安局", "2", "1", ("出境入境", "户籍"), ("自然人",)),
        ("item", "公安局", "2", "1", ("出境入境",), ("自然人",)),
        ("bundle", "", "", "0", (), ("法人", "自然人")),
        *[("item", f"部门{i:02d}", "3", "", ("户籍",), ()) for i in range(13)],
    ]
    facets = SearchEngine.count_facets(sets)
    assert facets["kind"] == [("item", 15), ("bundle", 1)]
    assert facets["department"][0] == ("公安局", 2) and len(facets["department"]) == 12
    assert facets["department"][1:3] == [("部门00", 1), ("部门01", 1)]  # equal counts: by value
    assert facets["level"] == [("3", 13), ("2", 2)]
    assert facets["online"] == [("", 13), ("1", 2), ("0", 1)]
    assert facets["theme"] == [("户籍", 14), ("出境入境", 2)]
    assert facets["audience"] == [("自然人", 3), ("法人", 1)]
    names = ("kind", "department", "level", "theme", "audience", "online")
    assert SearchEngine.count_facets([]) == {name: [] for name in names}


def test_serving_engine_freezes_the_collector_after_each_lexicon_build(store, monkeypatch):
    import gc

    from yiwang.search.engine import SearchEngine

    frozen = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(1))
    SearchEngine(store).warm()
    assert frozen == []  # tests, the CLI: nothing frozen
    engine = SearchEngine(store)
    engine.freeze_gc = True
    engine.warm()
    assert len(frozen) == 2  # the lexicon and suggester, then the suggester's bigram index
    engine._refresh(key=None)  # nothing changed: no rebuild, nothing frozen
    assert len(frozen) == 2


def _ties_and_departments():
    """Many implementations of few contents, departments that match some queries, a few popular ones."""
    import random

    rng = random.Random(11)
    titles = ["办理往来港澳通行证", "普通护照签发", "港澳通行证签注", "社会保险登记", "律师执业许可", "护照"]
    depts = ["公安局", "司法局", "人力资源和社会保障局", "出入境护照科", "港澳通行证受理中心", "律师协会"]
    regions = [GD, GZ, TIANHE, SZ]
    # 40 contents with the same score for 遗嘱公证 (their guides do not match); the first document of each (its
    # representative) in Shenzhen, the others elsewhere: ahead of them in index order (buckets by region)
    tied = [
        doc(
            f"W{i:04d}",
            "遗嘱公证",
            region=SZ if i < 40 else rng.choice([GD, GZ]),
            guide=f"第{i if i < 40 else rng.randrange(40)}号窗口",
        )
        for i in range(160)
    ]
    return tied + [
        doc(
            f"T{i:04d}",
            titles[rng.randrange(len(titles))] + rng.choice(["", "（变更）", "（遗失补办）"]),
            region=regions[rng.randrange(len(regions))],
            dept=rng.choice(depts),
            materials=rng.choice([(), ("居民身份证",), ("护照", "照片")]),
            popularity=rng.choice([0] * 12 + [3, 900]),
        )
        for i in range(900)
    ]


def _representatives(store) -> dict[int, list[str]]:
    """content digest → keys of its representatives, for every content in the index."""
    import tantivy

    from yiwang.search.index import contents_of, filter_query

    searcher = store.searcher()
    everything = searcher.search(tantivy.Query.all_query(), limit=searcher.num_docs, count=False).hits
    rep = filter_query("rep", "1")
    reps = {(a.segment_ord, a.doc) for _, a in searcher.search(rep, limit=searcher.num_docs, count=False).hits}
    out: dict[int, list[str]] = {}
    for (_, address), content in zip(everything, contents_of(searcher, [a for _, a in everything]), strict=True):
        keys = out.setdefault(content, [])
        if (address.segment_ord, address.doc) in reps:
            keys.append(searcher.doc(address).get_first("key"))
    return out


def _same_results_with_and_without_representatives(engine, queries, regions):
    for query in queries:
        for region in regions:
            for limit, offset, facets in ((10, 0, False), (20, 0, True), (10, 30, False), (50, 950, False)):
                engine.representatives = True
                got = engine.search(query, region_code=region, limit=limit, offset=offset, facets=facets)
                engine.representatives = False
                expected = engine.search(query, region_code=region, limit=limit, offset=offset, facets=facets)
                assert [(h.card["code"], h.score) for h in got.hits] == [
                    (h.card["code"], h.score) for h in expected.hits
                ], (query, region, offset)
                assert (got.total, got.facets) == (expected.total, expected.facets)


QUERIES = ["港澳通行证", "护照", "社保", "律师 执业", "gatxz", "hz", "护照 签发", "公安局", "遗嘱公证"]


def test_representatives_give_the_results_of_a_search_over_every_document(tmp_path):
    from yiwang.search.engine import SearchEngine

    docs = _ties_and_departments()
    store = IndexStore(tmp_path / "ix")
    store.build(docs)
    reps = _representatives(store)
    assert len(reps) < len(docs) / 10 and all(len(keys) == 1 for keys in reps.values())
    engine = SearchEngine(store)
    _same_results_with_and_without_representatives(engine, QUERIES, [None, GD, GZ, TIANHE, SZ])
    assert engine.search("护照", filters=Filters(department="公安局")).total > 0  # filtered: every match walked


def test_representatives_are_kept_one_per_content_through_updates(tmp_path):
    from yiwang.search.engine import SearchEngine

    docs = _ties_and_departments()
    current = {d.key: d for d in docs}
    store = IndexStore(tmp_path / "ix")
    store.build(docs)

    def fetch(keys):
        return [current[k] for k in keys if k in current]

    reps = _representatives(store)
    # withdraw every representative of three contents, and one content entirely
    victims = [keys[0] for keys in list(reps.values())[:3]]
    content_gone = next(c for c, keys in reps.items() if keys[0] not in victims)
    gone_keys = [d.key for d in docs if index_content(d) == content_gone]
    for key in [*victims, *gone_keys]:
        current.pop(key, None)
    result = store.apply(delete=[*victims, *gone_keys], fetch=fetch)
    assert result["promoted"] == 3
    # a new content, a new document of an existing content, and a representative changing its content
    moved = _representatives(store)
    changer = next(keys[0] for keys in moved.values() if keys)
    new = [
        doc("NEW1", "全新的事项名称", region=GZ),
        doc("NEW2", "全新的事项名称", region=SZ),
        doc("NEW3", docs[5].title, region=GZ, materials=docs[5].materials, dept="公安局"),
        doc(changer.split(":")[1], "变更后的名称", region=TIANHE),
    ]
    current.update({d.key: d for d in new})
    assert store.apply(upsert=new, fetch=fetch)["promoted"] == 1
    store.refresh()
    reps = _representatives(store)
    assert content_gone not in reps
    assert all(len(keys) == 1 for keys in reps.values()), {c: k for c, k in reps.items() if len(k) != 1}
    assert reps[index_content(new[0])] == ["item:NEW1"]
    assert set(reps) == {index_content(d) for d in current.values()}
    engine = SearchEngine(store)
    _same_results_with_and_without_representatives(engine, [*QUERIES, "全新 事项"], [None, GZ, TIANHE])


def test_a_rebuild_replays_updates_with_representatives(tmp_path):
    docs = _ties_and_departments()[:200]
    store = IndexStore(tmp_path / "ix")
    store.build(docs)
    first = docs[0]
    twin = doc("TWIN", first.title, region=SZ, materials=first.materials)

    def documents():
        yield from docs[1:]
        store.apply(delete=[first.key], fetch=lambda keys: [])  # withdrawn while the rebuild runs
        store.apply(upsert=[twin], fetch=lambda keys: [])

    store.build(documents(), replay=lambda keys: [twin] if "item:TWIN" in keys else [])
    store.refresh()
    reps = _representatives(store)
    assert all(len(keys) == 1 for keys in reps.values())
    assert set(reps) == {index_content(d) for d in [*docs[1:], twin]}


def test_an_index_of_schema_4_is_ignored_and_its_updates_wait_for_a_rebuild(tmp_path, caplog):
    """Schema 5 moved every filter into one field: a schema-4 generation (filters in their own fields) is not
    searched, nor written, until a rebuild (decision 0031)."""
    from yiwang.search import index
    from yiwang.search.engine import SearchEngine

    path = tmp_path / "ix"
    store = IndexStore(path)
    store.build(SAMPLE)
    (path / store.current_generation() / "SCHEMA_VERSION").write_text("4")
    old = IndexStore(path)
    with caplog.at_level("WARNING"):
        assert not old.exists() and old.schema_version is None
    assert "run `yiwang search rebuild`" in caplog.text
    engine = SearchEngine(old)
    assert engine.search("护照").total == 0
    with pytest.raises(ValueError):
        index.build_schema("4")
    old.build(SAMPLE)
    old.refresh()
    assert old.schema_version == index.SCHEMA_VERSION == "5" and not old.stats()["rebuild_needed"]
    assert codes(engine.search("护照"))[:1] == ["P1"]


def index_content(d):
    from yiwang.search.index import content_digest

    return content_digest(d)


def test_department_bound_covers_what_the_department_clauses_add(tmp_path):
    """Every document whose department matches scores at most ``department_bound`` above its text score
    without the department clauses (0 when only its department matches)."""
    import tantivy

    from yiwang.search.engine import SearchEngine

    store = IndexStore(tmp_path / "ix")
    store.build(_ties_and_departments())
    engine = SearchEngine(store)
    searcher = store.searcher()
    must = tantivy.Occur.Must

    def scores(query):
        return {(a.segment_ord, a.doc): s for s, a in searcher.search(query, limit=searcher.num_docs).hits}

    checked = 0
    for query in [*QUERIES, "出入境", "社会保障", "律师协会", "人力资源", "受理中心"]:
        plan = engine.plan(query)
        clauses = engine.text_clauses(plan)
        content = [clause for fname, clause in clauses if fname != "dept"]
        department = [clause for fname, clause in clauses if fname == "dept"]
        if not department:
            continue
        bound = engine.department_bound(searcher, plan)
        alone = scores(tantivy.Query.boolean_query(content)) if content else {}
        matches = tantivy.Query.const_score_query(tantivy.Query.boolean_query(department), 0.0)
        full = scores(tantivy.Query.boolean_query([(must, engine.text_query(plan)), (must, matches)]))
        added = [score - alone.get(key, 0.0) for key, score in full.items()]
        if not added:  # no department holds these words
            continue
        assert max(added) <= bound, query
        checked += 1
    assert checked >= 6


def test_department_search_walks_only_the_contents_that_can_reach_the_top(tmp_path, monkeypatch):
    """With enough text matches above the department bound, the department search is restricted to the
    contents that can still reach the top (no search of every department match), with the same results."""
    from yiwang.search.engine import SearchEngine

    store = IndexStore(tmp_path / "ix")
    store.build(_ties_and_departments())
    engine = SearchEngine(store)
    whole = []
    original = SearchEngine._department_hits
    monkeypatch.setattr(SearchEngine, "_department_hits", staticmethod(lambda *a: whole.append(a) or original(*a)))
    for query in ["律师 执业", "护照 签发", "律师协会"]:
        plan = engine.plan(query)
        assert any(fname == "dept" for fname, _ in engine.text_clauses(plan))  # its department clauses match
        assert engine.department_bound(store.searcher(), plan) > 0
        whole.clear()
        engine.search(query, region_code=GZ)  # a top 10: the 10th text score is the floor
        assert whole == [], query
    engine.search("公安局", region_code=GZ)  # few text matches: every department match is searched
    assert len(whole) == 1
    whole.clear()  # department clauses whose words no department holds: no department search at all
    plan = engine.plan("遗嘱公证")
    assert any(fname == "dept" for fname, _ in engine.text_clauses(plan))
    assert engine.department_bound(store.searcher(), plan) == 0
    engine.search("遗嘱公证", region_code=GZ, facets=True)
    assert whole == []
    _same_results_with_and_without_representatives(
        engine, ["律师 执业", "护照 签发", "律师协会", "遗嘱公证"], [None, GZ, SZ]
    )


TOWN = "440106001000"  # a street of Tianhe
VILLAGE = "440106001001"
YUEXIU = "440104000000"  # another county of Guangzhou
ZHONGSHAN = "442000000000"  # a city without counties: its towns are its "counties" (prefix 442000)
ZS_TOWN = "442000107000"
ZS_VILLAGE = "442000107003"
REGIONS = [GD, GZ, TIANHE, TOWN, VILLAGE, YUEXIU, SZ, ZHONGSHAN, ZS_TOWN, ZS_VILLAGE]


def _every_level():
    """Implementations of a few services in regions of every level, some popular: ties in every region class."""
    import dataclasses
    import random

    rng = random.Random(30)
    titles = ["办理往来港澳通行证", "普通护照签发", "港澳通行证签注", "社会保险登记", "律师执业许可"]
    docs = []
    for i in range(900):
        region = REGIONS[rng.randrange(len(REGIONS))]
        d = doc(
            f"L{i:04d}",
            titles[rng.randrange(len(titles))] + rng.choice(["", "（变更）", "（遗失补办）"]),
            dept=rng.choice(["公安局", "司法局", "人力资源和社会保障局"]),
            popularity=rng.choice([0] * 8 + [3, 40, 900]),
        )
        docs.append(dataclasses.replace(d, region_code=region, region_name=region))
    return docs


@pytest.mark.parametrize("representatives", [True, False])
def test_region_classes_score_like_the_region_clauses(tmp_path, representatives):
    """Decision 0030: one search per region class, each with its class's constant, gives the hits and the exact
    scores of one query with every region clause (a city without counties included)."""
    import tantivy

    from yiwang.search.engine import SearchEngine

    store = IndexStore(tmp_path / "ix")
    store.build(_every_level())
    engine = SearchEngine(store)
    engine.representatives = representatives
    searcher = store.searcher()
    for query in ["港澳通行证", "护照", "社保", "律师 执业", "hz"]:
        matched = engine.text_query(engine.plan(query))
        for region in [None, *REGIONS]:
            full = tantivy.Query.boolean_query([(tantivy.Occur.Must, matched), *engine.region_clauses(region)])
            every = searcher.search(full, limit=searcher.num_docs, count=True, weight_by_field="boost")
            ranked = sorted(every.hits, key=lambda hit: (-hit[0], hit[1].segment_ord, hit[1].doc))
            expected = [(searcher.doc(a).get_first("key"), s) for s, a in ranked]
            for limit, offset, facets in ((10, 0, False), (20, 0, True), (20, 40, False)):
                got = engine.search(query, region_code=region, limit=limit, offset=offset, facets=facets)
                assert [(f"item:{h.card['code']}", h.score) for h in got.hits] == expected[offset : offset + limit], (
                    query,
                    region,
                    offset,
                )
                assert got.total == every.count


def test_region_classes_need_scores_that_add_exactly(monkeypatch):
    from yiwang.search import engine as engine_module

    assert [score for _, score in engine_module.SearchEngine.region_classes(VILLAGE)] == [1.5, 3.0, 2.0, 3.5, 5.0]
    assert [score for _, score in engine_module.SearchEngine.region_classes(ZS_VILLAGE)] == [1.5, 3.0, 2.0, 5.5, 5.0]
    monkeypatch.setattr(engine_module, "REGION_SAME_CITY", 0.1)
    with pytest.raises(ValueError, match="exactly in float32"):
        engine_module.SearchEngine.region_classes(TIANHE)


def test_region_classes_below_the_floor_are_not_searched(tmp_path, monkeypatch):
    """Decision 0030: once ``pool`` documents score more than the best text score plus a class's region score,
    that class (and every lower one) is not searched; the results stay the same (and those of one full query,
    see above)."""
    import math

    from yiwang.search import engine as engine_module
    from yiwang.search.engine import SearchEngine

    store = IndexStore(tmp_path / "ix")
    store.build(_every_level())
    engine = SearchEngine(store)
    searches = []

    class Counting:
        def __init__(self, searcher):
            self.searcher = searcher

        def search(self, query, **kwargs):
            searches.append(query)
            return self.searcher.search(query, **kwargs)

        def __getattr__(self, name):
            return getattr(self.searcher, name)

    searcher = store.searcher
    monkeypatch.setattr(store, "searcher", lambda: Counting(searcher()))

    def skipped(query: str, limit: int) -> int:
        searches.clear()
        got = engine.search(query, region_code=VILLAGE, limit=limit)
        made = len(searches)
        searches.clear()
        with monkeypatch.context() as m:
            m.setattr(engine_module, "REGION_SLACK", math.inf)  # never below the floor: every class searched
            every = engine.search(query, region_code=VILLAGE, limit=limit)
        assert [(h.card["code"], h.score) for h in got.hits] == [(h.card["code"], h.score) for h in every.hits]
        return len(searches) - made

    assert skipped("社会保险登记", 10) >= 3  # the village's county fills the top 10: no lower class can reach it
    assert skipped("社会保险登记", 100) == 0  # too few of them for a top 100
    searches.clear()
    assert engine.search("完全没有的词语", region_code=VILLAGE).total == 0
    assert len(searches) <= 2  # the representatives' search and the count: nothing else when nothing matches


def test_prepared_queries_follow_commits_synonyms_and_time(store, monkeypatch):
    """Decision 0030: a query's plan and text query are remembered per cleaned query, index snapshot, synonyms
    and lexicon, for at most ``PREPARED_SECONDS`` — never results (every search still runs)."""
    from yiwang.search import engine as engine_module
    from yiwang.search.engine import SearchEngine
    from yiwang.search.synonyms import SynonymRow, SynonymTable, load_seed

    tables = [SynonymTable(load_seed())]
    engine = SearchEngine(store, synonyms=lambda: tables[-1])
    first = engine.prepare("护照 签发")
    assert engine.prepare(" 护照  签发 ") is first  # the same cleaned query
    assert engine.prepare("护照") is not first
    store.apply(upsert=[doc("N1", "护照签发新增", region=GZ)])  # a commit: a new snapshot
    store.refresh()
    after_commit = engine.prepare("护照 签发")
    assert after_commit is not first and engine.prepare("护照 签发") is after_commit
    assert codes(engine.search("护照签发新增"))[0] == "N1"
    tables.append(SynonymTable([*load_seed(), SynonymRow(term="签发", alternatives=("核发",), two_way=True, weight=1)]))
    with_synonym = engine.prepare("护照 签发")
    assert with_synonym is not after_commit
    assert "核发" in [a for c in with_synonym.plan.concepts for a, _ in c.alternatives]
    monkeypatch.setattr(engine_module, "PREPARED_SECONDS", 0.0)
    assert engine.prepare("护照 签发") is not with_synonym  # expired
