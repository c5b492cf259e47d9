"""Where the intake's CPU per JSON report goes (bench_intake.py, issue 14 item 5).

The server's CPU per request under load is measured by bench_intake from ``/proc``: all threads,
and the main thread (uvicorn's event loop) on its own. This module measures, in-process and in the
thread's CPU time (``CLOCK_THREAD_CPUTIME_ID``: user + system, so the page faults of Argon2id's
memory count; the least of a few runs), the parts that run elsewhere:
the Argon2id receipt hash, sealing, the two log lines, the inbox's group commit per report (16
threads putting at once, the writer thread's CPU from ``/proc/self/task``), and the validation the
event loop does. What the measured total leaves over is the cost of handing each request between
threads (thread pool, writer, back) and of the GIL changing hands: no single call owns it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_us(fn: Callable[[int], object], n: int, repeats: int = 5) -> float:
    """Least CPU of this thread (user + system) per call of ``fn(i)`` over ``repeats`` runs of ``n``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.thread_time()
        for i in range(n):
            fn(i)
        best = min(best, (time.thread_time() - start) / n)
    return best * 1e6


def _task_cpu(tid: int) -> float:
    with open(f"/proc/self/task/{tid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def writer_us(inbox: Any, blob: bytes, items: int = 1600, threads: int = 16) -> tuple[float, float]:
    """The inbox writer thread's CPU per report while ``threads`` threads put at once, and the mean batch."""
    from intake.domain import ReceiptHash

    inbox.put(os.urandom(16).hex(), blob)  # starts the writer thread
    writer = next(t for t in threading.enumerate() if t.name == "inbox-writer")
    assert writer.native_id is not None
    commits: list[str] = []
    inbox._conn.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    before = _task_cpu(writer.native_id)

    def put(_: int) -> None:
        for _ in range(items // threads):
            inbox.put(os.urandom(16).hex(), blob, board=ReceiptHash(os.urandom(32)))

    workers = [threading.Thread(target=put, args=(k,)) for k in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    inbox._conn.set_trace_callback(None)
    done = items // threads * threads
    return (_task_cpu(writer.native_id) - before) / done * 1e6, done / max(1, len(commits))


def cost_rows(
    settings: Any, reports: Sequence[dict[str, Any]], workdir: Path, *, total_us: float, loop_us: float, n: int = 200
) -> list[tuple[str, float]]:
    """(component, CPU us per report) rows that add up to ``total_us``, the server's measured CPU
    per request under load, of which ``loop_us`` on its event loop thread."""
    from channels.web.api import ReportIn
    from channels.web.forms import build_report
    from intake.domain import Channel, Report
    from intake.logs import ScrubFilter
    from intake.receipts import new_receipt
    from intake.services import IntakeService, _seal, seal_report

    bodies = [json.dumps(r, ensure_ascii=False).encode() for r in reports]

    def validate(i: int) -> Report:
        body = ReportIn.model_validate(json.loads(bodies[i % len(bodies)]))
        return build_report(Channel.API, body.locale or "en", body.model_dump(exclude={"locale"}))

    built = [validate(i) for i in range(len(bodies))]
    # One log line as the server writes it: the scrubbing filter and the formatter, to a file.
    logger = logging.getLogger("bench.costs")
    logger.propagate = False
    with open(workdir / "costs.log", "w", encoding="utf-8") as sink:
        handler = logging.StreamHandler(sink)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(ScrubFilter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        log_line = cpu_us(lambda i: logger.info("report accepted channel=%s size=%d", "api", 2000 + i), n)
        logger.removeHandler(handler)

    service = IntakeService.open(settings)
    try:
        code = new_receipt()
        argon2 = cpu_us(lambda i: service.receipts.hash(code), max(20, n // 4))

        def seal_one(i: int) -> object:  # seal_report without its receipt hash
            new_receipt()
            doc = {"kind": "report", "receipt_hash": "00" * 32, "report": built[i % len(built)].model_dump(mode="json")}
            return _seal(service, doc)

        seal = cpu_us(seal_one, n)
        validation = cpu_us(validate, n)
        blob = seal_report(service, built[0])[1]
        writer, batch = writer_us(service.inbox, blob)
    finally:
        service.close()
    loop_rest = max(0.0, loop_us - validation - log_line)
    off_loop = argon2 + seal + log_line + writer
    rest = max(0.0, total_us - loop_us - off_loop)
    return [
        ("event loop: HTTP (h11), ASGI middleware, routing, response", loop_rest),
        ("event loop: JSON parse + ReportIn + Report validation", validation),
        ("event loop: the request log line (scrubbed)", log_line),
        ("thread pool: Argon2id receipt hash (user + page faults)", argon2),
        ("thread pool: receipt code, item JSON, sealed box", seal),
        ("thread pool: the 'report accepted' log line", log_line),
        (f"inbox writer: SQLCipher insert + group commit (batch ~{batch:.0f})", writer),
        ("hand-offs between threads, GIL, wake-ups (the rest)", rest),
    ]


def print_cost_table(
    rows: Sequence[tuple[str, float]], total_us: float, baseline_us: float, baseline_loop_us: float
) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\nwhere the intake's CPU per JSON report goes (measured total {total_us:,.0f} us under load):")
    print(f"  {'component':{width}s}  {'us/request':>10s}  share")
    for name, us in rows:
        print(f"  {name:{width}s}  {us:10,.0f}  {us / total_us:5.0%}")
    print(f"  {'the bare baseline, same run: whole request':{width}s}  {baseline_us:10,.0f}")
    print(f"  {'  of which its event loop (HTTP, FastAPI, JSON)':{width}s}  {baseline_loop_us:10,.0f}")
