"""好差评 on PostgreSQL: rating submissions over HTTP, and the monthly report over 10 million ratings.

1. **Submissions** — `yiwang serve` (granian) on a fresh PostgreSQL database; tens of thousands of window
   contacts with invitations are prepared; wrk (bench/wrk/ratings_submit.lua, keep-alive connections)
   POSTs ``/api/v1/ratings/invitations/<token>/rating`` once per token (95 % good, 5 % 差评 with a reason,
   which also opens a rectification), every request from a different device. Each request is the whole
   action (decision 0021: one prepared statement for a good rating; decisions 0008, 0014: for a 差评 two
   statements and its rectification in one transaction).
   Reported: ratings/s, latency, and CPU per request of the server, the PostgreSQL backends and wrk;
   then a consistency check (rollups of every grain, rectifications, 追评 invitations, audit chain).
   Target ≥ 1,000/s.
2. **Monthly report** — 10,000,000 first ratings of one month at province scale (2,000 departments,
   1,000 halls, 10,000 windows, 20,000 staff, 3 items per staff member) are written with COPY, the
   rollups rebuilt with ``rollups.rebuild()`` (timed), and the reports timed in-process and over HTTP.
   The prepared database (``yiwang_ratings_report``) is kept and reused by later runs with the same
   parameters (``prepared_database`` in the result). Target ≤ 1 s.

Run: ``python bench/run.py ratings`` (env ``YIWANG_BENCH_RATINGS=1000000`` for a smaller second part).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
import tempfile
import time

from common import (
    Timer,
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

SECRET = "bench-ratings-secret-key-not-for-production"
PORT = int(os.environ.get("YIWANG_BENCH_PORT", "8105"))
TOTAL = int(os.environ.get("YIWANG_BENCH_RATINGS", "10000000"))
MONTH = dt.date(2026, 3, 1)
DURATION = float(os.environ.get("YIWANG_BENCH_DURATION", "20"))
SCALE = {"departments": 2000, "halls": 1000, "windows": 10000, "staff": 20000, "items_per_staff": 3}
REPORT_DB = os.environ.get("YIWANG_BENCH_REPORT_DB", "yiwang_ratings_report")


def _django(url: str, var: str) -> None:
    os.environ.update({"YIWANG_SECRET_KEY": SECRET, "YIWANG_VAR_DIR": var, "YIWANG_LOG_LEVEL": "WARNING"})
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from common import setup_django

    setup_django(url)


# --- part 1: submissions -----------------------------------------------------------------------------------
def _directory(n_departments: int, n_halls: int, windows_per_hall: int, staff_per_window: int, tag: str):
    """Regions, departments, halls, windows (one department each) and staff, in bulk."""
    from yiwang.accounts.models import StaffMembership, User
    from yiwang.directory.models import Department, Region, ServiceHall, Window

    province, _ = Region.objects.get_or_create(code="440000000000", defaults={"name": "广东省", "level": 1})
    cities = []
    for c in range(21):
        code = f"44{c + 1:02d}00000000"
        city, _ = Region.objects.get_or_create(
            code=code, defaults={"name": f"市{c + 1}", "level": 2, "parent": province}
        )
        cities.append(city)
    counties = []
    for i in range(120):
        city = cities[i % 21]
        code = f"{city.code[:4]}{i // 21 + 1:02d}000000"
        county, _ = Region.objects.get_or_create(code=code, defaults={"name": f"县{i}", "level": 3, "parent": city})
        counties.append(county)
    departments = Department.objects.bulk_create(
        [Department(name=f"{tag}部门{i}", region=counties[i % len(counties)]) for i in range(n_departments)]
    )
    halls = ServiceHall.objects.bulk_create(
        [
            ServiceHall(
                name=f"{tag}大厅{i}", kind="center", region=counties[i % len(counties)], address="-", opening_hours="-"
            )
            for i in range(n_halls)
        ]
    )
    windows = Window.objects.bulk_create(
        [
            Window(hall=h, number=str(n + 1), name="综合窗口", kind="comprehensive")
            for h in halls
            for n in range(windows_per_hall)
        ]
    )
    # each window serves one department of the hall's county
    by_region: dict[str, list] = {}
    for d in departments:
        by_region.setdefault(d.region_id, []).append(d)
    window_dept = {}
    through = Window.departments.through
    links = []
    for i, w in enumerate(windows):
        choices = by_region.get(halls[i // windows_per_hall].region_id) or departments
        dept = choices[i % len(choices)]
        window_dept[w.pk] = dept
        links.append(through(window_id=w.pk, department_id=dept.pk))
    through.objects.bulk_create(links, batch_size=5000)
    users = User.objects.bulk_create(
        [
            User(username=f"{tag}s{i}", kind="staff", display_name=f"工作人员{i}", password="!")
            for i in range(len(windows) * staff_per_window)
        ],
        batch_size=5000,
    )
    StaffMembership.objects.bulk_create(
        [
            StaffMembership(
                user=u,
                department=window_dept[windows[i // staff_per_window].pk],
                role="window_clerk",
                region_id=window_dept[windows[i // staff_per_window].pk].region_id,
            )
            for i, u in enumerate(users)
        ],
        batch_size=5000,
    )
    return departments, halls, windows, window_dept, users


def _invitations(n: int) -> list[str]:
    from django.utils import timezone

    from yiwang.ratings import tokens
    from yiwang.ratings.models import RatingInvitation, ServiceContact

    _, halls, windows, window_dept, users = _directory(50, 20, 10, 2, "http")
    hall_region = {h.pk: h.region_id for h in halls}
    now = timezone.now()
    contacts = []
    for i in range(n):
        w = windows[i % len(windows)]
        contacts.append(
            ServiceContact(
                window=w,
                hall_id=w.hall_id,
                department=window_dept[w.pk],
                staff=users[(i % len(windows)) * 2],
                item_code=f"ITEM{i % 7}",
                item_name=f"事项{i % 7}",
                region_code=hall_region[w.hall_id],
                started_at=now - dt.timedelta(minutes=20),
                ended_at=now - dt.timedelta(minutes=5),
            )
        )
    contacts = ServiceContact.objects.bulk_create(contacts, batch_size=5000)
    invitations = RatingInvitation.objects.bulk_create(
        [
            RatingInvitation(
                target_kind="contact",
                target_id=str(c.pk),
                nonce=tokens.new_nonce(),
                region_code=c.region_code,
                department_id=c.department_id,
                hall_id=c.hall_id,
                window_id=c.window_id,
                staff_id=c.staff_id,
                item_code=c.item_code,
                served_at=c.ended_at,
                expires_at=now + dt.timedelta(days=30),
            )
            for c in contacts
        ],
        batch_size=5000,
    )
    return [tokens.make(inv.pk, inv.nonce) for inv in invitations]


def _tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its children (the granian workers)."""
    import subprocess

    pids = [pid]
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    pids += [int(p) for p in out.split()]
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            pass
    return total


def _postgres_backends_cpu_s(database: str) -> tuple[float, int]:
    """CPU seconds of the PostgreSQL backends serving ``database`` (not this process's own), and how many."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database])
        pids = [row[0] for row in cursor.fetchall()]
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            pass
    return total, len(pids)


WRK_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wrk", "ratings_submit.lua")


def submissions(url: str, var: str, env: dict) -> dict:
    """Closed-loop load from wrk (one C thread, keep-alive connections): CPU of the server, of PostgreSQL's
    backends and of the client per request, so the figure can be read independently of other load."""
    from common import wrk_load

    tokens = _invitations(int(os.environ.get("YIWANG_BENCH_INVITATIONS", "90000")))
    from django.db import connections

    connections.close_all()
    token_file = os.path.join(var, "tokens.txt")
    with open(token_file, "w") as fh:
        fh.write("\n".join(tokens) + "\n")
    database = url.rsplit("/", 1)[1]
    offset = 0
    results = {}
    # workers x threads x wrk connections; YIWANG_BENCH_CONFIGS="2x2x8,3x8x32" overrides. Cores + 1 workers help
    # the hotline intake (which waits on PostgreSQL); here the cores are already busy and a third worker does not.
    spec = os.environ.get("YIWANG_BENCH_CONFIGS", "2x4x16,3x4x16,3x8x32")
    configs = [tuple(int(n) for n in c.split("x")) for c in spec.split(",") if c]
    for workers, threads, concurrency in configs:
        port = free_port(PORT)
        with serve(env, port=port, workers=workers, threads=threads) as server:
            lua_env = {"RATINGS_TOKENS": token_file, "RATINGS_THREADS": "1"}
            warm = wrk_load(
                server["port"],
                WRK_SCRIPT,
                duration=3,
                connections=concurrency,
                env={**lua_env, "RATINGS_OFFSET": str(offset)},
            )
            offset += warm["max_per_thread"]
            cpu_before, (pg_before, _) = _tree_cpu_s(server["pid"]), _postgres_backends_cpu_s(database)
            load = wrk_load(
                server["port"],
                WRK_SCRIPT,
                duration=DURATION,
                connections=concurrency,
                env={**lua_env, "RATINGS_OFFSET": str(offset)},
            )
            offset += load["max_per_thread"]
            cpu = _tree_cpu_s(server["pid"]) - cpu_before
            pg_after, backends = _postgres_backends_cpu_s(database)
            rss = process_tree_rss_mb(server["pid"])
        n = load["requests"]
        elapsed = load["duration_us"] / 1e6
        ok = load["statuses"].get("201", 0)
        per_request = {
            "server": round(cpu * 1000 / n, 3),
            "postgres_backends": round((pg_after - pg_before) * 1000 / n, 3),
            "client_wrk": round(load["client_cpu_s"] * 1000 / n, 3),
        }
        per_request["total"] = round(sum(per_request.values()), 3)
        key = f"workers{workers}_threads{threads}_clients{concurrency}"
        results[key] = {
            "requests": n,
            "ok": ok,
            "errors": n - ok,
            "per_second": round(ok / elapsed, 1),
            "statuses": load["statuses"],
            "socket_errors": load["errors"],
            "elapsed_s": round(elapsed, 2),
            **{k: load[k] for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms")},
            "server_rss_mb": rss,
            "server_cpu_ms_per_request": per_request["server"],
            # CPU per request of the application server, of the PostgreSQL backends serving the bench
            # database (WAL writer, checkpointer not counted) and of wrk: what the machine pays per rating
            "cpu_ms_per_request": per_request,
            "postgres_backends": backends,
            # with the machine's cores to itself, at this CPU cost per request
            "capacity_per_s_if_alone": round((os.cpu_count() or 1) * 1000 / per_request["total"]),
        }
        print(
            f"submissions {key}: {results[key]['per_second']}/s ok, p50 {results[key]['p50_ms']} ms, "
            f"p99 {results[key]['p99_ms']} ms, errors {results[key]['errors']} {results[key]['statuses']}, "
            f"CPU ms/request {per_request}"
        )
        if offset + 30000 > len(tokens):
            break
    from yiwang.core import audit
    from yiwang.core.models import AuditEvent
    from yiwang.ratings.models import PendingRatingRollup, Rating, RatingInvitation, RatingRollup, Rectification

    rated = Rating.objects.filter(kind="first").count()
    left_pending = audit.pending_count()  # the tail of the last burst, chained by the next flush
    audit.flush_pending()
    from yiwang.ratings import rollups

    left_queued = PendingRatingRollup.objects.count()  # the tail of the last burst, added by the next flush
    rollups.flush()
    from django.db.models import Sum

    grains = dict(RatingRollup.objects.values_list("grain").annotate(n=Sum("rated")).order_by())
    check = {
        "ratings": rated,
        "bad_ratings": Rating.objects.filter(kind="first", level__lte=2).count(),
        "rectifications": Rectification.objects.count(),
        "follow_up_invitations": RatingInvitation.objects.filter(purpose="follow_up").count(),
        "rollup_month_rated": grains.get("m", 0),
        "rollup_rated_by_grain": grains,
        "audit_events_for_ratings": AuditEvent.objects.filter(action="ratings.rating.submit").count(),
        "audit_pending_after_load": left_pending,
        "rollup_queued_after_load": left_queued,
        "audit_chain_ok": audit.verify().ok,
    }
    check["consistent"] = bool(
        check["audit_chain_ok"]
        and check["rectifications"] == check["bad_ratings"]
        and check["follow_up_invitations"] == rated
        and check["audit_events_for_ratings"] == rated
        and all(v == rated for v in grains.values())
    )
    print(f"consistency: {check}")
    best = max(results.values(), key=lambda r: r["per_second"])
    return {"configs": results, "best_per_second": best["per_second"], "consistency": check}


# --- part 2: the monthly report over TOTAL ratings ---------------------------------------------------------
LEVELS = [5] * 70 + [4] * 18 + [3] * 7 + [2] * 3 + [1] * 2
CHANNELS = ["evaluator"] * 55 + ["sms"] * 25 + ["qr"] * 15 + ["portal"] * 5
REASONS = {4: '["p_efficient"]', 3: '["s_wait"]', 2: '["b_wait"]', 1: '["b_attitude"]'}


def _copy_ratings(total: int) -> float:
    """COPY ``total`` first ratings of MONTH; returns seconds."""
    from django.db import connection

    _, _, windows, window_dept, users = _directory(
        SCALE["departments"], SCALE["halls"], SCALE["windows"] // SCALE["halls"], 2, "prov"
    )
    rng = random.Random(7)
    staff = [
        (
            u.pk,
            windows[i // 2].pk,
            windows[i // 2].hall_id,
            window_dept[windows[i // 2].pk].pk,
            window_dept[windows[i // 2].pk].region_id,
            [f"I{window_dept[windows[i // 2].pk].pk}-{(i * 3 + k) % 10}" for k in range(3)],
        )
        for i, u in enumerate(users)
    ]
    columns = (
        "target_kind, target_id, target_label, kind, level, channel, mode, indicators, reasons, text, "
        "is_default, anonymous, evaluator_name, evaluator_phone_encrypted, phone_hash, device_hash, "
        "region_code, department_id, hall_id, window_id, staff_id, item_code, item_name, service_state, "
        "served_at, rated_at, rated_on, excluded_reason"
    )
    start = dt.datetime(MONTH.year, MONTH.month, 1, tzinfo=dt.UTC) - dt.timedelta(hours=8)
    # rated at a minute of the month: the text of each minute once, not ten million times
    minutes = []
    for m in range(31 * 1440):
        at = start + dt.timedelta(minutes=m)
        minutes.append(
            f"{at - dt.timedelta(minutes=5):%Y-%m-%d %H:%M:00+00}\t{at:%Y-%m-%d %H:%M:00+00}\t"
            f"{(at + dt.timedelta(hours=8)).date()}"
        )
    prefixes = [
        (f"\t{region}\t{d_pk}\t{h_pk}\t{w_pk}\t{s_pk}\t", items) for s_pk, w_pk, h_pk, d_pk, region, items in staff
    ]
    levels = [(lv, f"\t{lv}\t", REASONS.get(lv, "[]")) for lv in LEVELS]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        # Bulk load: session-only settings, secondary indexes and FK triggers off during COPY, then rebuilt.
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'ratings_rating' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype = 'p')"
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'ratings_rating'::regclass AND contype IN ('u', 'c')"
        )
        constraints = cursor.fetchall()
        for name, _ in constraints:
            cursor.execute(f'ALTER TABLE ratings_rating DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        cursor.execute("ALTER TABLE ratings_rating DISABLE TRIGGER ALL")
        with raw.copy(f"COPY ratings_rating ({columns}) FROM STDIN") as copy:
            chunk = []
            rand = rng.random
            n_staff, n_minutes = len(prefixes), len(minutes)
            for i in range(total):
                prefix, items = prefixes[int(rand() * n_staff)]
                _, level_text, reasons = levels[int(rand() * 100)]
                item = items[int(rand() * 3)]
                chunk.append(
                    f"contact\tb{i}\t窗口服务\tfirst{level_text}{CHANNELS[int(rand() * 100)]}\tonsite\t{{}}\t"
                    f"{reasons}\t\tf\tf\t\t\t\t{prefix}{item}\t事项{item}\tended\t"
                    f"{minutes[int(rand() * n_minutes)]}\t\n"
                )
                if len(chunk) == 50_000:
                    copy.write("".join(chunk))
                    chunk = []
            copy.write("".join(chunk))
        loaded = time.perf_counter()
        cursor.execute("ALTER TABLE ratings_rating ENABLE TRIGGER ALL")
        for name, definition in constraints:
            cursor.execute(f'ALTER TABLE ratings_rating ADD CONSTRAINT "{name}" {definition}')
        for name, definition in indexes:
            if not any(name == c for c, _ in constraints):
                cursor.execute(definition)
        cursor.execute("ANALYZE ratings_rating")
    print(f"  COPY {loaded - started:.0f} s, indexes and constraints {time.perf_counter() - loaded:.0f} s")
    return time.perf_counter() - started


def _rateable_and_rectified() -> None:
    """Rateable services (5 % unrated) and closed rectifications for every 差评, derived in SQL."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO ratings_servicerollup
                (grain, period, region_code, department_id, hall_id, window_id, staff_id, item_code,
                 target_kind, served)
            SELECT grain, period, region_code, department_id, hall_id, window_id, staff_id, item_code, 'contact',
                   CEIL(SUM(rated) * 1.05)
            FROM ratings_ratingrollup WHERE period >= %s
            GROUP BY grain, period, region_code, department_id, hall_id, window_id, staff_id, item_code
            ON CONFLICT (grain, period, region_code, department_id, hall_id, window_id, staff_id, item_code,
                         target_kind) DO UPDATE SET served = excluded.served
            """,
            [MONTH],
        )
        cursor.execute(
            "UPDATE ratings_ratingrollup SET rectified = rated, revisited = rated WHERE level <= 2 AND period >= %s",
            [MONTH],
        )
        cursor.execute("ANALYZE")


def _time(fn, repeat: int = 5) -> dict:
    samples = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - t0)
    return {**summarize_ms(samples), "first_ms": round(samples[0] * 1000, 1), "result": result}


PREPARED_TABLE = "bench_ratings_prepared"


def _parameters() -> dict:
    """What the prepared report database depends on: a reused one must have been made with exactly these."""
    from yiwang.ratings import rollups

    return {
        "ratings": TOTAL,
        "month": f"{MONTH:%Y-%m}",
        "scale": SCALE,
        "seed": 7,
        "levels": LEVELS,
        "channels": CHANNELS,
        "rollup_grains": repr(rollups.SUMMARIES),
    }


def _prepared() -> dict | None:
    """The preparation record of the report database when it matches :func:`_parameters`, else None."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [PREPARED_TABLE])
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(f"SELECT info FROM {PREPARED_TABLE} ORDER BY prepared_at DESC LIMIT 1")
        row = cursor.fetchone()
    info = row[0] if row else None
    if isinstance(info, str):
        info = json.loads(info)
    if not info or info.get("parameters") != json.loads(json.dumps(_parameters())):
        return None
    return info


def _prepare() -> dict:
    """COPY the ratings, rebuild the rollups (timed) and derive rateable services and rectifications."""
    from django.db import connection

    from yiwang.ratings import rollups

    copy_s = _copy_ratings(TOTAL)
    print(f"COPY {TOTAL:,} ratings: {copy_s:.0f} s ({TOTAL / copy_s:,.0f} rows/s)")
    with connection.cursor() as cursor:  # this session only: room for the big GROUP BYs
        cursor.execute("SET work_mem = '256MB'")
        cursor.execute("SET synchronous_commit = off")
    with Timer() as rebuild:
        counts = rollups.rebuild()
    print(f"rollups.rebuild(): {rebuild.elapsed:.0f} s, rows {counts}")
    _rateable_and_rectified()
    info = {
        "parameters": _parameters(),
        "prepared_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "copy_s": round(copy_s, 1),
        "copy_rows_per_s": round(TOTAL / copy_s),
        "rebuild_s": round(rebuild.elapsed, 1),
        "rebuild_rows": counts,
    }
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {PREPARED_TABLE} (prepared_at timestamptz, info jsonb)")
        cursor.execute(f"INSERT INTO {PREPARED_TABLE} VALUES (now(), %s)", [json.dumps(info)])
    return info


def monthly_report(url: str, var: str, env: dict) -> dict:
    from django.db import connection

    from yiwang.accounts import services as accounts
    from yiwang.accounts.models import User
    from yiwang.core.actors import SystemActor
    from yiwang.ratings import exports, reports
    from yiwang.ratings.models import RatingRollup, ReasonRollup, ServiceRollup
    from yiwang.ratings.reports import Filters, Period

    info = _prepared()
    reused = info is not None
    if reused:
        print(f"report database prepared at {info['prepared_at']} with the same parameters: reused")
    else:
        info = _prepare()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        db_size = cursor.fetchone()[0]
    month_rows = {g: RatingRollup.objects.filter(grain=g, period=MONTH).count() for g in ("m", "md")}
    system = SystemActor("bench")
    period = Period.month(MONTH.year, MONTH.month)
    some = RatingRollup.objects.filter(grain="m", period=MONTH).values("department_id", "region_code").first()
    city = some["region_code"][:4]

    def build(by, filters=None, p=period):
        r = reports.build(system, period=p, by=by, filters=filters or Filters())
        return {
            "rows": len(r.rows),
            "ratings": r.total.total,
            "bad": r.total.bad,
            "good_rate": round(r.total.good_rate or 0, 4),
            "rectified_rate": r.total.rectified_rate,
        }

    timings = {
        "province_month_by_department": _time(lambda: build("department")),
        "province_month_by_channel": _time(lambda: build("channel")),
        "city_month_by_hall": _time(lambda: build("hall", Filters(region_code=city))),
        "department_month_by_staff": _time(lambda: build("staff", Filters(department_id=some["department_id"]))),
        "province_month_by_item": _time(lambda: build("item"), repeat=3),
        "province_month_by_staff": _time(lambda: build("staff"), repeat=3),
        "province_days_1_to_15_by_department": _time(
            lambda: build("department", p=Period(MONTH, MONTH.replace(day=15)))
        ),
        "province_month_xlsx_by_department": _time(
            lambda: len(exports.xlsx(reports.build(system, period=period, by="department"))), repeat=3
        ),
    }
    for name, t in timings.items():
        print(f"{name:40s} p50 {t['p50_ms']:8.1f} ms  max {t['max_ms']:8.1f} ms  first {t['first_ms']:8.1f} ms")
    # over HTTP, as a supervisor's browser or a program would ask
    admin = User.objects.filter(username="bench-admin").first() or User.objects.create_superuser("bench-admin", None)
    _, token = accounts.api_token_create(actor=admin, name="bench")
    connections_close()
    port = free_port(PORT)
    with serve(env, port=port, workers=2, threads=4) as server:
        path = f"/api/v1/ratings/reports?month={MONTH:%Y-%m}&by=department"

        def request(worker: int, i: int):
            return ("GET", path, None, {"Authorization": f"Bearer {token}"})

        http = http_load(server["port"], request, concurrency=2, duration=10.0, warmup=2.0)
    timings["http_province_month_by_department"] = http.summary()
    print(
        f"HTTP /ratings/reports province by department: p50 {http.summary()['p50_ms']} ms, "
        f"p99 {http.summary()['p99_ms']} ms"
    )
    return {
        "ratings": TOTAL,
        "month": f"{MONTH:%Y-%m}",
        "scale": SCALE,
        # The 10M-row database takes ~20 min to prepare: a database prepared earlier with the same
        # parameters (and rollup grains) is reused; copy/rebuild times are those of its preparation.
        "prepared_database": {"reused": reused, "prepared_at": info["prepared_at"]},
        "copy_s": info["copy_s"],
        "copy_rows_per_s": info["copy_rows_per_s"],
        "rebuild_s": info["rebuild_s"],
        "rollup_rows": {
            **info["rebuild_rows"],
            "services_total": ServiceRollup.objects.count(),
            "reasons_total": ReasonRollup.objects.count(),
            "month_rows": month_rows,
        },
        "database_size": db_size,
        "timings": {k: {kk: vv for kk, vv in v.items()} for k, v in timings.items()},
    }


def connections_close() -> None:
    from django.db import connections

    connections.close_all()


def _use_database(url: str) -> None:
    """Point the in-process Django connection at another database of the same server."""
    from django.db import connections

    connections.close_all()
    connections["default"].settings_dict["NAME"] = url.rsplit("/", 1)[1]


def _report_database() -> str:
    """The report database, kept between runs (created and migrated when missing)."""
    import subprocess

    from common import PG_URL

    admin = f"{PG_URL}/postgres"
    exists = subprocess.run(
        ["psql", admin, "-Atc", f"SELECT 1 FROM pg_database WHERE datname = '{REPORT_DB}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {REPORT_DB}"], check=True)
    return f"{PG_URL}/{REPORT_DB}"


def main() -> None:
    load_at_start = os.getloadavg()[0]
    parts = os.environ.get("YIWANG_BENCH_PARTS", "submissions,report").split(",")
    previous = {}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "ratings.json")
    if os.path.exists(path):  # a run of one part keeps the other part's last result
        with open(path, encoding="utf-8") as fh:
            previous = json.load(fh)
    part1, part2 = previous.get("submissions"), previous.get("monthly_report")
    with tempfile.TemporaryDirectory() as var:
        if "submissions" in parts:
            with fresh_postgres(os.environ.get("YIWANG_BENCH_SUBMISSIONS_DB", "yiwang_ratings_bench")) as url:
                env = bench_env(var, url, YIWANG_SECRET_KEY=SECRET, YIWANG_RATINGS_MAX_PER_DEVICE_PER_HOUR="1000")
                yiwang(env, "migrate", "-v0")
                _django(url, var)
                part1 = submissions(url, var, env)
                connections_close()
        if "report" in parts:
            url = _report_database()
            env = bench_env(var, url, YIWANG_SECRET_KEY=SECRET)
            yiwang(env, "migrate", "-v0")
            if "django" in sys.modules:
                _use_database(url)
            else:
                _django(url, var)
            if _prepared() is None:  # missing, half-made or made with other parameters: start afresh
                connections_close()
                with fresh_postgres(REPORT_DB, keep=True) as url:
                    yiwang(env, "migrate", "-v0")
                _use_database(url)
            part2 = monthly_report(url, var, env)
            connections_close()
    write_result(
        "ratings",
        {
            "database": "postgresql",
            "targets": {"submissions_per_s": 1000, "monthly_report_s": 1.0},
            "load_average_at_start": load_at_start,
            "note": "2 shared cores; other benchmarks and test suites ran on the machine at the same time",
            "submissions": part1,
            "monthly_report": part2,
        },
    )


if __name__ == "__main__":
    main()
