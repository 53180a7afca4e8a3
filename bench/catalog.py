"""Catalog: import throughput of the real Guangdong catalogue and guide-page render time.

1. ``yiwang catalog import --format gdzwfw gd_items_raw.jsonl`` (2,262 items) into a fresh SQLite file and
   a fresh PostgreSQL database, twice (the second run must change nothing); items/s from wall-clock time
   of the import itself (as the command reports it) and of the whole process.
2. The public guide page (``/items/<code>/``) of an item with 30 materials, 8 steps, 5 fees and 10 FAQ,
   rendered in-process through the full Django stack (middleware, queries, template): p50/p99 over 300
   requests after 20 warm-up requests, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import tempfile
import time

from common import ROOT, SHARED_DATA, bench_env, fresh_postgres, summarize_ms, write_result, yiwang

RAW = SHARED_DATA / "gd-service-items" / "gd_items_raw.jsonl"
REQUESTS, WARMUP = 300, 20

RENDER_WORKER = r"""
import json, sys, time
from yiwang.catalog import services
from yiwang.core.actors import SystemActor
from yiwang.demo import foundation
from yiwang.directory.models import Department
from django.test import Client

foundation.load()
actor = SystemActor("bench")
dept = Department.objects.get(name="广州市天河区市场监督管理局")
cat = services.catalog_item_create(actor=actor, code="BENCH0000001", name="基准测试事项", item_type="01")
steps = ["accept", "review", "decide", "certify", "deliver", "other", "other", "other"]
elements = {
    "name": "基准测试事项（30份材料）", "item_type": "01", "legal_limit": 20, "promised_limit": 5,
    "visits": 0, "online_depth": 4, "is_online": True, "handling_forms": ["window", "online", "post"],
    "consult_phone": "020-38622345", "complain_phone": "020-12345",
    "conditions": [{"text": f"条件{i}：申请人应符合相关法律法规规定的第{i}项条件。"} for i in range(6)],
    "materials": [
        {"name": f"申请材料第{i}项（含说明文字，用于测量渲染）", "type": ["certificate", "form", "other"][i % 3],
         "necessity": ["required", "optional", "deferrable"][i % 3], "originals": i % 2, "copies": 1,
         "blank_form": "/x.pdf" if i % 4 == 0 else "", "licence_type": "resident_id" if i == 1 else "",
         "note": "复印件需加盖公章。" if i % 5 == 0 else ""}
        for i in range(30)
    ],
    "steps": [{"kind": k, "days": "0.5", "handler": "审批科", "standard": "材料齐全、符合法定形式"} for k in steps],
    "fees": [{"name": f"收费项目{i}", "standard": "10元/件", "basis": "价格文件"} for i in range(5)],
    "faq": [{"question": f"常见问题{i}？", "answer": "答复内容" * 20} for i in range(10)],
    "result": {"name": "许可证", "type": "certificate", "sample": "/s.pdf", "delivery": ["window", "post"]},
    "places": [{"name": "天河区政务服务中心", "address": "天河北路80号", "hours": "周一至周五"}],
    "service_objects": ["1", "2"], "personal_themes": ["就业创业"], "corporate_themes": ["准营准办"],
    "form": {"fields": [{"name": f"f{i}", "label": f"字段{i}", "type": "text"} for i in range(12)]},
}
item = services.item_create(actor=actor, code="BENCH-ITEM-30", catalog_item=cat, department=dept, elements=elements)
services.item_publish(actor=actor, item=item)
client = Client(HTTP_HOST="localhost")
url = f"/items/{item.code}/"
n, warm = int(sys.argv[1]), int(sys.argv[2])
for _ in range(warm):
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").status_code == 200
samples = []
for _ in range(n):
    t = time.perf_counter()
    r = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    samples.append(time.perf_counter() - t)
assert r.status_code == 200 and r.content.count(b"<tr>") >= 30
print("RESULT " + json.dumps({"samples": samples, "bytes": len(r.content)}))
"""


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def import_runs(env: dict[str, str]) -> dict:
    yiwang(env, "migrate", "-v0")
    out = {}
    for label in ("first", "second"):
        started, cpu0 = time.perf_counter(), _child_cpu()
        proc = yiwang(env, "catalog", "import", "--format", "gdzwfw", "--no-progress", str(RAW))
        wall, cpu = time.perf_counter() - started, _child_cpu() - cpu0
        text = proc.stdout + proc.stderr
        m = re.search(r"（([\d.]+) 秒，(\d+) 条/秒）：读取 (\d+)，新增 (\d+)，更新 (\d+)，未变 (\d+)，错误 (\d+)", text)
        seconds, rate, read, created, updated, unchanged, errors = m.groups()
        out[label] = {
            "import_s": float(seconds),
            "items_per_s": int(rate),
            "process_wall_s": round(wall, 2),
            "process_cpu_s": round(cpu, 2),
            "read": int(read),
            "created": int(created),
            "updated": int(updated),
            "unchanged": int(unchanged),
            "errors": int(errors),
        }
    assert out["first"]["created"] == 2262 and out["second"]["unchanged"] == 2262
    return out


def render(env: dict[str, str]) -> dict:
    yiwang(env, "migrate", "-v0")
    proc = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "yiwang"),
            "shell",
            "-c",
            RENDER_WORKER.replace("sys.argv[1]", str(REQUESTS)).replace("sys.argv[2]", str(WARMUP)),
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    data = json.loads(line[len("RESULT ") :])
    return {**summarize_ms(data["samples"]), "html_bytes": data["bytes"]}


def main() -> None:
    if not RAW.exists():
        print("skipped: ../shared/data/gd-service-items not present")
        return
    results: dict[str, dict] = {"import": {}, "guide_render": {}}
    with tempfile.TemporaryDirectory() as tmp:
        results["import"]["sqlite"] = import_runs(bench_env(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        results["guide_render"]["sqlite"] = render(bench_env(tmp))
    with (
        fresh_postgres(f"yiwang_bench_catalog_{__import__('os').getpid()}") as url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        results["import"]["postgresql"] = import_runs(bench_env(tmp, url))
    with (
        fresh_postgres(f"yiwang_bench_catalog_r_{__import__('os').getpid()}") as url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        results["guide_render"]["postgresql"] = render(bench_env(tmp, url))
    for db, r in results["import"].items():
        f, s = r["first"], r["second"]
        print(
            f"import {db:10s} {f['created']} items in {f['import_s']:.1f} s ({f['items_per_s']} items/s); "
            f"whole process {f['process_wall_s']:.1f} s wall, {f['process_cpu_s']:.1f} s CPU; "
            f"re-run {s['import_s']:.1f} s, {s['unchanged']} unchanged"
        )
    for db, r in results["guide_render"].items():
        print(f"guide  {db:10s} 30 materials: p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms ({r['n']} requests)")
    write_result(
        "catalog",
        {
            "items": 2262,
            "guide_requests": REQUESTS,
            "note": (
                "wall-clock on a shared 2-core machine (other jobs running); import_s is the import itself as the "
                "command reports it; process_cpu_s is the CPU time of the whole yiwang process (Python side only; "
                "PostgreSQL server time is not included)"
            ),
            "results": results,
        },
    )


if __name__ == "__main__":
    sys.exit(main())
