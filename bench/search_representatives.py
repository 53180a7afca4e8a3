"""Representative documents (decision 0022): the same results as walking every match, and what they save.

Runs over an index that ``bench/search_scale.py`` built and kept (``YIWANG_BENCH_SEARCH_DIR``): every query of
its sets with user regions, plain and API-like (region + facets), page 1 and a deep page, once with the
representatives and once without (alternating, same process), and compares hits (codes and scores), totals and
facets. Reports the thread CPU per search both ways (p50/p99, ms) and any difference.

Environment: ``YIWANG_BENCH_SEARCH_DIR`` (required), ``YIWANG_BENCH_REPS_ROUNDS`` (default 2).
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

from common import ROOT, summarize_ms, write_result

sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

ROUNDS = int(os.environ.get("YIWANG_BENCH_REPS_ROUNDS", "2"))


def main() -> None:
    folder = Path(os.environ["YIWANG_BENCH_SEARCH_DIR"])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    os.environ["YIWANG_VAR_DIR"] = str(folder)
    import django

    django.setup()
    import search_scale as scale
    from yiwang.search.engine import SearchEngine
    from yiwang.search.index import IndexStore
    from yiwang.search.synonyms import SynonymTable, load_seed

    store = IndexStore(folder / "search-index")
    table = SynonymTable(load_seed())
    engine = SearchEngine(store, synonyms=lambda: table)
    engine.warm()
    regions = scale.load_regions()
    rng = random.Random(scale.SEED)
    user_regions = [code for lvl in (3, 4, 5) for code, _ in rng.sample(regions[lvl], 20)]
    sets = {"one_word": scale.ONE_WORD, "two_words": scale.TWO_WORD, "pinyin": scale.PINYIN, "initials": scale.INITIALS}
    shapes = {"plain": {}, "api_like": {"facets": True}, "page_40": {"offset": 390}, "no_region": {"region": False}}
    cpu: dict[str, dict[str, list[float]]] = {}
    differences: list[dict] = []
    compared = 0
    for _ in range(ROUNDS):
        for name, queries in sets.items():
            for q in queries:
                region = rng.choice(user_regions)
                for shape, options in shapes.items():
                    kwargs = {"region_code": None if options.get("region") is False else region}
                    kwargs.update({k: v for k, v in options.items() if k != "region"})
                    results = {}
                    for reps in (True, False) if rng.random() < 0.5 else (False, True):
                        engine.representatives = reps
                        c0 = time.thread_time()
                        results[reps] = engine.search(q, **kwargs)
                        cpu.setdefault(f"{name}/{shape}", {}).setdefault(str(reps), []).append(time.thread_time() - c0)
                    got, expected = results[True], results[False]
                    compared += 1
                    a = [(h.card["code"], h.score) for h in got.hits]
                    b = [(h.card["code"], h.score) for h in expected.hits]
                    if a != b or got.total != expected.total or got.facets != expected.facets:
                        differences.append(
                            {"q": q, "shape": shape, "region": kwargs["region_code"], "with": a, "without": b}
                        )
    summary = {}
    for key, runs in cpu.items():
        summary[key] = {
            "with_representatives": {
                k: v for k, v in summarize_ms(runs["True"]).items() if k in ("p50_ms", "p99_ms", "mean_ms")
            },
            "every_match": {
                k: v for k, v in summarize_ms(runs["False"]).items() if k in ("p50_ms", "p99_ms", "mean_ms")
            },
        }
        print(key, "cpu ms p50/p99 with", summary[key]["with_representatives"], "without", summary[key]["every_match"])
    print("compared", compared, "differences", len(differences))
    for d in differences[:5]:
        print(d)
    write_result(
        os.environ.get("YIWANG_BENCH_REPS_RESULT", "search_representatives"),
        {
            "index": str(folder),
            "compared": compared,
            "differences": differences[:20],
            "thread_cpu": summary,
            "load_average": os.getloadavg(),
        },
    )


if __name__ == "__main__":
    main()
