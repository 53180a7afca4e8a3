"""Shared helpers for benchmarks: timing, percentiles, machine description and result files.

Every benchmark writes ``bench/results/<name>.json`` (numbers, parameters, machine, date) and prints a
short summary. Benchmarks are never run by ``make test``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SHARED_DATA = Path(os.environ.get("YIWANG_SHARED_DATA", ROOT.parent / "shared" / "data"))


def setup_django(database_url: str | None = None) -> None:
    """Configure Django for an in-process benchmark (optionally against a given database)."""
    sys.path.insert(0, str(ROOT / "src"))
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    import django

    django.setup()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarize_ms(samples_s: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples_s]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3) if ms else float("nan"),
        "mean_ms": round(statistics.fmean(ms), 3) if ms else float("nan"),
    }


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.elapsed = time.perf_counter() - self.start
        return False


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit,
    }


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **data,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"→ {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")  # a name may be a path
    return path


# --- HTTP benchmarks -------------------------------------------------------------------------------

import contextlib  # noqa: E402
import http.client  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

YIWANG = str(Path(sys.executable).with_name("yiwang"))
PG_URL = os.environ.get("YIWANG_BENCH_PG", "postgres://postgres@127.0.0.1:5432")


@contextlib.contextmanager
def fresh_postgres(name: str, *, keep: bool = False) -> Iterator[str]:
    """Create an empty PostgreSQL database for a benchmark and drop it afterwards (unless ``keep``);
    yields its URL."""
    admin = f"{PG_URL}/postgres"
    subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)
    try:
        yield f"{PG_URL}/{name}"
    finally:
        if not keep:
            subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


def bench_env(var_dir: str, database_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {**os.environ, "YIWANG_VAR_DIR": var_dir, "YIWANG_HTTPS": "0", "YIWANG_LOG_LEVEL": "WARNING", **extra}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def yiwang(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([YIWANG, *args], env=env, capture_output=True, text=True, check=check, cwd=ROOT)


@contextlib.contextmanager
def serve(env: dict[str, str], *, port: int, workers: int = 2, threads: int = 8) -> Iterator[dict[str, Any]]:
    """Run `yiwang serve` (granian) in the background until the block ends; yields {"port", "pid"}."""
    proc = subprocess.Popen(
        [YIWANG, "serve", "--port", str(port), "--workers", str(workers), "--threads", str(threads)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 180  # workers may warm caches before they answer
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("yiwang serve did not come up")
        yield {"port": port, "pid": proc.pid}
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a worker still warming up may not stop in time
            os.killpg(proc.pid, 9)
            proc.wait(timeout=20)


def process_tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (granian workers), in MB."""
    total = 0
    pids = [pid]
    with contextlib.suppress(OSError):
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
        pids += [int(p) for p in out.split()]
    for p in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS"):
                    total += int(line.split()[1])
    return round(total / 1024, 1)


def _tree_pids(pid: int) -> list[int]:
    pids = [pid]
    with contextlib.suppress(OSError):
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
        pids += [int(p) for p in out.split()]
    return pids


def process_tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its children (granian workers).

    Sampled before and after a load run it gives server CPU per request: a figure that does not depend on
    how busy the rest of the machine is."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in _tree_pids(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


@dataclass
class LoadResult:
    ok: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0
    warmup_requests: int = 0  # sent during warm-up (not in the figures)

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.ok + self.errors,
            "ok": self.ok,
            "errors": self.errors,
            "per_second": round(self.ok / self.elapsed, 1) if self.elapsed else 0.0,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "elapsed_s": round(self.elapsed, 2),
            **summarize_ms(self.latencies),
        }


Request = tuple[str, str, bytes | None, dict[str, str]]  # method, path, body, headers


def http_load(
    port: int,
    make_request: Callable[[int, int], Request],
    *,
    concurrency: int = 16,
    duration: float = 20.0,
    warmup: float = 2.0,
    ok_statuses: tuple[int, ...] = (200, 201, 202),
) -> LoadResult:
    """Closed-loop load: ``concurrency`` keep-alive clients send requests for ``duration`` seconds.

    ``make_request(worker, i)`` returns (method, path, body, headers) for the i-th request of a worker.
    Latencies and counts are recorded after ``warmup``.
    """
    result = LoadResult()
    lock = threading.Lock()
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = 0
        local_lat: list[float] = []
        local_status: dict[int, int] = {}
        ok = err = warm = 0
        while True:
            now = time.perf_counter()
            if now >= stop_at:
                break
            method, path, body, headers = make_request(n, i)
            i += 1
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 599
            t1 = time.perf_counter()
            if t0 >= measure_from:
                local_lat.append(t1 - t0)
                local_status[status] = local_status.get(status, 0) + 1
                if status in ok_statuses:
                    ok += 1
                else:
                    err += 1
            else:
                warm += 1
        with lock:
            result.warmup_requests += warm
            result.latencies += local_lat
            result.ok += ok
            result.errors += err
            for k, v in local_status.items():
                result.statuses[k] = result.statuses.get(k, 0) + v

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.elapsed = duration
    return result


def free_port(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]


# --- wrk: an HTTP load generator that costs the server's machine little CPU ----------------------------
def wrk_path() -> str:
    """The ``wrk`` binary (``make bench`` installs Debian's package when it is missing)."""
    import shutil

    path = shutil.which("wrk")
    if not path:
        raise RuntimeError("wrk is not installed: `make bench-tools` (apt-get install wrk)")
    return path


def wrk_load(
    port: int, script: str | Path, *, duration: float, connections: int, threads: int = 1, env: dict | None = None
) -> dict[str, Any]:
    """Run ``wrk`` with a Lua script that prints ``RESULT {json}`` in ``done()``; returns that result plus
    the CPU seconds wrk itself used (``client_cpu_s``)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(
        [
            wrk_path(),
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{max(1, round(duration))}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = proc.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk is the only child reaped meanwhile
    result: dict[str, Any] = {}
    for line in out.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
    if not result:
        raise RuntimeError(f"wrk failed: {err or out}")
    result["client_cpu_s"] = round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 3)
    return result


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body (text fields, then PDF files) and its Content-Type header."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, content in files:
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def postgres_backends_cpu_s(database: str) -> tuple[float, int]:
    """CPU seconds used so far by the PostgreSQL backends connected to ``database`` (read from /proc; the
    server runs on this machine), and how many there are. Sampled before and after a load run it gives the
    database's CPU per request (the WAL writer and checkpointer are not counted)."""
    out = subprocess.run(
        ["psql", f"{PG_URL}/postgres", "-Atc", f"SELECT pid FROM pg_stat_activity WHERE datname = '{database}'"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    pids = [int(p) for p in out.split()]
    ticks, total = os.sysconf("SC_CLK_TCK"), 0
    for p in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / ticks, len(pids)


# --- paced (open-loop) load: a fixed arrival rate, latency from each request's scheduled send time -----------
async def _read_response(reader: Any) -> tuple[int, bool]:
    """Read one HTTP/1.1 response (Content-Length or chunked body); returns (status, server closes)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, close = 0, False, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            close = b"close" in value.lower()
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status, close


async def _paced(
    port: int,
    make_request: Callable[[int], bytes],
    *,
    rate: float,
    duration: float,
    connections: int,
    ok_statuses: tuple[int, ...],
    drain: float,
) -> dict[str, Any]:
    import asyncio

    loop = asyncio.get_running_loop()
    total = max(1, round(rate * duration))
    records: list[tuple[float, float, float, int] | None] = [None] * total  # scheduled, sent, done, status
    queue: asyncio.Queue = asyncio.Queue()
    busy = {"now": 0, "max": 0}

    async def connect() -> tuple[Any, Any]:
        return await asyncio.open_connection("127.0.0.1", port)

    async def worker(reader: Any, writer: Any) -> None:
        while True:
            item = await queue.get()
            if item is None:
                break
            i, scheduled = item
            busy["now"] += 1
            busy["max"] = max(busy["max"], busy["now"])
            sent = loop.time()
            try:
                if writer is None:
                    reader, writer = await connect()
                writer.write(make_request(i))
                status, close = await _read_response(reader)
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                status, close = 599, True
            records[i] = (scheduled, sent, loop.time(), status)
            busy["now"] -= 1
            if close and writer is not None:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    pool = [await connect() for _ in range(connections)]  # all connections open before the first send
    tasks = [asyncio.create_task(worker(r, w)) for r, w in pool]
    interval = 1.0 / rate
    t0 = loop.time() + 0.05
    for i in range(total):
        scheduled = t0 + i * interval
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((i, scheduled))  # a free connection takes it; if none is free it waits, and counts
    for _ in tasks:
        queue.put_nowait(None)
    _, pending = await asyncio.wait(tasks, timeout=drain)
    for task in pending:
        task.cancel()
    return {"t0": t0, "records": records, "max_in_flight": busy["max"]}


def paced_load(
    port: int,
    make_request: Callable[[int], bytes],
    *,
    rate: float = 300.0,
    duration: float = 20.0,
    connections: int = 64,
    ok_statuses: tuple[int, ...] = (200, 201, 202),
    drain: float = 10.0,
) -> dict[str, Any]:
    """Open-loop load, like wrk2: request i is due at ``t0 + i / rate`` whatever happened to the others, and its
    latency runs from that scheduled time to the end of its response, so a slow response does not hide the
    requests that should have been sent meanwhile (no coordinated omission). ``connections`` keep-alive
    connections (asyncio, one thread) take the due requests in turn; a request due while every connection is
    busy waits for one, and that wait is part of its latency. ``make_request(i)`` returns the raw HTTP/1.1
    request bytes. Responses still missing ``drain`` seconds after the last send count as errors.

    Returns achieved rate, p50/p95/p99/max from the scheduled time, errors, the client's lag behind schedule
    (a client that cannot keep up would show here, not as a slower server), the most requests in flight, and
    the client's own CPU."""
    import asyncio
    import gc

    gc.collect()
    gc.disable()  # no collector pauses inside the measurement
    cpu_before = time.process_time()
    try:
        out = asyncio.run(
            _paced(
                port,
                make_request,
                rate=rate,
                duration=duration,
                connections=connections,
                ok_statuses=ok_statuses,
                drain=drain,
            )
        )
    finally:
        client_cpu = time.process_time() - cpu_before
        gc.enable()
    t0, records = out["t0"], out["records"]
    done = [r for r in records if r is not None]
    statuses: dict[int, int] = {}
    for r in done:
        statuses[r[3]] = statuses.get(r[3], 0) + 1
    ok = sum(v for k, v in statuses.items() if k in ok_statuses)
    end = max((r[2] for r in done), default=t0)
    last_sent = max((r[1] for r in done), default=t0)
    latency = summarize_ms([r[2] - r[0] for r in done])
    lag = [r[1] - r[0] for r in done]
    service = summarize_ms([r[2] - r[1] for r in done])
    return {
        "target_per_s": rate,
        "scheduled": len(records),
        "completed": len(done),
        "ok": ok,
        "errors": len(records) - ok,
        "unfinished": len(records) - len(done),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "per_second": round(ok / (end - t0), 1) if end > t0 else 0.0,
        "sent_per_s": round(len(done) / (last_sent - t0), 1) if last_sent > t0 else 0.0,
        "elapsed_s": round(end - t0, 2),
        **{k: v for k, v in latency.items() if k != "n"},
        # from the actual send (what wrk in a closed loop would report)
        "service_p50_ms": service["p50_ms"],
        "service_p99_ms": service["p99_ms"],
        # the client's own delay between the scheduled time and the write (includes waiting for a free connection)
        "send_lag_p99_ms": round(percentile([x * 1000 for x in lag], 99), 3),
        "send_lag_max_ms": round(max(lag) * 1000, 3) if lag else float("nan"),
        "connections": connections,
        "max_in_flight": out["max_in_flight"],
        "client_cpu_s": round(client_cpu, 3),
    }


def alternating_searches(
    engines: dict[str, Any],
    queries: list[str],
    regions: list[str],
    shapes: dict[str, Callable[[Any, str, str], Any]],
    *,
    rounds: int,
    rng: Any,
    reps: int = 1,
) -> Iterator[tuple[str, str, str, dict[str, tuple[float, Any]]]]:
    """Run every query × shape on each search engine, alternating which engine goes first (per query and round).

    For the A/B benchmarks (``search_layout_ab``, ``search_engine_ab``): the engines search once each first (page
    cache), then each (query, random user region, shape) yields ``(shape, query, region, {name: (thread CPU
    seconds, result)})``, the CPU being the best of ``reps`` calls."""
    names = list(engines)
    for engine in engines.values():
        for q in queries:
            engine.search(q, region_code=regions[0])
    for round_ in range(rounds):
        for i, q in enumerate(queries):
            region = rng.choice(regions)
            for shape, run in shapes.items():
                order = names if (i + round_) % 2 == 0 else names[::-1]
                best = dict.fromkeys(names, float("inf"))
                results: dict[str, Any] = {}
                for _ in range(reps):
                    for name in order:
                        c0 = time.thread_time()
                        results[name] = run(engines[name], q, region)
                        best[name] = min(best[name], time.thread_time() - c0)
                yield shape, q, region, {name: (best[name], results[name]) for name in names}


def cpu_table(cpu: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, dict[str, float]]]:
    """p50 / p99 / mean ms of thread-CPU samples (seconds) per shape and engine, each shape printed."""
    table: dict[str, dict[str, dict[str, float]]] = {}
    for shape, by in cpu.items():
        table[shape] = {}
        for name, samples in by.items():
            s = summarize_ms(samples)
            table[shape][name] = {k: s[k] for k in ("p50_ms", "p99_ms", "mean_ms")}
        print(shape, table[shape])
    return table
