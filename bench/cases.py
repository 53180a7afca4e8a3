"""Cases (办件) benchmarks, on PostgreSQL and SQLite.

1. **Online submission through HTTP** — `yiwang serve` (granian), concurrent keep-alive clients each POSTing
   ``/api/v1/cases/apply`` (form + 3 small PDF files, a fresh ``Idempotency-Key`` each) as one of 64
   applicants: first at saturation (a closed loop of wrk connections: submissions/s, p50/p99), then on the same
   server paced at ``--rate`` (300/s) for 20 s, open loop, latency from each request's scheduled send time
   (``common.paced_load``; PostgreSQL only by default). Target on PostgreSQL: ≥ 300/s with p99 ≤ 100 ms.
2. **即将超期 / 已超期 queues over 1 million open cases** — rows bulk-generated (COPY on PostgreSQL,
   executemany on SQLite) with deadlines from the vectorised engine; then the first page (50 rows) of each
   queue in a district and a city supervisor's scope, the next page by keyset cursor, and the queue counts
   (capped): p50/p99. Target: page p99 ≤ 50 ms.
3. **Deadline recompute after a calendar change** for the same 1 million open cases (a 2026 day becomes a
   holiday; every case whose period spans 2026 is recomputed set-based: one GROUP BY over the deadline
   inputs, the per-case engine once per distinct tuple, one UPDATE … FROM a temporary table): wall-clock.
   Target ≤ 60 s.

Usage: ``python bench/run.py cases`` (or ``python bench/cases.py [--rows N] [--duration S] [--only http|queue]``).
Writes bench/results/cases.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

from common import (
    ROOT,
    Timer,
    bench_env,
    free_port,
    fresh_postgres,
    http_load,
    multipart,
    paced_load,
    postgres_backends_cpu_s,
    process_tree_cpu_s,
    process_tree_rss_mb,
    serve,
    summarize_ms,
    write_result,
    wrk_load,
    yiwang,
)

PDF = b"%PDF-1.4\n% yiwang bench material " + b"x" * 900 + b"\n%%EOF\n"
PORT = int(os.environ.get("YIWANG_BENCH_PORT", "8103"))
DB_PREFIX = os.environ.get("YIWANG_BENCH_DB_PREFIX", "yiwang_bench_cases")

SETUP_APPLICANTS = r"""
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
django.setup()
from yiwang.accounts import services
from yiwang.accounts.models import Person, User
from yiwang.catalog.models import ServiceItem
from yiwang.core import crypto
from yiwang.core.ids import make_resident_id, mask_resident_id, make_credit_code
from yiwang.demo.foundation import ENTERPRISE
def required_of(version):
    return [i for i, m in enumerate(version.data.materials) if m.necessity == "required" and m.format != "paper"]
candidates = ServiceItem.objects.filter(
    state="published", region__code__startswith="440106", current_version__is_online=True
).select_related("current_version").order_by("code")
item = next(i for i in candidates if len(required_of(i.current_version)) == 3)
tokens = []
for n in range(64):
    username = f"bench{n:03d}"
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username, None, kind="person", display_name=f"压测{n}")
        number = make_resident_id(f"440106199001{n % 28 + 1:02d}{n:03d}")
        Person.objects.create(user=user, real_name=f"压测{n}", id_hash=crypto.keyed_hash(number),
                              id_encrypted=crypto.encrypt(number), id_masked=mask_resident_id(number))
    _, plain = services.api_token_create(actor=user, name="bench")
    tokens.append(plain)
version = item.current_version
form = {}
for f in version.data.form.fields:
    if f.type == "credit_code": form[f.name] = make_credit_code(ENTERPRISE["credit17"])
    elif f.type == "id_number": form[f.name] = make_resident_id("44010619900307123")
    elif f.type == "phone": form[f.name] = "13800138000"
    elif f.type == "select": form[f.name] = f.options[0]
    elif f.type == "multiselect": form[f.name] = f.options[:1]
    elif f.type == "number": form[f.name] = "60"
    elif f.type == "date": form[f.name] = "2026-10-08"
    elif f.type == "checkbox": form[f.name] = True
    elif f.required: form[f.name] = "压测"
print(json.dumps({"tokens": tokens, "item": item.code, "name": item.name, "form": form,
                  "materials": required_of(version)}))
"""


WRK_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wrk", "cases_apply.lua")


def http_submissions(
    env: dict[str, str],
    *,
    duration: float,
    concurrency: int,
    workers: int,
    threads: int,
    client: str,
    rate: float = 0.0,
    rate_duration: float = 20.0,
    rate_connections: int = 64,
) -> dict:
    """Saturation: a closed loop of ``concurrency`` connections sending as fast as answers come back;
    ``client``: "wrk" (one C thread: the load generator costs the shared machine little) or "python"
    (``concurrency`` Python threads with http.client, the method of the first measurements).

    Then, when ``rate`` > 0, on the same server: **paced** (open loop) — ``rate`` applications a second for
    ``rate_duration`` seconds, latency from each one's scheduled send time (``common.paced_load``): the p99
    when the platform *takes* that many a second, rather than the p99 of a queue kept full. Returned under
    "paced", with its own CPU per request and load average."""
    yiwang(env, "migrate", "-v0")
    yiwang(env, "demo")
    out = subprocess.run(
        [sys.executable, "-c", SETUP_APPLICANTS], env=env, capture_output=True, text=True, check=True, cwd=ROOT
    )
    setup = json.loads(out.stdout.strip().splitlines()[-1])
    materials = setup["materials"]
    bodies = []
    for n in range(concurrency):
        body, ctype = multipart(
            {
                "item_code": setup["item"],
                "form": json.dumps(setup["form"], ensure_ascii=False),
                "materials": json.dumps(materials),
            },
            [("files", f"材料{i}.pdf", PDF) for i in materials],
        )
        bodies.append((body, ctype, setup["tokens"][n % len(setup["tokens"])]))
    run_id = uuid.uuid4().hex[:8]
    database = env.get("DATABASE_URL", "").rsplit("/", 1)[-1] if env.get("DATABASE_URL") else None

    def request(worker: int, i: int):
        body, ctype, token = bodies[worker]
        headers = {
            "Content-Type": ctype,
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": f"bench-{run_id}-{worker}-{i}",
        }
        return "POST", "/api/v1/cases/apply", body, headers

    port = free_port(PORT)
    with serve(env, port=port, workers=workers, threads=threads) as server:
        if client == "wrk":
            var = env["YIWANG_VAR_DIR"]
            body_file, token_file = os.path.join(var, "body.bin"), os.path.join(var, "tokens.txt")
            with open(body_file, "wb") as fh:
                fh.write(bodies[0][0])
            with open(token_file, "w") as fh:
                fh.write("\n".join(setup["tokens"]) + "\n")
            lua = {"CASES_BODY": body_file, "CASES_TOKENS": token_file, "CASES_CTYPE": bodies[0][1]}
            warm = wrk_load(
                port, WRK_SCRIPT, duration=3, connections=concurrency, env={**lua, "CASES_RUN": "w" + run_id}
            )
            cpu_before = process_tree_cpu_s(server["pid"])
            pg_before = postgres_backends_cpu_s(database)[0] if database else 0.0
            load = wrk_load(
                port, WRK_SCRIPT, duration=duration, connections=concurrency, env={**lua, "CASES_RUN": run_id}
            )
            cpu_used = process_tree_cpu_s(server["pid"]) - cpu_before
            pg_used = postgres_backends_cpu_s(database)[0] - pg_before if database else None
            rss = process_tree_rss_mb(server["pid"])
            n = load["requests"]
            elapsed = load["duration_us"] / 1e6
            ok = load["statuses"].get("201", 0)
            summary = {
                "requests": n,
                "ok": ok,
                "errors": n - ok,
                "per_second": round(ok / elapsed, 1),
                "statuses": load["statuses"],
                "socket_errors": load["errors"],
                "elapsed_s": round(elapsed, 2),
                **{k: load[k] for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms")},
                "warmup_requests": warm["requests"],
            }
            client_cpu = load["client_cpu_s"]
        else:
            cpu_before = process_tree_cpu_s(server["pid"])
            pg_before = postgres_backends_cpu_s(database)[0] if database else 0.0
            started = time.process_time()
            result = http_load(
                port, request, concurrency=concurrency, duration=duration, warmup=0.0, ok_statuses=(201,)
            )
            client_cpu = time.process_time() - started
            cpu_used = process_tree_cpu_s(server["pid"]) - cpu_before
            pg_used = postgres_backends_cpu_s(database)[0] - pg_before if database else None
            rss = process_tree_rss_mb(server["pid"])
            n = result.ok + result.errors
            summary = result.summary()
        paced = None
        if rate > 0:
            time.sleep(3)  # let the audit flusher and PostgreSQL settle after the saturation run
            paced = paced_run(
                server["pid"],
                port,
                database,
                bodies[0],
                setup["tokens"],
                run_id,
                rate=rate,
                duration=rate_duration,
                connections=rate_connections,
            )
    per_request = {
        "server": round(cpu_used * 1000 / n, 2),
        **({"postgres_backends": round(pg_used * 1000 / n, 2)} if pg_used is not None else {}),
        "client": round(client_cpu * 1000 / n, 2),
    }
    per_request["total"] = round(sum(per_request.values()), 2)
    return {
        "client": client,
        "concurrency": concurrency,
        "workers": workers,
        "threads": threads,
        "files_per_submission": len(materials),
        "bytes_per_submission": len(bodies[0][0]),
        **summary,
        # CPU per request of the granian workers, of the PostgreSQL backends serving the bench database and of
        # the load generator, over the measured run: what the machine pays per submission
        "server_cpu_ms_per_request": per_request["server"],
        "cpu_ms_per_request": per_request,
        "capacity_per_s_if_alone": round((os.cpu_count() or 1) * 1000 / per_request["total"]),
        "rss_mb": rss,
        **({"paced": paced} if paced else {}),
    }


def paced_run(
    server_pid: int,
    port: int,
    database: str | None,
    body: tuple[bytes, str, str],
    tokens: list[str],
    run_id: str,
    *,
    rate: float,
    duration: float,
    connections: int,
) -> dict:
    """``rate`` applications a second, open loop (see ``common.paced_load``), each with its own
    Idempotency-Key, the bench applicants' tokens in turn; CPU per request of server, PostgreSQL backends and
    the client, and the load average before and after."""
    payload, ctype, _ = body
    head = (
        f"POST /api/v1/cases/apply HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {ctype}\r\n"
        f"Content-Length: {len(payload)}\r\nAuthorization: Bearer "
    )
    heads = [(head + token + "\r\nIdempotency-Key: paced-" + run_id + "-").encode() for token in tokens]

    def make_request(i: int) -> bytes:
        return heads[i % len(heads)] + str(i).encode() + b"\r\n\r\n" + payload

    load_before = os.getloadavg()
    cpu_before = process_tree_cpu_s(server_pid)
    pg_before = postgres_backends_cpu_s(database)[0] if database else 0.0
    result = paced_load(port, make_request, rate=rate, duration=duration, connections=connections, ok_statuses=(201,))
    cpu_used = process_tree_cpu_s(server_pid) - cpu_before
    pg_used = postgres_backends_cpu_s(database)[0] - pg_before if database else None
    n = max(1, result["completed"])
    per_request = {
        "server": round(cpu_used * 1000 / n, 2),
        **({"postgres_backends": round(pg_used * 1000 / n, 2)} if pg_used is not None else {}),
        "client": round(result["client_cpu_s"] * 1000 / n, 3),
    }
    per_request["total"] = round(sum(per_request.values()), 2)
    elapsed = result["elapsed_s"] or 1.0
    return {
        "client": "python asyncio (open loop)",
        **result,
        "cpu_ms_per_request": per_request,
        # share of one core the load generator itself used over the run
        "client_cpu_share_of_a_core": round(result["client_cpu_s"] / elapsed, 3),
        # cores' worth of CPU the server and PostgreSQL used at this rate (the machine has 2)
        "server_and_postgres_cores": round((cpu_used + (pg_used or 0.0)) / elapsed, 2),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }


# --- 1 million open cases -----------------------------------------------------------------------------------

GENERATE = "generate"


def _django(database_url: str | None, var_dir: str) -> None:
    os.environ["YIWANG_VAR_DIR"] = var_dir
    os.environ["YIWANG_LOG_LEVEL"] = "WARNING"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    import django

    django.setup()


def generate(rows: int) -> dict:
    """Bulk-insert ``rows`` open cases with deadlines from the vectorised engine."""
    import datetime as dt

    import numpy as np
    from django.db import connection, transaction

    from yiwang.accounts.models import User
    from yiwang.cases import bulk
    from yiwang.cases.models import Case
    from yiwang.catalog.models import ServiceItem
    from yiwang.workdays.calendar import get_calendar

    rng = np.random.default_rng(20261001)
    items = list(
        ServiceItem.objects.filter(state="published", region__code__startswith="4401").select_related("current_version")
    )
    applicants = list(User.objects.filter(kind="person").values_list("pk", flat=True))[:50]
    today = dt.date.today()
    table = bulk.tables(get_calendar("440106000000"))
    regions = [
        "440106000000",
        "440104000000",
        "440103000000",
        "440105000000",
        "440111000000",
        "440112000000",
        "440113000000",
        "440114000000",
        "440115000000",
        "440117000000",
    ]
    states = np.array(["in_process"] * 17 + ["special", "review_supplement", "received"])
    limits = np.array([5, 10, 15, 20, 30, 60])
    columns = [
        "number",
        "item_id",
        "version_id",
        "item_name",
        "department_id",
        "region_code",
        "intake_region_code",
        "state",
        "channel",
        "applicant_id",
        "applicant_kind",
        "applicant_name",
        "applicant_id_masked",
        "filed_by_id",
        "contact_name",
        "contact_phone",
        "form_data",
        "current_step",
        "supplement_round",
        "return_note",
        "created_at",
        "updated_at",
        "submitted_at",
        "received_at",
        "accepted_at",
        "decision",
        "decision_reason",
        "delivery",
        "promised_limit",
        "promised_unit",
        "legal_limit",
        "legal_unit",
        "accepted_on",
        "extension_days",
        "promised_due",
        "legal_due",
        "yellow_on",
        "deadlines_provisional",
        "warning_level",
        "deemed_acceptance_on",
        "deemed_accepted",
    ]
    started = time.perf_counter()
    chunk = 100_000
    done = 0
    while done < rows:
        n = min(chunk, rows - done)
        accepted = np.datetime64(today, "D") - rng.integers(0, 120, n).astype("timedelta64[D]")
        promised = limits[rng.integers(0, len(limits), n)]
        legal = promised * 2
        ext = np.where(rng.random(n) < 0.05, 5, 0)
        batch = bulk.compute(
            table,
            accepted_on=accepted,
            promised_days=promised,
            promised_natural=np.zeros(n, bool),
            legal_days=legal,
            legal_natural=np.zeros(n, bool),
            extension_days=ext,
            today=today,
        )
        state = states[rng.integers(0, len(states), n)]
        region = np.array(regions)[rng.integers(0, len(regions), n)]
        item_ix = rng.integers(0, len(items), n)
        now = dt.datetime.now(dt.UTC)
        data = []
        for k in range(n):
            item = items[item_ix[k]]
            a = accepted[k].astype(object)
            in_clock = state[k] != "received"
            data.append(
                (
                    f"{region[k]}{a:%Y%m%d}{done + k:08d}",
                    item.pk,
                    item.current_version_id,
                    item.name[:300],
                    item.department_id,
                    region[k],
                    region[k],
                    state[k],
                    "online",
                    applicants[k % len(applicants)],
                    "person",
                    "压测",
                    "",
                    applicants[k % len(applicants)],
                    "",
                    "",
                    "{}",
                    1,
                    0,
                    "",
                    now,
                    now,
                    now,
                    now,
                    now if in_clock else None,
                    "",
                    "",
                    "",
                    int(promised[k]),
                    "workday",
                    int(legal[k]),
                    "workday",
                    a if in_clock else None,
                    int(ext[k]),
                    batch.promised_due[k].astype(object) if in_clock else None,
                    batch.legal_due[k].astype(object) if in_clock else None,
                    batch.yellow_on[k].astype(object) if in_clock else None,
                    bool(batch.provisional[k]),
                    int(batch.level[k]) if in_clock else 0,
                    a + dt.timedelta(days=7),
                    False,
                )
            )
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY cases_case ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in data:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO cases_case ({', '.join(columns)}) VALUES ({marks})",
                    [tuple(v.isoformat() if isinstance(v, dt.date | dt.datetime) else v for v in row) for row in data],
                )
        done += n
        print(f"  generated {done:,} cases", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"rows": Case.objects.count(), "generate_s": round(time.perf_counter() - started, 1)}


def queues(samples: int = 200) -> dict:
    from yiwang.accounts.models import User
    from yiwang.cases import selectors

    supervisor = User.objects.get(username="supervisor")  # 天河区 scope
    city = User.objects.get(username="citysup")  # 广州市 scope
    out = {}
    for label, user in (("district_supervisor", supervisor), ("city_supervisor", city)):
        for key in ("at_risk", "overdue"):
            times = []
            rows = 0
            for _ in range(samples):
                with Timer() as t:
                    rows = len(list(selectors.queue(user=user, key=key)[:50]))
                times.append(t.elapsed)
            out[f"{label}_{key}_page"] = {"rows": rows, **summarize_ms(times)}
            # keyset pagination: the page after the first one (cursor = last row's promised_due and id)
            first = list(selectors.queue(user=user, key=key)[:50])
            if first:
                after = (first[-1].promised_due, first[-1].pk)
                times = []
                for _ in range(samples // 4):
                    with Timer() as t:
                        rows = len(list(selectors.queue(user=user, key=key, after=after)[:50]))
                    times.append(t.elapsed)
                out[f"{label}_{key}_next_page"] = {"rows": rows, **summarize_ms(times)}
        times = []
        for _ in range(max(10, samples // 10)):
            with Timer() as t:
                counts = selectors.queue_counts(user=user)
            times.append(t.elapsed)
        out[f"{label}_all_counts"] = {"counts": counts, **summarize_ms(times)}
    return out


def recompute() -> dict:
    import datetime as dt

    from yiwang.cases import recompute as rc
    from yiwang.cases.models import Case
    from yiwang.core.actors import SystemActor
    from yiwang.workdays import calendar, services

    today = dt.date.today()
    holiday = today - dt.timedelta(days=20)
    while holiday.weekday() >= 5:
        holiday -= dt.timedelta(days=1)
    services.calendar_day_set(actor=SystemActor("bench"), date=holiday, is_workday=False, name="压测临时假日")
    calendar.invalidate()
    open_cases = rc.candidates(years=[holiday.year]).count()
    with Timer() as t:
        stats = rc.recompute_open_cases(years=[holiday.year], actor=SystemActor("bench"))
    sample = Case.objects.filter(state="in_process").order_by("pk").first()
    return {
        "changed_day": holiday.isoformat(),
        "open_cases_considered": open_cases,
        **stats,
        "seconds": round(t.elapsed, 1),
        "cases_per_s": round(stats["checked"] / t.elapsed),
        "sample_case_promised_due": str(sample.promised_due) if sample else None,
    }


def million(database_url: str | None, var_dir: str, rows: int) -> dict:
    """Run in a child process (a fresh Django per database)."""
    env = bench_env(var_dir, database_url)
    yiwang(env, "migrate", "-v0")
    yiwang(env, "demo")
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--rows", str(rows), "--var", var_dir, "--db", database_url or ""],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    sys.stdout.write(out.stderr[-3000:] if out.returncode else "")
    if out.returncode:
        raise RuntimeError(f"child failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(rows: int, var_dir: str, db: str) -> None:
    _django(db or None, var_dir)
    result = {"generate": generate(rows)}
    result["generate"]["load_average_after"] = os.getloadavg()
    result["queues"] = queues()
    result["queues"]["load_average_after"] = os.getloadavg()
    result["recompute"] = recompute()
    result["recompute"]["load_average_after"] = os.getloadavg()
    result["queues_after_recompute"] = {k: v for k, v in queues(samples=50).items() if k.endswith("_page")}
    print(json.dumps(result, ensure_ascii=False, default=str))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=int(os.environ.get("YIWANG_BENCH_CASES", "1000000")))
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="threads per worker (default: clients / workers, ≥ 4)")
    parser.add_argument("--client", choices=["wrk", "python"], default="wrk")
    parser.add_argument(
        "--rate", type=float, default=300.0, help="paced run after the saturation run: applications/s (0: none)"
    )
    parser.add_argument("--rate-duration", type=float, default=20.0, help="paced run: seconds")
    parser.add_argument("--rate-connections", type=int, default=64, help="paced run: keep-alive connections")
    parser.add_argument(
        "--rate-databases", default="postgresql", help="paced run on these databases (SQLite saturates below 300/s)"
    )
    parser.add_argument("--databases", default="postgresql,sqlite", help="HTTP part: comma-separated subset")
    parser.add_argument("--only", choices=["http", "queue"], default=None)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--var", default="")
    parser.add_argument("--db", default="")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:] if __name__ == "__main__" else [])
    if args.child:
        child(args.rows, args.var, args.db)
        return
    results: dict = {
        "targets": {"http_submissions_per_s": 300, "http_p99_ms": 100, "queue_page_p99_ms": 50, "recompute_1m_s": 60}
    }
    results["load_average_at_start"] = os.getloadavg()
    previous = ROOT / "bench" / "results" / "cases.json"
    if args.only and previous.exists():
        old = json.loads(previous.read_text())
        results.update({k: v for k, v in old.items() if k in ("http", "million")})
    http_args = {
        "duration": args.duration,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "threads": args.threads or max(4, args.concurrency // args.workers),
        "client": args.client,
    }

    def paced_args(database: str) -> dict:
        rate = args.rate if database in args.rate_databases.split(",") else 0.0
        return {"rate": rate, "rate_duration": args.rate_duration, "rate_connections": args.rate_connections}

    if args.only in (None, "http"):
        previous_http = results.get("http", {})
        results["http"] = {}
        databases = args.databases.split(",")
        if "postgresql" in databases:
            with fresh_postgres(f"{DB_PREFIX}_http_{os.getpid()}") as url, tempfile.TemporaryDirectory() as tmp:
                print("HTTP submissions on PostgreSQL …", flush=True)
                results["http"]["postgresql"] = http_submissions(
                    bench_env(tmp, url), **http_args, **paced_args("postgresql")
                )
                results["http"]["postgresql"]["load_average_after"] = os.getloadavg()
                print(results["http"]["postgresql"], flush=True)
        if "sqlite" in databases:
            with tempfile.TemporaryDirectory() as tmp:
                print("HTTP submissions on SQLite …", flush=True)
                results["http"]["sqlite"] = http_submissions(bench_env(tmp), **http_args, **paced_args("sqlite"))
                results["http"]["sqlite"]["load_average_after"] = os.getloadavg()
                print(results["http"]["sqlite"], flush=True)
        for name in ("postgresql", "sqlite"):  # a database not measured this time keeps its last figures
            if name not in results["http"] and name in previous_http:
                results["http"][name] = previous_http[name]
        write_result("cases", results)  # keep what is measured if a later stage is stopped
    if args.only in (None, "queue"):
        results["million"] = {"rows": args.rows}
        with fresh_postgres(f"{DB_PREFIX}_1m_{os.getpid()}") as url, tempfile.TemporaryDirectory() as tmp:
            print(f"{args.rows:,} open cases on PostgreSQL …", flush=True)
            results["million"]["postgresql"] = million(url, tmp, args.rows)
            results["million"]["postgresql"]["load_average_after"] = os.getloadavg()
            print(json.dumps(results["million"]["postgresql"], ensure_ascii=False)[:1500], flush=True)
        write_result("cases", results)
        with tempfile.TemporaryDirectory() as tmp:
            print(f"{args.rows:,} open cases on SQLite …", flush=True)
            results["million"]["sqlite"] = million(None, tmp, args.rows)
            results["million"]["sqlite"]["load_average_after"] = os.getloadavg()
            print(json.dumps(results["million"]["sqlite"], ensure_ascii=False)[:1500], flush=True)
    results["load_average_at_end"] = os.getloadavg()
    results["note"] = (
        "Measured on the shared 2-core development machine while other sessions ran tests and benchmarks "
        "(see load_average_*); a quiet machine gives better numbers."
    )
    write_result("cases", results)


if __name__ == "__main__":
    main()
