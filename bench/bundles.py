"""一件事 benchmark: one bundle submission with 3 members through HTTP against `yiwang serve`.

A bundle of three online items of three departments, all in the first stage, so every submission creates
the parent (一件事办件), three child cases routed at once (numbers, materials, linked copies of the shared
files, pre-review queue), events and documents. Concurrent keep-alive clients each POST
``/api/v1/bundle-cases`` (merged form + one PDF per required material of the merged list, a fresh
``Idempotency-Key`` each) as one of 64 applicants: submissions/s (and child cases/s), latency p50/p99.
PostgreSQL is the measurement; SQLite is reported beside it.

Usage: ``python bench/run.py bundles`` (or ``python bench/bundles.py [--duration S] [--concurrency N]
[--only postgresql|sqlite]``). Writes bench/results/bundles.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid

from common import (
    ROOT,
    bench_env,
    free_port,
    fresh_postgres,
    http_load,
    multipart,
    process_tree_rss_mb,
    serve,
    write_result,
    yiwang,
)

PDF = b"%PDF-1.4\n% yiwang bench material " + b"x" * 900 + b"\n%%EOF\n"
PORT = int(os.environ.get("YIWANG_BENCH_PORT", "8106"))
DATABASE = os.environ.get("YIWANG_BENCH_BUNDLES_DB", "yiwang_bundles")

SETUP = r"""
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
django.setup()
from yiwang.accounts import services
from yiwang.accounts.models import Person, User
from yiwang.cases.bundles import bundle_plan
from yiwang.catalog import services as catalog
from yiwang.catalog.models import Bundle, ServiceItem
from yiwang.core import crypto
from yiwang.core.actors import SystemActor
from yiwang.core.ids import make_credit_code, make_resident_id, mask_resident_id
from yiwang.demo.foundation import ENTERPRISE
from yiwang.directory.models import Region

actor = SystemActor("bench")
NAMES = ["出生医学证明签发", "城乡居民基本医疗保险参保登记", "社会保障卡申领"]  # 卫健 / 街道 / 市人社
items = [
    ServiceItem.objects.filter(state="published", name=name).select_related("current_version", "department").first()
    for name in NAMES
]
assert all(items), items
bundle = Bundle.objects.filter(code="bench-three").first()
if bundle is None:
    bundle = catalog.bundle_save(
        actor=actor, code="bench-three", name="压测一件事（三个部门并联）",
        region=Region.objects.get(code="440106000000"), lead_department=items[0].department, promised_days=5,
        members=[{"item": i, "order": 1} for i in items],
    )
    catalog.bundle_publish(actor=actor, bundle=bundle)
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
plan = bundle_plan(bundle=bundle, answers={})
form = {}
for f in plan.form.fields:
    if f.type == "credit_code": form[f.name] = make_credit_code(ENTERPRISE["credit17"])
    elif f.type == "id_number": form[f.name] = make_resident_id("44010619900307123")
    elif f.type == "phone": form[f.name] = "13800138000"
    elif f.type == "select": form[f.name] = f.options[0]
    elif f.type == "multiselect": form[f.name] = f.options[:1]
    elif f.type == "number": form[f.name] = str(f.min if f.min is not None else 1)
    elif f.type == "date": form[f.name] = "2026-10-08"
    elif f.type == "checkbox": form[f.name] = True
    elif f.required: form[f.name] = "压测"
required = [m.index for m in plan.asked_materials if m.required and m.material.format != "paper"]
print(json.dumps({
    "tokens": tokens, "form": form, "materials": required,
    "members": [i.name for i in items], "departments": [i.department.name for i in items],
    "one_by_one_materials": plan.savings["one_by_one"]["materials"], "merged_materials": len(plan.asked_materials),
}, ensure_ascii=False))
"""

COUNT = r"""
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
django.setup()
from yiwang.cases.models import BundleCase, BundleChild, Case
print(json.dumps({"bundle_cases": BundleCase.objects.count(), "children": BundleChild.objects.count(),
                  "child_cases": Case.objects.filter(bundle_link__isnull=False).count()}))
"""


def _python(env: dict[str, str], code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def submissions(env: dict[str, str], *, duration: float, concurrency: int, workers: int) -> dict:
    yiwang(env, "migrate", "-v0")
    yiwang(env, "demo")
    setup = _python(env, SETUP)
    materials = setup["materials"]
    bodies = []
    for n in range(concurrency):
        body, ctype = multipart(
            {
                "bundle_code": "bench-three",
                "answers": "{}",
                "form": json.dumps(setup["form"], ensure_ascii=False),
                "materials": json.dumps(materials),
            },
            [("files", f"材料{i}.pdf", PDF) for i in materials],
        )
        bodies.append((body, ctype, setup["tokens"][n % len(setup["tokens"])]))
    run_id = uuid.uuid4().hex[:8]

    def request(worker: int, i: int):
        body, ctype, token = bodies[worker]
        headers = {
            "Content-Type": ctype,
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": f"bundle-{run_id}-{worker}-{i}",
        }
        return "POST", "/api/v1/bundle-cases", body, headers

    before = _python(env, COUNT)
    port = free_port(PORT)
    load_before = os.getloadavg()
    with serve(env, port=port, workers=workers, threads=max(4, concurrency // workers)) as server:
        result = http_load(port, request, concurrency=concurrency, duration=duration, warmup=3.0, ok_statuses=(201,))
        rss = process_tree_rss_mb(server["pid"])
    after = _python(env, COUNT)
    summary = result.summary()
    created = after["bundle_cases"] - before["bundle_cases"]
    child_cases = after["child_cases"] - before["child_cases"]
    return {
        "members": setup["members"],
        "departments": setup["departments"],
        "materials_one_by_one": setup["one_by_one_materials"],
        "materials_merged": setup["merged_materials"],
        "files_per_submission": len(materials),
        "bytes_per_submission": len(bodies[0][0]),
        "concurrency": concurrency,
        "workers": workers,
        **summary,
        "child_cases_per_second": round(summary["per_second"] * 3, 1),
        "bundle_cases_created": created,
        "child_cases_created": child_cases,
        "rss_mb": rss,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", choices=["postgresql", "sqlite"], default=None)
    args = parser.parse_args(argv if argv is not None else sys.argv[1:] if __name__ == "__main__" else [])
    results: dict = {"targets": {"submissions_per_s": 100, "p99_ms": 300}}
    previous = ROOT / "bench" / "results" / "bundles.json"
    if args.only and previous.exists():
        kept = ("postgresql", "postgresql_4_clients", "sqlite")
        results.update({k: v for k, v in json.loads(previous.read_text()).items() if k in kept})
    if args.only in (None, "postgresql"):
        with fresh_postgres(DATABASE) as url, tempfile.TemporaryDirectory() as tmp:
            print("bundle submissions on PostgreSQL …", flush=True)
            results["postgresql"] = submissions(
                bench_env(tmp, url), duration=args.duration, concurrency=args.concurrency, workers=args.workers
            )
            print(json.dumps(results["postgresql"], ensure_ascii=False), flush=True)
            print("… and with 4 clients (service time rather than queueing) …", flush=True)
            results["postgresql_4_clients"] = submissions(
                bench_env(tmp, url), duration=args.duration, concurrency=4, workers=args.workers
            )
            print(json.dumps(results["postgresql_4_clients"], ensure_ascii=False), flush=True)
        write_result("bundles", results)
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            print("bundle submissions on SQLite …", flush=True)
            results["sqlite"] = submissions(
                bench_env(tmp), duration=args.duration, concurrency=args.concurrency, workers=args.workers
            )
            print(json.dumps(results["sqlite"], ensure_ascii=False), flush=True)
    results["note"] = (
        "Measured on the shared 2-core development machine (load_average_* says what else ran). "
        "Each submission creates 1 parent and 3 "
        "child cases (3 departments, parallel stage) with linked copies of the shared files."
    )
    write_result("bundles", results)


if __name__ == "__main__":
    main()
