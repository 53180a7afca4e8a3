"""Search CPU on two builds of the same documents: one process, the queries alternating between the indexes.

Decision 0028: a pipelined build indexes the documents in rounds, so a county's documents lie in one stretch per
round instead of one. This compares the thread CPU of the same searches on two index directories built by
``bench/search_scale.py`` (``YIWANG_BENCH_SEARCH_DIR``, ``YIWANG_BENCH_SEARCH_STAGES=``) — e.g. one with
``YIWANG_SEARCH_BUILD_ROUND=10000000`` (one round) and one with the default — query by query, in alternating
order, and checks that both give the same scores and totals (tied documents may come in another order).

Environment: ``YIWANG_BENCH_AB_A`` / ``YIWANG_BENCH_AB_B`` (the two ``YIWANG_BENCH_SEARCH_DIR`` directories),
``YIWANG_BENCH_AB_ROUNDS`` (default 3), ``YIWANG_BENCH_AB_RESULT`` (result name, default ``search_layout_ab``).
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

from common import summarize_ms, write_result
from search_scale import INITIALS, ONE_WORD, PINYIN, SEED, TWO_WORD, load_regions

ROUNDS = int(os.environ.get("YIWANG_BENCH_AB_ROUNDS", "3"))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    os.environ["YIWANG_VAR_DIR"] = os.environ["YIWANG_BENCH_AB_A"]
    import django

    django.setup()
    from yiwang.search.engine import SearchEngine
    from yiwang.search.index import IndexStore
    from yiwang.search.synonyms import SynonymTable, load_seed

    dirs = {name: Path(os.environ[f"YIWANG_BENCH_AB_{name}"]) / "search-index" for name in ("A", "B")}
    table = SynonymTable(load_seed())
    engines = {name: SearchEngine(IndexStore(path), synonyms=lambda: table) for name, path in dirs.items()}
    for engine in engines.values():
        engine.warm()
    regions = load_regions()
    rng = random.Random(SEED)
    user_regions = [code for lvl in (3, 4, 5) for code, _ in rng.sample(regions[lvl], 20)]
    queries = [*ONE_WORD, *TWO_WORD, *PINYIN, *INITIALS]
    shapes = {
        "plain_with_region": lambda e, q, r: e.search(q, region_code=r),
        "api_like_region_facets": lambda e, q, r: e.search(q, region_code=r, facets=True),
        "no_region_facets": lambda e, q, r: e.search(q, facets=True),
    }
    cpu: dict[str, dict[str, list[float]]] = {s: {"A": [], "B": []} for s in shapes}
    differences = 0
    for engine in engines.values():  # page cache
        for q in queries:
            engine.search(q, region_code=user_regions[0])
    for round_ in range(ROUNDS):
        for i, q in enumerate(queries):
            region = rng.choice(user_regions)
            for shape, run in shapes.items():
                order = ("A", "B") if (i + round_) % 2 == 0 else ("B", "A")
                results = {}
                for name in order:
                    c0 = time.thread_time()
                    results[name] = run(engines[name], q, region)
                    cpu[shape][name].append(time.thread_time() - c0)
                a, b = results["A"], results["B"]
                if [h.score for h in a.hits] != [h.score for h in b.hits] or a.total != b.total:
                    differences += 1
    out: dict = {"rounds": ROUNDS, "queries": len(queries), "score_or_total_differences": differences, "cpu": {}}
    for shape, by in cpu.items():
        out["cpu"][shape] = {}
        for name, samples in by.items():
            s = summarize_ms(samples)
            out["cpu"][shape][name] = {k: s[k] for k in ("p50_ms", "p99_ms", "mean_ms")}
        print(shape, out["cpu"][shape])
    out["indexes"] = {name: str(path) for name, path in dirs.items()}
    out["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    print("differences", differences)
    write_result(os.environ.get("YIWANG_BENCH_AB_RESULT", "search_layout_ab"), out)


if __name__ == "__main__":
    main()
