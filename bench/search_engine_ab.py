"""Search CPU of two versions of the engine code on one index: one process, the queries alternating between them.

Decision 0030: the old engine module (``engine.py`` of another checkout, e.g. a detached worktree of main) is
loaded next to this checkout's, both over the same index directory (``bench/search_scale.py`` with
``YIWANG_BENCH_SEARCH_DIR``); every benchmark query with a random user region (and the province and a city)
runs in four shapes, old and new alternating first, each the best of ``YIWANG_BENCH_AB_REPS`` calls (thread
CPU: what other processes on a shared machine inflate least). Every pair of results is compared — hits (code,
region), exact scores, totals, facets.

Environment: ``YIWANG_BENCH_AB_DIR`` (the index directory), ``YIWANG_BENCH_AB_OLD`` (path of the other
``engine.py``), ``YIWANG_BENCH_AB_ROUNDS`` (default 2), ``YIWANG_BENCH_AB_REPS`` (default 3),
``YIWANG_BENCH_AB_RESULT`` (result name or absolute path, default ``search_engine_ab``).
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
from pathlib import Path

from common import alternating_searches, cpu_table, write_result
from search_scale import INITIALS, ONE_WORD, PINYIN, SEED, TWO_WORD, load_regions

ROUNDS = int(os.environ.get("YIWANG_BENCH_AB_ROUNDS", "2"))
REPS = int(os.environ.get("YIWANG_BENCH_AB_REPS", "3"))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    os.environ["YIWANG_VAR_DIR"] = os.environ["YIWANG_BENCH_AB_DIR"]
    import django

    django.setup()
    from yiwang.search import engine as new
    from yiwang.search.index import IndexStore
    from yiwang.search.synonyms import SynonymTable, load_seed

    spec = importlib.util.spec_from_file_location("yiwang.search.engine_old", os.environ["YIWANG_BENCH_AB_OLD"])
    old = importlib.util.module_from_spec(spec)
    old.__package__ = "yiwang.search"
    sys.modules[spec.name] = old
    spec.loader.exec_module(old)

    table = SynonymTable(load_seed())
    path = Path(os.environ["YIWANG_BENCH_AB_DIR"]) / "search-index"
    engines = {
        "old": old.SearchEngine(IndexStore(path), synonyms=lambda: table),
        "new": new.SearchEngine(IndexStore(path), synonyms=lambda: table),
    }
    for engine in engines.values():
        engine.warm()
    regions = load_regions()
    rng = random.Random(SEED)
    user_regions = [code for lvl in (3, 4, 5) for code, _ in rng.sample(regions[lvl], 20)]
    user_regions += ["440000000000", "440100000000"]
    queries = [*ONE_WORD, *TWO_WORD, *PINYIN, *INITIALS]
    shapes = {
        "api_like_region_facets": lambda e, q, r: e.search(q, region_code=r, facets=True),
        "plain_with_region": lambda e, q, r: e.search(q, region_code=r),
        "page5_region_facets": lambda e, q, r: e.search(q, region_code=r, offset=40, facets=True),
        "no_region_facets": lambda e, q, r: e.search(q, facets=True),
    }
    cpu: dict[str, dict[str, list[float]]] = {s: {"old": [], "new": []} for s in shapes}
    differences: list[tuple[str, str, str]] = []

    def same(a, b) -> bool:
        def hits(r):
            return [(h.card.get("code"), h.card.get("region_code"), h.score) for h in r.hits]

        return hits(a) == hits(b) and (a.total, a.total_exact, a.facets, a.facets_over) == (
            b.total,
            b.total_exact,
            b.facets,
            b.facets_over,
        )

    for shape, q, region, runs in alternating_searches(
        engines, queries, user_regions, shapes, rounds=ROUNDS, rng=rng, reps=REPS
    ):
        for name, (seconds, _result) in runs.items():
            cpu[shape][name].append(seconds)
        if not same(runs["old"][1], runs["new"][1]):
            differences.append((shape, q, region))
    out: dict = {"rounds": ROUNDS, "reps": REPS, "queries": len(queries), "differences": differences}
    out["cpu"] = cpu_table(cpu)
    out["searches_compared"] = ROUNDS * len(queries) * len(shapes)
    out["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    print("differences", len(differences), "of", out["searches_compared"])
    write_result(os.environ.get("YIWANG_BENCH_AB_RESULT", "search_engine_ab"), out)


if __name__ == "__main__":
    main()
