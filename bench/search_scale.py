"""Search at province scale: build rate, query and suggestion latency, HTTP latency, memory, vs PostgreSQL FTS.

Generates a catalogue of ``YIWANG_BENCH_SEARCH_ITEMS`` service items (default 2,300,000): the real
Guangdong catalogue's names, short names, materials and guide text (``../shared/data/gd-service-items``),
recombined with qualifiers (（跨省通办）, （遗失补办）…) over the five levels of Guangdong's real division codes
(``../shared/data/admin-divisions``: province, 21 cities, counties, towns, villages), each implemented by a
department of its region. 5 % of names are in Traditional script.

Measures
- build: documents/s through the same analysis and writer as ``yiwang search rebuild`` (documents come from
  the generator, not from the database; the generator's own time is reported and excluded);
- in-process query latency (p50/p99) for 1-word, 2-word, pinyin and initials queries with a random user
  region, through ``SearchEngine.search`` (the API's code path), and suggestion latency;
- HTTP latency of ``GET /api/v1/search`` (with facets, as the API always answers) against ``yiwang serve``
  (granian, 2 workers × 2 threads; each worker builds its lexicon before it answers), its memory and its CPU
  time per search (load-independent);
- PostgreSQL full-text search on the same segmented text (``to_tsvector('simple', …)`` + GIN, ``ORDER BY
  ts_rank`` top 10) and the p99 ratio PostgreSQL / tantivy.

Environment: ``YIWANG_BENCH_SEARCH_ITEMS`` (size), ``YIWANG_BENCH_SEARCH_PG_QUERIES`` (per set, default 50),
``YIWANG_BENCH_SEARCH_SKIP_PG=1`` (then the last PostgreSQL numbers at the same size are carried over,
marked with their date and commit), ``YIWANG_BENCH_PORT`` (default 8104), ``YIWANG_BENCH_SEARCH_WORKERS`` /
``YIWANG_BENCH_SEARCH_THREADS`` (granian, default 2 × 2).

In-process figures carry ``cpu_p50_ms``/``cpu_p99_ms``: the thread's CPU time per call, which the other
processes on a shared machine do not inflate.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import (
    ROOT,
    SHARED_DATA,
    bench_env,
    free_port,
    fresh_postgres,
    http_load,
    process_tree_rss_mb,
    serve,
    summarize_ms,
    write_result,
    yiwang,
)

sys.path.insert(0, str(ROOT / "src"))

N = int(os.environ.get("YIWANG_BENCH_SEARCH_ITEMS", "2300000"))
PG_QUERIES = int(os.environ.get("YIWANG_BENCH_SEARCH_PG_QUERIES", "50"))
PORT = int(os.environ.get("YIWANG_BENCH_PORT", "8104"))
HTTP_WORKERS = int(os.environ.get("YIWANG_BENCH_SEARCH_WORKERS", "2"))
HTTP_THREADS = int(os.environ.get("YIWANG_BENCH_SEARCH_THREADS", "2"))
# "2x2,1x4": granian workers x threads per configuration (the first gives the headline figures)
SERVER_CONFIGS = [
    tuple(int(n) for n in c.split("x"))
    for c in os.environ.get("YIWANG_BENCH_SEARCH_SERVERS", f"{HTTP_WORKERS}x{HTTP_THREADS}").split(",")
    if c
]
CLIENTS = [int(c) for c in os.environ.get("YIWANG_BENCH_SEARCH_CLIENTS", "1,2,4").split(",") if c]
HTTP_SECONDS = float(os.environ.get("YIWANG_BENCH_SEARCH_HTTP_SECONDS", "6"))
SETTLE_SECONDS = float(os.environ.get("YIWANG_BENCH_SEARCH_SETTLE", "0"))
CLIENT = os.environ.get("YIWANG_BENCH_SEARCH_CLIENT") or ("wrk" if shutil.which("wrk") else "python")
STAGES = set(os.environ.get("YIWANG_BENCH_SEARCH_STAGES", "inproc,http,pg").split(","))
REUSE_DIR = os.environ.get("YIWANG_BENCH_SEARCH_DIR")  # keep the index and database here between runs
# query mixes to load over HTTP (default all: one_word, two_words, pinyin, initials, mixed, suggest)
MIXES = [m for m in os.environ.get("YIWANG_BENCH_SEARCH_MIXES", "").split(",") if m]
RESULT_NAME = os.environ.get("YIWANG_BENCH_SEARCH_RESULT", "search_scale")
# the server's result cache (entries; "0": off). Off by default: the query lists repeat, a cache would answer
# most requests from memory and flatter the figures (decision 0020)
RESULT_CACHE = os.environ.get("YIWANG_BENCH_SEARCH_RESULT_CACHE", "0")
# "0": the server walks every match instead of one representative document per content (the A/B of decision 0022)
REPRESENTATIVES = os.environ.get("YIWANG_BENCH_SEARCH_REPRESENTATIVES", "1")
RESULT_FILE = ROOT / "bench" / "results" / "search_scale.json"
WRK_SCRIPT = ROOT / "bench" / "wrk" / "search_get.lua"
SEED = 20261130
QUALIFIERS = [
    "",
    "",
    "",
    "",
    "（跨省通办）",
    "（遗失补办）",
    "（变更）",
    "（注销）",
    "（延续）",
    "（首次申请）",
    "（网上办理）",
    "（个人）",
    "（企业）",
    "（容缺受理）",
    "（告知承诺制）",
    "（省内通办）",
]
DEPT_SUFFIX = {1: "", 2: "", 3: "", 4: "便民服务中心", 5: "便民服务站"}
LEVEL_SHARE = [(1, 0.02), (2, 0.08), (3, 0.30), (4, 0.35), (5, 0.25)]

ONE_WORD = [
    "护照",
    "社保",
    "公积金",
    "驾驶证",
    "养老金",
    "律师",
    "公证",
    "签注",
    "发票",
    "残疾人证",
    "结婚登记",
    "教师资格",
    "用电",
    "商标",
    "留学",
    "信访",
    "医师",
    "导游",
    "救助",
    "档案",
    "無線電",
    "職稱",
    "户口",
    "宗教",
]
TWO_WORD = [
    "港澳通行证 签注",
    "养老保险 待遇",
    "律师 执业",
    "机动车 驾驶证",
    "教师资格 认定",
    "社会保险费 补缴",
    "遗嘱 公证",
    "外国人 签证",
    "临时 用电",
    "设立 登记",
    "残疾人证 换领",
    "离婚 登记",
    "專利權 公證",
    "无犯罪 记录",
]
PINYIN = [
    "huzhao",
    "shebao",
    "gongzheng",
    "jiashizheng",
    "yanglaojin",
    "lvshi",
    "fapiao",
    "qianzheng",
    "liuxue",
    "xinfang",
    "jiehun",
    "daoyou",
    "gangaotongxingzheng",
    "jiaoshizige",
]
INITIALS = ["sb", "hz", "gjj", "jsz", "gz", "ylj", "fp", "lx", "xf", "jszg", "gatxz", "cjrz"]
PREFIXES = [
    "护",
    "社",
    "sh",
    "hu",
    "gj",
    "港澳",
    "养老",
    "律",
    "jia",
    "公证",
    "机动车",
    "gz",
    "l",
    "教师",
    "jsz",
    "办理",
]


def load_sources() -> list[dict]:
    rows = []
    with open(SHARED_DATA / "gd-service-items" / "gd_items_raw.jsonl", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            dept = r["DEPT_NAME"]
            for prefix in ("广东省", "广州市", "国家税务总局广东省"):
                if dept.startswith(prefix):
                    dept = dept[len(prefix) :]
                    break
            rows.append(
                {
                    "name": r["TASK_NAME"],
                    "short": "" if r.get("matter_short") in (None, "无") else r["matter_short"],
                    "materials": r.get("material_intro") or [],
                    "guide": (r.get("accept_standard") or "")[:240],
                    "dept": dept or "政务服务数据管理局",
                    "themes": r.get("theme_category") or [],
                    "objects": r.get("service_object_name") or [],
                    "online": r.get("ONLINECHECK") == "1",
                }
            )
    return rows


def load_regions() -> dict[int, list[tuple[str, str]]]:
    folder = SHARED_DATA / "admin-divisions"
    levels: dict[int, list[tuple[str, str]]] = {1: [("440000000000", "广东省")]}

    def read(name: str, level: int, width: int) -> None:
        with open(folder / name, encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row["code"].startswith("44"):
                    levels.setdefault(level, []).append((row["code"][:width].ljust(12, "0"), row["name"]))

    read("cities.csv", 2, 4)
    read("areas.csv", 3, 6)
    read("streets.csv", 4, 9)
    read("villages.csv", 5, 12)
    return levels


def generate(n: int, sources: list[dict], regions: dict[int, list[tuple[str, str]]]):
    from opencc import OpenCC

    from yiwang.search.documents import Action, SearchDocument

    s2t = OpenCC("s2t")
    rng = random.Random(SEED)
    levels = [lvl for lvl, _ in LEVEL_SHARE]
    weights = [w for _, w in LEVEL_SHARE]
    traditional: dict[str, str] = {}
    for i in range(n):
        src = sources[rng.randrange(len(sources))]
        level = rng.choices(levels, weights)[0]
        code, region_name = regions[level][rng.randrange(len(regions[level]))]
        title = src["name"] + QUALIFIERS[rng.randrange(len(QUALIFIERS))]
        if rng.random() < 0.05:
            title = traditional.get(title) or traditional.setdefault(title, s2t.convert(title))
        dept = region_name + (DEPT_SUFFIX[level] if level >= 4 else src["dept"])
        yield SearchDocument(
            kind="item",
            code=f"G{i:08d}",
            title=title,
            short_name=src["short"],
            materials=src["materials"],
            guide=src["guide"],
            department=dept,
            region_code=code,
            region_name=region_name,
            level=level,
            themes=src["themes"],
            service_objects=src["objects"],
            online=src["online"],
            actions=[Action("guide", "查看指南", f"/items/G{i:08d}/")],
            popularity=float(rng.random() < 0.01) * rng.randrange(1, 500),
        )


def timed(fn, items, repeat: int = 1) -> dict:
    """Wall-clock latency, and the calling thread's CPU time (load-independent: preemption excluded)."""
    samples = []
    cpu = []
    for _ in range(repeat):
        for item in items:
            c0 = time.thread_time()
            t0 = time.perf_counter()
            fn(item)
            samples.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
    cpu_ms = summarize_ms(cpu)
    return {**summarize_ms(samples), "cpu_p50_ms": cpu_ms["p50_ms"], "cpu_p99_ms": cpu_ms["p99_ms"]}


def process_tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its children (granian workers)."""
    import subprocess

    pids = [pid]
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    pids += [int(p) for p in out.split()]
    ticks = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def pg_compare(index_dir: Path, sources, regions, queries: dict[str, list[str]]) -> dict:
    """Load the same segmented text into PostgreSQL, GIN-index it and rank with ts_rank."""
    import psycopg

    from yiwang.search import text
    from yiwang.search.index import analyse

    out: dict = {}
    with fresh_postgres(f"yiwang_bench_search_{os.getpid()}") as url, psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE item (id bigint, title text, seg text)")
        started = time.perf_counter()
        with conn.cursor().copy("COPY item (id, title, seg) FROM STDIN") as copy:
            for i, doc in enumerate(generate(N, sources, regions)):
                f = analyse(doc)
                seg = " ".join(v for k, v in f.items() if k in ("title", "alias", "materials", "guide", "dept"))
                copy.write_row((i, doc.title, seg))
        out["copy_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        conn.execute("ALTER TABLE item ADD COLUMN tsv tsvector")
        conn.execute("UPDATE item SET tsv = to_tsvector('simple', seg)")
        out["tsvector_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        conn.execute("CREATE INDEX item_tsv ON item USING gin (tsv)")
        conn.execute("VACUUM ANALYZE item")
        out["gin_s"] = round(time.perf_counter() - started, 1)
        out["gin_mb"] = round(conn.execute("SELECT pg_relation_size('item_tsv')").fetchone()[0] / 1e6, 1)
        conn.execute("SET statement_timeout = '20s'")
        sql = (
            "SELECT title FROM item WHERE tsv @@ to_tsquery('simple', %s) "
            "ORDER BY ts_rank(tsv, to_tsquery('simple', %s)) DESC LIMIT 10"
        )
        for name, qs in queries.items():
            samples = []
            timeouts = 0
            for q in qs[:PG_QUERIES]:
                words = [w for w in text.cut(text.clean_query(q))]
                tsq = " & ".join(words) if words else "x"
                t0 = time.perf_counter()
                try:
                    conn.execute(sql, (tsq, tsq)).fetchall()
                except psycopg.errors.QueryCanceled:
                    timeouts += 1
                samples.append(time.perf_counter() - t0)
            out[name] = {**summarize_ms(samples), "timeouts": timeouts}
    return out


class LoadSampler:
    """The 1-minute load average every few seconds while the benchmark runs (the machine is shared)."""

    def __init__(self, every: float = 5.0):
        import threading

        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _run(self, every: float) -> None:
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(every)

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()

    def summary(self) -> dict:
        ordered = sorted(self.samples) or [float("nan")]
        return {
            "min": round(ordered[0], 2),
            "median": round(ordered[len(ordered) // 2], 2),
            "max": round(ordered[-1], 2),
            "samples": len(self.samples),
        }


def wait_idle(pid: int, *, timeout: float = 120.0) -> float:
    """Wait until the server's processes use (almost) no CPU for a second: every worker has warmed up."""
    started = time.perf_counter()
    before = process_tree_cpu_s(pid)
    while time.perf_counter() - started < timeout:
        time.sleep(1.0)
        now = process_tree_cpu_s(pid)
        if now - before < 0.1:
            break
        before = now
    return time.perf_counter() - started


def http_runs(port: int, server_pid: int, tmp: Path, mixes: dict[str, list[str]]) -> dict:
    """Closed-loop load per query mix and number of clients; server CPU per request over all of it."""
    runs: dict = {}
    cpu_total = 0.0
    requests_total = 0
    for mix, paths in mixes.items():
        runs[mix] = {}
        for clients in CLIENTS:
            cpu_before = process_tree_cpu_s(server_pid)
            summary = load_once(port, tmp, paths, clients=clients, duration=HTTP_SECONDS)
            cpu = process_tree_cpu_s(server_pid) - cpu_before
            summary["server_cpu_ms_per_request"] = round(cpu * 1000 / max(1, summary["requests"]), 2)
            runs[mix][f"clients_{clients}"] = summary
            if not mix.startswith("suggest"):
                cpu_total += cpu
                requests_total += summary["requests"]
            print(
                f"http {mix} clients={clients}: {summary['per_second']}/s p50 {summary['p50_ms']} "
                f"p95 {summary['p95_ms']} p99 {summary['p99_ms']} ms, server CPU "
                f"{summary['server_cpu_ms_per_request']} ms/request"
            )
    runs["server_cpu_ms_per_search"] = round(cpu_total * 1000 / max(1, requests_total), 2)
    return runs


def load_once(port: int, tmp: Path, paths: list[str], *, clients: int, duration: float) -> dict:
    """One closed-loop run of ``clients`` keep-alive connections over ``paths`` (cycled)."""
    if CLIENT == "wrk":
        from common import wrk_load

        listing = tmp / "paths.txt"
        listing.write_text("\n".join(paths) + "\n", encoding="utf-8")
        out = wrk_load(port, WRK_SCRIPT, duration=duration, connections=clients, env={"SEARCH_PATHS": str(listing)})
        n = out["requests"]
        ok = out["statuses"].get("200", 0)
        elapsed = out["duration_us"] / 1e6
        return {
            "requests": n,
            "ok": ok,
            "errors": n - ok,
            "per_second": round(ok / elapsed, 1),
            "statuses": out["statuses"],
            "elapsed_s": round(elapsed, 2),
            **{k: out[k] for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms")},
            "client_cpu_ms_per_request": round(out["client_cpu_s"] * 1000 / max(1, n), 3),
        }
    load = http_load(
        port,
        lambda w, i: ("GET", paths[(w * 7 + i) % len(paths)], None, {}),
        concurrency=clients,
        duration=duration,
        warmup=1,
    )
    return load.summary()


def prepared_index(tmp: Path, sources, regions) -> tuple[Path, dict]:
    """The index (built now, or reused from ``YIWANG_BENCH_SEARCH_DIR`` when it holds one of this size)."""
    from yiwang.search.index import SCHEMA_VERSION, IndexStore

    index_dir = tmp / "search-index"
    marker = tmp / "bench-index.json"
    wanted = {"items": N, "seed": SEED, "schema": SCHEMA_VERSION}
    if REUSE_DIR and marker.exists():
        saved = json.loads(marker.read_text(encoding="utf-8"))
        if {k: saved.get(k) for k in wanted} == wanted and IndexStore(index_dir).exists():
            print("reusing the index in", index_dir)
            build = {**saved["build"], "index_reused": True, "built_at": saved.get("built_at")}
            earlier = json.loads(RESULT_FILE.read_text(encoding="utf-8")) if RESULT_FILE.exists() else {}
            if earlier.get("items") == N and earlier.get("build") and not earlier["build"].get("index_reused"):
                # this run built nothing: the build figures are those of the last run that did (marked so)
                origin = {"from_run": earlier.get("date"), "commit": earlier["machine"]["commit"]}
                build = {**earlier["build"], **origin, "index_reused": True}
            return index_dir, build
    shutil.rmtree(index_dir, ignore_errors=True)
    started = time.perf_counter()
    for _ in generate(min(N, 200_000), sources, regions):
        pass
    gen_rate = min(N, 200_000) / (time.perf_counter() - started)
    store = IndexStore(index_dir)
    started = time.perf_counter()
    cpu_started = time.process_time()
    built = store.build(generate(N, sources, regions), num_threads=2, heap_size=512_000_000)
    wall = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started  # this process (its threads, the writer's): forked ones are apart
    generator_s = N / gen_rate
    size = sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file())
    import resource

    build = {
        "segments": store.stats()["segments"],
        # this process's peak resident memory so far: the generator, the analysis caches and the writer's heap
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        # the largest of the forked processes (the pipeline's indexing process, or the analysis worker)
        "children_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "wall_s": round(wall, 1),
        "generator_s_estimated": round(generator_s, 1),
        "items_per_s_including_generator": round(N / wall),
        "items_per_s": round(N / max(wall - generator_s, 1e-9)),
        "index_mb": round(size / 1e6, 1),
        # the analysis pass (with the generator in its feeder thread) and the indexing pass, wall seconds (a
        # pipelined build, decision 0028, indexes while it analyses: its "analysis" holds both, "indexing" the rest)
        "analysis_s": built["analysis_seconds"],
        "indexing_s": round(built["index_seconds"] - built["analysis_seconds"], 1),
        # processes, share, documents and CPU seconds per process of the analysis pass (decision 0023)
        "analysis": built["analysis"],
        "builder_cpu_s": round(cpu_s, 1),
    }
    if REUSE_DIR:
        built_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        marker.write_text(json.dumps({**wanted, "build": build, "built_at": built_at}), encoding="utf-8")
    return index_dir, build


def main() -> None:
    if not (SHARED_DATA / "gd-service-items" / "gd_items_raw.jsonl").exists():
        print("skipped: ../shared/data not present")
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    if REUSE_DIR:
        tmp = Path(REUSE_DIR)
        tmp.mkdir(parents=True, exist_ok=True)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="yiwang-search-scale-"))
    os.environ["YIWANG_VAR_DIR"] = str(tmp)
    import django

    django.setup()
    from yiwang.search.engine import SearchEngine
    from yiwang.search.index import IndexStore
    from yiwang.search.synonyms import SynonymTable, load_seed

    sources = load_sources()
    regions = load_regions()
    result: dict = {
        "items": N,
        "regions_by_level": {k: len(v) for k, v in regions.items()},
        "source_items": len(sources),
    }
    loads = LoadSampler().__enter__()
    try:
        index_dir, result["build"] = prepared_index(tmp, sources, regions)
        print("build", result["build"])
        store = IndexStore(index_dir)

        rng = random.Random(SEED)
        user_regions = [code for lvl in (3, 4, 5) for code, _ in rng.sample(regions[lvl], 20)]
        sets = {"one_word": ONE_WORD, "two_words": TWO_WORD, "pinyin": PINYIN, "initials": INITIALS}
        inproc: dict = {}
        if "inproc" in STAGES:
            table = SynonymTable(load_seed())
            engine = SearchEngine(store, synonyms=lambda: table)
            engine.representatives = REPRESENTATIVES != "0"
            result["representatives"] = engine.representatives
            started = time.perf_counter()
            engine.warm()
            result["lexicon_build_s"] = round(time.perf_counter() - started, 2)
            for qs in sets.values():  # warm the page cache
                for q in qs:
                    engine.search(q, region_code=user_regions[0])
            for name, qs in sets.items():
                cases = [(q, rng.choice(user_regions)) for q in qs * max(1, 400 // len(qs))]
                inproc[name] = timed(lambda c: engine.search(c[0], region_code=c[1]), cases)
            inproc["with_facets_one_word"] = timed(lambda q: engine.search(q, facets=True), ONE_WORD, repeat=4)
            inproc["api_like_with_region_and_facets"] = timed(
                lambda c: engine.search(c[0], region_code=c[1], facets=True),
                [(q, rng.choice(user_regions)) for q in [q for qs in sets.values() for q in qs] * 4],
            )
            inproc["suggest"] = timed(lambda p: engine.suggest(p), PREFIXES, repeat=60)
            totals = {}
            for q in ONE_WORD[:6]:
                r = engine.search(q)
                totals[q] = {"total": r.total, "exact": r.total_exact}
            result["in_process"] = inproc
            result["sample_totals"] = totals
            print("in-process", {k: v["p99_ms"] for k, v in inproc.items()})
            del engine

        # --- HTTP --------------------------------------------------------------------------------------
        if "http" in STAGES:
            env = bench_env(
                str(tmp),
                YIWANG_SEARCH_INDEX_DIR=str(index_dir),
                YIWANG_SEARCH_LOG_BATCH="500",
                YIWANG_SEARCH_RESULT_CACHE=RESULT_CACHE,
                YIWANG_SEARCH_REPRESENTATIVES=REPRESENTATIVES,
            )
            yiwang(env, "migrate", "-v0")
            from urllib.parse import urlencode

            rng = random.Random(SEED + 1)
            mixes: dict[str, list[str]] = {}
            for name, words in {**sets, "mixed": [q for qs in sets.values() for q in qs]}.items():
                mixes[name] = [
                    "/api/v1/search?" + urlencode({"q": words[i % len(words)], "region": rng.choice(user_regions)})
                    for i in range(max(len(words) * 8, 240))
                ]
            mixes["suggest"] = ["/api/v1/search/suggest?" + urlencode({"q": p}) for p in PREFIXES]
            if MIXES:
                mixes = {k: v for k, v in mixes.items() if k in MIXES}
            result["http"] = {
                "client": CLIENT,
                "server_result_cache": int(RESULT_CACHE),
                "server_representatives": REPRESENTATIVES != "0",
                "seconds_per_run": HTTP_SECONDS,
                "configs": {},
            }
            for workers, threads in SERVER_CONFIGS:
                port = free_port(PORT)
                with serve(env, port=port, workers=workers, threads=threads) as server:
                    # /healthz answers as soon as one worker is up: the other may still build its lexicon (seconds
                    # of CPU), and requests measured meanwhile stall behind it (decision 0020)
                    wait_idle(server["pid"])
                    time.sleep(SETTLE_SECONDS)
                    warm = mixes.get("mixed") or next(iter(mixes.values()))
                    load_once(port, tmp, warm, clients=max(CLIENTS), duration=3)  # every worker warm
                    runs = http_runs(port, server["pid"], tmp, mixes)
                    runs["server_rss_mb"] = process_tree_rss_mb(server["pid"])
                key = f"workers{workers}_threads{threads}"
                if key in result["http"]["configs"]:  # a configuration repeated (interleaved against load drift)
                    key += f"_run{sum(k.startswith(key) for k in result['http']['configs']) + 1}"
                result["http"]["configs"][key] = runs
            first = result["http"]["configs"][f"workers{SERVER_CONFIGS[0][0]}_threads{SERVER_CONFIGS[0][1]}"]
            # the headline figures: the first server configuration, the mixed queries, the most clients
            result["http"]["search"] = first.get("mixed", {}).get(f"clients_{max(CLIENTS)}")
            result["http"]["suggest"] = first.get("suggest", {}).get(f"clients_{max(CLIENTS)}")
            result["http"]["server_cpu_ms_per_search"] = first["server_cpu_ms_per_search"]
            result["http"]["server_rss_mb"] = first["server_rss_mb"]
            print("http (mixed, most clients)", result["http"]["search"])

        if "pg" in STAGES and inproc and not os.environ.get("YIWANG_BENCH_SEARCH_SKIP_PG"):
            pg = pg_compare(index_dir, sources, regions, {"one_word": ONE_WORD * 3, "two_words": TWO_WORD * 4})
            result["postgresql_fts"] = pg
            result["pg_vs_tantivy_p99_ratio"] = {
                name: round(pg[name]["p99_ms"] / max(inproc[name]["p99_ms"], 1e-6), 1)
                for name in ("one_word", "two_words")
            }
            print("pg", {k: v for k, v in pg.items() if not isinstance(v, dict)}, result["pg_vs_tantivy_p99_ratio"])
        elif inproc and (previous := RESULT_FILE).exists():  # keep the last PostgreSQL measurement (~15 minutes)
            earlier = json.loads(previous.read_text(encoding="utf-8"))
            if earlier.get("postgresql_fts") and earlier.get("items") == N:
                pg = earlier["postgresql_fts"]
                origin = {"from_run": pg.get("from_run") or earlier.get("date")}
                origin["commit"] = pg.get("commit") or earlier["machine"]["commit"]
                result["postgresql_fts"] = {**pg, **origin}
                result["pg_vs_tantivy_p99_ratio"] = {
                    name: round(pg[name]["p99_ms"] / max(inproc[name]["p99_ms"], 1e-6), 1)
                    for name in ("one_word", "two_words")
                }
        loads.__exit__()
        result["conditions"] = {"load_average_1min_during_run": loads.summary()}
        result["targets"] = {
            "build_items_per_s": 20000,
            "query_p99_ms_in_process": 20,
            "query_p99_ms_http": 30,
            "suggest_p99_ms": 5,
        }
        write_result(RESULT_NAME, result)
    finally:
        if not REUSE_DIR:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
