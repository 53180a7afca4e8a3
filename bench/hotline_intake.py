"""12345 intake over HTTP: work orders created through POST /api/v1/hotline/orders against `yiwang serve` on
PostgreSQL, with concurrent keep-alive clients. Each request is a full intake: validation, out-of-scope
screening, classification (the demo's trained category model when the shared data is present), the order
row, its number, the history row and the audit-chain event, in one transaction.

Environment: YIWANG_BENCH_DB (database name, default yiwang_bench_hotline_intake), YIWANG_BENCH_PORT (8102),
YIWANG_BENCH_CONCURRENCY (16), YIWANG_BENCH_SECONDS (20), YIWANG_BENCH_WORKERS (the number of cores).
The JSON records ``uptime`` before and after the load, since the figure depends on what else the machine runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile

from common import bench_env, free_port, fresh_postgres, http_load, process_tree_rss_mb, serve, write_result, yiwang

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


IN_PROCESS_SCRIPT = """
import time
from yiwang.accounts.models import User
from yiwang.hotline import services
agent = User.objects.get(username='agent')
body = dict(title='五山路路面坑洼积水', content='五山路华南理工大学门口路面有多个坑洼，下雨积水，请尽快修复。',
            kind='complaint', region_code='440106001000', caller_name='测试来电人', caller_phone='13900001111',
            address='天河区测试路 1 号')
for _ in range(20):
    services.order_create(actor=agent, **body)
n = 200
wall, cpu = time.perf_counter(), time.process_time()
for _ in range(n):
    services.order_create(actor=agent, **body)
print(round((time.perf_counter() - wall) / n * 1000, 2), round((time.process_time() - cpu) / n * 1000, 2))
"""


def uptime() -> str:
    """The machine's load as ``uptime`` prints it (the benchmark shares its cores with other work)."""
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main() -> None:
    name = os.environ.get("YIWANG_BENCH_DB", "yiwang_bench_hotline_intake")
    port = free_port(int(os.environ.get("YIWANG_BENCH_PORT", "8102")))
    concurrency = int(os.environ.get("YIWANG_BENCH_CONCURRENCY", "16"))
    seconds = float(os.environ.get("YIWANG_BENCH_SECONDS", "20"))
    workers = int(os.environ.get("YIWANG_BENCH_WORKERS", str(os.cpu_count() or 2)))
    with tempfile.TemporaryDirectory() as var, fresh_postgres(name) as url:
        env = bench_env(var, url)
        yiwang(env, "migrate", "-v0")
        yiwang(env, "demo")
        token = yiwang(env, "shell", "-c", TOKEN_SCRIPT).stdout.strip().splitlines()[-1]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        def make_request(worker: int, i: int):
            title, content, kind = TEXTS[(worker + i) % len(TEXTS)]
            body = {
                "title": f"{title}（{worker}-{i}）",
                "content": content,
                "kind": kind,
                "region_code": REGIONS[i % len(REGIONS)],
                "caller_name": "测试来电人",
                "caller_phone": f"139{worker:04d}{i % 10000:04d}",
                "address": "天河区测试路 1 号",
            }
            return "POST", "/api/v1/hotline/orders", json.dumps(body, ensure_ascii=False).encode(), headers

        with serve(env, port=port, workers=workers, threads=8) as server:
            load_before = uptime()
            result = http_load(port, make_request, concurrency=concurrency, duration=seconds, warmup=3.0)
            rss = process_tree_rss_mb(server["pid"])
            load_after = uptime()
        count = yiwang(
            env, "shell", "-c", "from yiwang.hotline.models import WorkOrder; print(WorkOrder.objects.count())"
        )
        created = int(count.stdout.strip().splitlines()[-1])
        verify = yiwang(env, "audit", "verify", check=False)
        # One process, one order at a time: the application's own cost, apart from HTTP and concurrency.
        in_process = yiwang(env, "shell", "-c", IN_PROCESS_SCRIPT).stdout.strip().splitlines()[-1].split()
    summary = result.summary()
    print(
        f"intake on PostgreSQL: {summary['per_second']} orders/s with {concurrency} clients, "
        f"p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms, errors {summary['errors']}, "
        f"statuses {summary['statuses']}, server RSS {rss} MB"
    )
    write_result(
        "hotline_intake",
        {
            "database": "postgresql",
            "concurrency": concurrency,
            "duration_s": seconds,
            "granian_workers": workers,
            "granian_threads": 8,
            "result": summary,
            "orders_in_database": created,
            "server_rss_mb": rss,
            "audit_chain": verify.stdout.strip().splitlines()[-1] if verify.stdout.strip() else verify.stderr.strip(),
            "target_per_second": 300,
            "in_process_one_at_a_time": {"wall_ms": float(in_process[0]), "cpu_ms": float(in_process[1])},
            "uptime_before": load_before,
            "uptime_after": load_after,
        },
    )


if __name__ == "__main__":
    main()
