"""Search relevance on the real Guangdong catalogue: hit@10 and MRR@10 per kind of query.

Imports ``../shared/data/gd-service-items/gd_items_raw.jsonl`` into a scratch SQLite database (``yiwang
migrate``, ``yiwang catalog import``, ``yiwang search rebuild``), then runs every query of
``bench/data/search_relevance.jsonl`` through ``yiwang.search.selectors.search`` — the code path of the API.

A query line: ``{"kind", "q", "relevant": [...], "match": "exact"|"contains"}``; a hit is relevant when its
title equals (exact) or contains (contains) one of ``relevant``. Kinds: exact names, colloquial phrasing,
synonyms, full pinyin, initials, Traditional script, typos.

Also reports a baseline — plain BM25 over segmented names (no synonyms, pinyin, correction) — for contrast.
Environment: ``YIWANG_BENCH_NO_BASELINE=1`` skips the baseline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from common import ROOT, SHARED_DATA, bench_env, write_result

YIWANG = str(Path(sys.executable).with_name("yiwang"))
QUERIES = ROOT / "bench" / "data" / "search_relevance.jsonl"
K = 10


def load_queries() -> list[dict]:
    return [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]


def relevant(title: str, query: dict) -> bool:
    if query.get("match") == "exact":
        return title in query["relevant"]
    return any(r in title for r in query["relevant"])


def score(ranked: list[str], query: dict) -> tuple[int, float, int | None]:
    for rank, title in enumerate(ranked[:K], 1):
        if relevant(title, query):
            return 1, 1.0 / rank, rank
    return 0, 0.0, None


def evaluate(queries: list[dict], run) -> dict:
    per_kind: dict[str, list[tuple[int, float]]] = defaultdict(list)
    misses = []
    latencies = []
    for q in queries:
        started = time.perf_counter()
        titles = run(q["q"])
        latencies.append(time.perf_counter() - started)
        hit, rr, rank = score(titles, q)
        per_kind[q["kind"]].append((hit, rr))
        if rank != 1:
            misses.append({"kind": q["kind"], "q": q["q"], "rank": rank, "top3": titles[:3]})
    kinds = {}
    for kind, rows in sorted(per_kind.items()):
        kinds[kind] = {
            "queries": len(rows),
            "hit_at_10": round(sum(h for h, _ in rows) / len(rows), 3),
            "mrr_at_10": round(sum(r for _, r in rows) / len(rows), 3),
        }
    every = [row for rows in per_kind.values() for row in rows]
    return {
        "overall": {
            "queries": len(every),
            "hit_at_10": round(sum(h for h, _ in every) / len(every), 3),
            "mrr_at_10": round(sum(r for _, r in every) / len(every), 3),
        },
        "by_kind": kinds,
        "mean_query_ms": round(1000 * sum(latencies) / len(latencies), 2),
        "not_first": misses,
    }


def baseline_runner(store):
    """Plain BM25 over segmented names and short names: OR of precise-mode words, no extras."""
    import tantivy

    from yiwang.search import text
    from yiwang.search.engine import _card
    from yiwang.search.index import SCHEMA

    def run(q: str) -> list[str]:
        words = text.cut(text.clean_query(q))
        clauses = []
        for w in words:
            for field, boost in (("title", 4.0), ("alias", 2.5)):
                clauses.append(
                    (
                        tantivy.Occur.Should,
                        tantivy.Query.boost_query(
                            tantivy.Query.term_query(SCHEMA, field, w, index_option="freq"), boost
                        ),
                    )
                )
        if not clauses:
            return []
        searcher = store.searcher()
        result = searcher.search(tantivy.Query.boolean_query(clauses), limit=K)
        return [_card(searcher, address)["title"] for _, address in result.hits]

    return run


def main() -> None:
    source = SHARED_DATA / "gd-service-items" / "gd_items_raw.jsonl"
    if not source.exists():
        print("skipped: ../shared/data/gd-service-items not present")
        return
    queries = load_queries()
    with tempfile.TemporaryDirectory(prefix="yiwang-relevance-") as var_dir:
        env = bench_env(var_dir)
        for args in (
            ["migrate", "-v0"],
            ["catalog", "import", "--format", "gdzwfw", str(source)],
            ["search", "rebuild", "--no-progress"],
        ):
            subprocess.run([YIWANG, *args], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
        os.environ.update({"YIWANG_VAR_DIR": var_dir, "YIWANG_HTTPS": "0", "YIWANG_LOG_LEVEL": "WARNING"})
        os.environ.pop("DATABASE_URL", None)
        sys.path.insert(0, str(ROOT / "src"))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
        import django

        django.setup()
        from yiwang.search import selectors

        def run(q: str) -> list[str]:
            page = selectors.search(q=q, page_size=K, log=False)
            return [h.card["title"] for h in page.results.hits]

        selectors.engine().warm()
        documents = selectors.store().stats()["documents"]
        result = evaluate(queries, run)
        baseline = None
        if not os.environ.get("YIWANG_BENCH_NO_BASELINE"):
            baseline = evaluate(queries, baseline_runner(selectors.store()))
            baseline.pop("not_first")
    data = {
        "corpus": {"source": "gd-service-items/gd_items_raw.jsonl", "documents": documents},
        "queries_file": str(QUERIES.relative_to(ROOT)),
        "k": K,
        "targets": {"overall_mrr_at_10": 0.85, "per_kind_mrr_at_10": 0.70},
        "yiwang": result,
        "baseline_plain_bm25_names": baseline,
    }
    write_result("search_relevance", data)
    print(f"overall: hit@10 {result['overall']['hit_at_10']}  MRR@10 {result['overall']['mrr_at_10']}")
    for kind, row in result["by_kind"].items():
        base = f"  (baseline MRR {baseline['by_kind'][kind]['mrr_at_10']})" if baseline else ""
        print(f"  {kind:12s} n={row['queries']:3d} hit@10 {row['hit_at_10']:.3f}  MRR@10 {row['mrr_at_10']:.3f}{base}")


if __name__ == "__main__":
    main()
