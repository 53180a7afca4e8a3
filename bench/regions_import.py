"""Full five-level region import (665k rows of 统计用区划代码) on SQLite and PostgreSQL.

Runs `yiwang migrate` and `yiwang regions import` twice (the second run must change nothing) against a
fresh SQLite file and a fresh PostgreSQL database, and records wall-clock times and rows/s.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, SHARED_DATA, write_result

YIWANG = str(Path(sys.executable).with_name("yiwang"))
PG = os.environ.get("YIWANG_BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def run(env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run([YIWANG, *args], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    return time.perf_counter() - started, out.stdout + out.stderr


def one(database_url: str | None, var_dir: str) -> dict:
    env = {**os.environ, "YIWANG_VAR_DIR": var_dir, "YIWANG_LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    run(env, "migrate", "-v0")
    folder = str(SHARED_DATA / "admin-divisions")
    first, out1 = run(env, "regions", "import", folder, "--no-progress")
    second, out2 = run(env, "regions", "import", folder, "--no-progress")
    created = int(re.search(r"新增 (\d+)", out1).group(1))
    unchanged = int(re.search(r"未变 (\d+)", out2).group(1))
    return {
        "first_run_s": round(first, 1),
        "second_run_s": round(second, 1),
        "created": created,
        "second_run_unchanged": unchanged,
        "rows_per_s": round(created / first),
        "summary": out1.strip().splitlines()[-1],
    }


def main() -> None:
    if not (SHARED_DATA / "admin-divisions" / "villages.csv").exists():
        print("skipped: ../shared/data/admin-divisions not present")
        return
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = one(None, tmp)
    name = f"yiwang_bench_regions_{os.getpid()}"
    subprocess.run(["psql", PG + "/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            results["postgresql"] = one(f"{PG}/{name}", tmp)
    finally:
        subprocess.run(["psql", PG + "/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
    for db, r in results.items():
        print(
            f"{db:10s} first import {r['first_run_s']:6.1f} s ({r['rows_per_s']} rows/s), "
            f"second run {r['second_run_s']:5.1f} s, {r['second_run_unchanged']} unchanged"
        )
    write_result("regions_import", {"rows": results["sqlite"]["created"], "results": results})


if __name__ == "__main__":
    main()
