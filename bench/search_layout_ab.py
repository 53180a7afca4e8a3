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
from pathlib import Path

from common import alternating_searches, cpu_table, write_result
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
    for shape, _q, _region, runs in alternating_searches(
        engines, queries, user_regions, shapes, rounds=ROUNDS, rng=rng
    ):
        for name, (seconds, _result) in runs.items():
            cpu[shape][name].append(seconds)
        a, b = runs["A"][1], runs["B"][1]
        if [h.score for h in a.hits] != [h.score for h in b.hits] or a.total != b.total:
            differences += 1
    out: dict = {"rounds": ROUNDS, "queries": len(queries), "score_or_total_differences": differences}
    out["cpu"] = cpu_table(cpu)
    out["indexes"] = {name: str(path) for name, path in dirs.items()}
    out["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    print("differences", differences)
    write_result(os.environ.get("YIWANG_BENCH_AB_RESULT", "search_layout_ab"), out)


if __name__ == "__main__":
    main()
