"""Run benchmarks: ``python bench/run.py [name ...]`` (all when none given). Each is bench/<name>.py with main()."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP = {"run", "common", "__init__"}


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem for p in HERE.glob("*.py") if p.stem not in SKIP and not p.stem.startswith("_"))
    failed = []
    for name in names:
        path = HERE / f"{name}.py"
        if not path.exists():
            print(f"no benchmark {name}")
            failed.append(name)
            continue
        print(f"=== {name}")
        started = time.perf_counter()
        spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(HERE))
        spec.loader.exec_module(module)
        try:
            module.main()
        except Exception as exc:  # keep running the others; report at the end
            print(f"!!! {name} failed: {exc!r}")
            failed.append(name)
        print(f"=== {name} done in {time.perf_counter() - started:.1f}s\n")
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
