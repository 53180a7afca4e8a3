"""12345 intake over HTTP: work orders created through POST /api/v1/hotline/orders against `yiwang serve` on
PostgreSQL, with concurrent keep-alive clients. Each request is a full intake: token authentication, the
permission check, validation, out-of-scope screening, classification (the demo's trained category model when
the shared data is present), the order row, its number, the history row and the audit event (staged in the
same transaction, chained in batches after commit: docs/decisions/0007), in one transaction.

The load generator runs in its own processes (YIWANG_BENCH_CLIENTS, default 2) with plain-socket keep-alive
clients, so that on a small machine it takes as little CPU from the server as possible; the CPU time of the
server (granian and its workers), of the database backends and of the clients is measured over the load
window and reported per request, which does not depend on what else the machine runs.

After the load a consistency block checks what the run wrote: one order per successful response, every
number present and unique, classification and the history row on every order, and the audit chain complete
with one creation event per order once the staged events are flushed.

Environment: YIWANG_BENCH_DB (database name, default yiwang_bench_hotline_intake), YIWANG_BENCH_PORT (8102),
YIWANG_BENCH_CONCURRENCY (16 connections in all), YIWANG_BENCH_CLIENTS (2 processes), YIWANG_BENCH_SECONDS
(20), YIWANG_BENCH_WORKERS (the number of cores + 1: with cores workers each waits on
PostgreSQL round trips and the cores idle — 221/s at 2 × 8 against 364/s at 3 × 8 on the same idle machine),
YIWANG_BENCH_THREADS (granian threads per worker, 8).
The JSON records ``uptime`` before and after the load, since the figure depends on what else the machine runs.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from common import (
    PG_URL,
    bench_env,
    free_port,
    fresh_postgres,
    process_tree_rss_mb,
    serve,
    summarize_ms,
    write_result,
    yiwang,
)

TEXTS = [
    ("五山路路面坑洼积水", "五山路华南理工大学门口路面有多个坑洼，下雨积水，电动车容易摔倒，请尽快修复。", "complaint"),
    ("小区路灯不亮", "岳洲路18号附近三盏路灯坏了一周，晚上很黑，老人出行不便。", "help"),
    ("公司拖欠工资", "天河区某公司拖欠员工三个月工资，多次讨要未果，希望劳动部门介入。", "complaint"),
    ("居住证怎么办", "想咨询一下外地户口在广州怎么办理居住证，需要什么材料。", "consult"),
    ("建议增开公交线路", "建议增开五山到珠江新城的公交线路，早高峰太挤。", "suggestion"),
]
REGIONS = ["440106001000", "440106001001", "440106008000", "440106000000", "440104001000"]

TOKEN_SCRIPT = (
    "from yiwang.accounts.models import User; from yiwang.accounts import services; "
    "print(services.api_token_create(actor=User.objects.get(username='agent'), name='bench')[1])"
)

COUNT_SCRIPT = """
import json, os
from django.db.models import Count
from yiwang.core.models import AuditEvent, PendingAuditEvent
from yiwang.hotline.models import OrderEvent, WorkOrder
orders = WorkOrder.objects.filter(caller_name='测试来电人', id__gt=int(os.environ.get('SINCE_ID', '0')))
numbers = orders.exclude(number__isnull=True).exclude(number='')
print(json.dumps({
    "orders": orders.count(),
    "orders_without_number": orders.count() - numbers.count(),
    "distinct_numbers": numbers.values('number').distinct().count(),
    "numbers_shared_in_database": WorkOrder.objects.exclude(number__isnull=True).values('number')
        .annotate(n=Count('id')).filter(n__gt=1).count(),
    "orders_classified": orders.exclude(suggested_category__isnull=True).count(),
    "orders_with_create_event": OrderEvent.objects.filter(order__in=orders, event='create').count(),
    "audit_create_events_in_chain": AuditEvent.objects.filter(
        action='hotline.order.create', object_type='hotline.workorder',
        object_id__in=[str(pk) for pk in orders.values_list('id', flat=True)]).count(),
    "audit_events_pending": PendingAuditEvent.objects.count(),
}))
"""

MAX_ID_SCRIPT = (
    "from django.db.models import Max; from yiwang.hotline.models import WorkOrder; "
    "print(WorkOrder.objects.aggregate(m=Max('id'))['m'] or 0)"
)

IN_PROCESS_SCRIPT = """
import time
from yiwang.accounts.models import User
from yiwang.hotline import services
agent = User.objects.get(username='agent')
body = dict(title='五山路路面坑洼积水', content='五山路华南理工大学门口路面有多个坑洼，下雨积水，请尽快修复。',
            kind='complaint', region_code='440106001000', caller_name='进程内来电人', caller_phone='13900001111',
            address='天河区测试路 1 号')
for _ in range(20):
    services.order_create(actor=agent, **body)
n = 200
wall, cpu = time.perf_counter(), time.process_time()
for _ in range(n):
    services.order_create(actor=agent, **body)
print(round((time.perf_counter() - wall) / n * 1000, 2), round((time.process_time() - cpu) / n * 1000, 2))
"""

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)
_TICK = os.sysconf("SC_CLK_TCK")


def uptime() -> str:
    """The machine's load as ``uptime`` prints it (the benchmark shares its cores with other work)."""
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def request_bytes(token: str, conn: int, i: int) -> bytes:
    title, content, kind = TEXTS[(conn + i) % len(TEXTS)]
    body = json.dumps(
        {
            "title": f"{title}（{conn}-{i}）",
            "content": content,
            "kind": kind,
            "region_code": REGIONS[i % len(REGIONS)],
            "caller_name": "测试来电人",
            "caller_phone": f"139{conn:04d}{i % 10000:04d}",
            "address": "天河区测试路 1 号",
        },
        ensure_ascii=False,
    ).encode()
    head = (
        "POST /api/v1/hotline/orders HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _exchange(sock: socket.socket, payload: bytes) -> int:
    """Send one request on a keep-alive connection and read the whole response; returns the status."""
    sock.sendall(payload)
    buf = b""
    while (end := buf.find(b"\r\n\r\n")) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    match = _CONTENT_LENGTH.search(buf, 0, end + 2)
    if match is None:
        raise ConnectionError("response without Content-Length")
    need = end + 4 + int(match.group(1))
    while len(buf) < need:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return int(buf[9:12])


def _client_process(port: int, token: str, conns: range, start: float, measure_from: float, stop_at: float, out):
    """One load-generator process: a thread per keep-alive connection, closed loop until ``stop_at``."""
    results = []
    lock = threading.Lock()

    def run(conn: int) -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lat: list[float] = []
        statuses: dict[int, int] = {}
        created_total = i = 0
        while (t0 := time.perf_counter()) < stop_at:
            payload = request_bytes(token, conn, i)
            i += 1
            try:
                status = _exchange(sock, payload)
            except OSError:
                sock.close()
                sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                status = 599
            t1 = time.perf_counter()
            created_total += status == 201
            if t0 >= measure_from:
                lat.append(t1 - t0)
                statuses[status] = statuses.get(status, 0) + 1
        sock.close()
        with lock:
            results.append((lat, statuses, created_total))

    time.sleep(max(0.0, start - time.perf_counter()))
    threads = [threading.Thread(target=run, args=(c,)) for c in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    created = 0
    for lat, st, c in results:
        latencies += lat
        created += c
        for k, v in st.items():
            statuses[k] = statuses.get(k, 0) + v
    out.send({"latencies": latencies, "statuses": statuses, "created_total": created})
    out.close()


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the given processes (those still alive), in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(p)], capture_output=True, text=True).stdout
        todo += [int(x) for x in out.split()]
    return pids


def _backends(url: str, database: str) -> list[int]:
    """PostgreSQL backend processes serving the benchmark database (to measure the database's CPU)."""
    out = subprocess.run(
        ["psql", url, "-Atc", f"SELECT pid FROM pg_stat_activity WHERE datname = '{database}'"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return [int(x) for x in out.split()]


def load(
    port: int,
    token: str,
    *,
    concurrency: int,
    clients: int,
    seconds: float,
    warmup: float,
    server_pid: int,
    url: str,
    database: str,
) -> dict:
    ctx = multiprocessing.get_context("fork")
    start = time.perf_counter() + 0.5
    measure_from, stop_at = start + warmup, start + warmup + seconds
    procs, pipes = [], []
    per = [range(k, concurrency, clients) for k in range(clients)]
    for conns in per:
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_client_process, args=(port, token, conns, start, measure_from, stop_at, send))
        proc.start()
        send.close()
        procs.append(proc)
        pipes.append(receive)
    time.sleep(max(0.0, measure_from - time.perf_counter()))
    server = _tree(server_pid)
    backends = _backends(url, database)
    client_pids = [p.pid for p in procs]
    cpu_before = (_cpu_seconds(server), _cpu_seconds(backends), _cpu_seconds(client_pids))
    time.sleep(max(0.0, stop_at - time.perf_counter()))
    cpu_after = (_cpu_seconds(server), _cpu_seconds(backends), _cpu_seconds(client_pids))
    parts = [pipe.recv() for pipe in pipes]
    for proc in procs:
        proc.join()
    latencies = [x for part in parts for x in part["latencies"]]
    statuses: dict[int, int] = {}
    for part in parts:
        for k, v in part["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    ok = statuses.get(201, 0)
    errors = sum(statuses.values()) - ok
    per_request = {
        name: round((after - before) / ok * 1000, 2) if ok else None
        for name, before, after in zip(("server", "database", "clients"), cpu_before, cpu_after, strict=True)
    }
    return {
        "result": {
            "requests": ok + errors,
            "ok": ok,
            "errors": errors,
            "per_second": round(ok / seconds, 1),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "elapsed_s": seconds,
            **summarize_ms(latencies),
        },
        "cpu_ms_per_order": per_request,
        "cpu_cores_busy": {
            name: round((after - before) / seconds, 2)
            for name, before, after in zip(("server", "database", "clients"), cpu_before, cpu_after, strict=True)
        },
        "database_backends": len(backends),
        "created_including_warmup": sum(part["created_total"] for part in parts),
    }


def main() -> None:
    name = os.environ.get("YIWANG_BENCH_DB", "yiwang_bench_hotline_intake")
    port = free_port(int(os.environ.get("YIWANG_BENCH_PORT", "8102")))
    concurrency = int(os.environ.get("YIWANG_BENCH_CONCURRENCY", "16"))
    clients = max(1, min(concurrency, int(os.environ.get("YIWANG_BENCH_CLIENTS", "2"))))
    seconds = float(os.environ.get("YIWANG_BENCH_SECONDS", "20"))
    workers = int(os.environ.get("YIWANG_BENCH_WORKERS", str((os.cpu_count() or 2) + 1)))
    threads = int(os.environ.get("YIWANG_BENCH_THREADS", "8"))
    # YIWANG_BENCH_SETUP=0 reuses the database (and YIWANG_BENCH_VAR, the var directory holding its trained
    # models) as they are, to iterate without migrating and loading the demo each time.
    setup = os.environ.get("YIWANG_BENCH_SETUP", "1") != "0"
    database = fresh_postgres(name) if setup else contextlib.nullcontext(f"{PG_URL}/{name}")
    with tempfile.TemporaryDirectory() as tmp, database as url:
        env = bench_env(os.environ.get("YIWANG_BENCH_VAR", "") if not setup else tmp, url)
        if setup:
            yiwang(env, "migrate", "-v0")
            yiwang(env, "demo")
        since = yiwang(env, "shell", "-c", MAX_ID_SCRIPT).stdout.strip().splitlines()[-1]
        token = yiwang(env, "shell", "-c", TOKEN_SCRIPT).stdout.strip().splitlines()[-1]
        admin = url.rsplit("/", 1)[0] + "/postgres"
        with serve(env, port=port, workers=workers, threads=threads) as server:
            load_before = uptime()
            run = load(
                port,
                token,
                concurrency=concurrency,
                clients=clients,
                seconds=seconds,
                warmup=3.0,
                server_pid=server["pid"],
                url=admin,
                database=name,
            )
            rss = process_tree_rss_mb(server["pid"])
            load_after = uptime()
        env["SINCE_ID"] = since
        pending_after_load = json.loads(yiwang(env, "shell", "-c", COUNT_SCRIPT).stdout.strip().splitlines()[-1])[
            "audit_events_pending"
        ]
        flushed = yiwang(env, "audit", "flush").stdout.strip()
        counts = json.loads(yiwang(env, "shell", "-c", COUNT_SCRIPT).stdout.strip().splitlines()[-1])
        verify = yiwang(env, "audit", "verify", check=False)
        # One process, one order at a time: the application's own cost, apart from HTTP and concurrency.
        # With the background audit flusher, as under `yiwang serve`.
        env["YIWANG_AUDIT_FLUSH_DELAY_MS"] = "50"
        in_process = yiwang(env, "shell", "-c", IN_PROCESS_SCRIPT).stdout.strip().splitlines()[-1].split()
    summary = run["result"]
    created = run["created_including_warmup"]
    consistency = {
        "responses_201_including_warmup": created,
        **counts,
        "audit_events_pending_after_load": pending_after_load,
        "audit_flush": flushed,
        "audit_chain": verify.stdout.strip().splitlines()[-1] if verify.stdout.strip() else verify.stderr.strip(),
        "audit_chain_ok": verify.returncode == 0,
    }
    consistency["ok"] = bool(
        verify.returncode == 0
        and counts["orders"] == created
        and counts["orders_without_number"] == 0
        and counts["distinct_numbers"] == counts["orders"]
        and counts["numbers_shared_in_database"] == 0
        and counts["orders_with_create_event"] == counts["orders"]
        and counts["audit_create_events_in_chain"] == counts["orders"]
        and counts["audit_events_pending"] == 0
        and counts["orders_classified"] in (0, counts["orders"])
    )
    cpu = run["cpu_ms_per_order"]
    print(
        f"intake on PostgreSQL: {summary['per_second']} orders/s with {concurrency} connections "
        f"({clients} client processes), p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms, "
        f"errors {summary['errors']}, statuses {summary['statuses']}, server RSS {rss} MB; "
        f"CPU ms/order server {cpu['server']}, database {cpu['database']}, clients {cpu['clients']}; "
        f"consistency {'ok' if consistency['ok'] else 'FAILED'}"
    )
    write_result(
        "hotline_intake",
        {
            "database": "postgresql",
            "concurrency": concurrency,
            "client_processes": clients,
            "duration_s": seconds,
            "granian_workers": workers,
            "granian_threads": threads,
            "result": summary,
            "cpu_ms_per_order": cpu,
            # What the measured CPU per order would allow if the machine's cores ran nothing else.
            "orders_per_second_if_cores_were_idle": round((os.cpu_count() or 1) * 1000 / sum(cpu.values()), 1)
            if all(cpu.values())
            else None,
            "cpu_cores_busy": run["cpu_cores_busy"],
            "database_backends": run["database_backends"],
            "server_rss_mb": rss,
            "consistency": consistency,
            "target_per_second": 300,
            "in_process_one_at_a_time": {"wall_ms": float(in_process[0]), "cpu_ms": float(in_process[1])},
            "uptime_before": load_before,
            "uptime_after": load_after,
        },
    )


if __name__ == "__main__":
    main()
