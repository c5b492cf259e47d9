"""Benchmark: evidence files (issue 16, item 8): sealing, cleaning, whole uploads and the intake's memory.

A benchmark, not a test: nothing asserts on a figure. It exits 0 whatever they are, and 1 only when
they cannot be trusted (an upload answered with another status than 201, the inbox holding another
number of reports or files than were acknowledged, a sealed stream that does not open to its bytes).

    .venv/bin/python bench/bench_files.py            # ~2-3 min on 2 shared cores
    .venv/bin/python bench/bench_files.py --quick    # 1 repeat, fewer uploads (~1 min)

Every figure has a same-run baseline and the ratio; the load average is printed with each part.

1. **Sealing** in-process: ``crypto.stream.seal_stream`` (64 KiB secretstream chunks, key sealed to
   the node key) over 1 MiB and 10 MiB (random bytes and a real JPEG) against libsodium over the
   same bytes whole: ``SealedBox(pk).encrypt`` and ``SecretBox(key).encrypt``; and
   ``open_stream_bytes`` against ``SecretBox.decrypt``. The tries of each size alternate the
   contenders, median of the tries.
2. **Cleaning**: ``intake.evidence.clean`` on a ~1 MiB JPEG (2 MP) and a ~9.5 MiB one (12 MP),
   synthetic photos (gradients, shapes, colour noise) with EXIF and GPS, against the floor: Pillow
   decoding and re-encoding the same image at the same quality (no transpose, no checks).
3. **Memory** of the intake server process (``/proc/PID/status``), on a fresh server: VmHWM reset
   (``5`` to ``/proc/PID/clear_refs``) before one 10 MiB upload (a JPEG, a PDF) and read after it,
   against the RSS just before; the settled RSS over 20 uploads of the 10 MiB JPEG (flat or not);
   the peak of one request with 5 files of 10 MiB (JPEGs, PDFs); the baseline sink's peak for the
   same 10 MiB body beside it.
4. **Whole upload**: the real ``intake serve`` (uvicorn on 127.0.0.1, rate limit off) receiving
   ``POST /api/v1/reports`` as ``multipart/form-data`` (the report's fields as form fields, one file
   under ``attachments``): a ~1 MiB and a ~9.5 MiB JPEG, a 1 MiB and a 10 MiB PDF (kept as it came:
   the PDF shows the stream sealing and the inbox write without re-encoding). The baseline, in the
   same run, is a minimal ASGI app under uvicorn (its own process) that reads the body and throws it
   away; both get the same bytes from the same client, alternating. Median and p95 seconds, MiB/s
   of file, server CPU per upload, ratio (baseline median / intake median). Then the inbox is
   checked: one item per 201, one sealed stream per file received.
5. **Where the time goes**, in-process on the same node: ``read_upload`` (channels/web/uploads.py)
   over the same body, ``clean``, ``seal_files``, ``accept_report`` with and without the file; and
   storing one sealed file in one transaction with the inbox's pragmas and table (a rowid table,
   inbox migration 7) against the same table ``WITHOUT ROWID`` and against plain SQLite.

Everything runs in a throwaway folder that is deleted afterwards (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import httpx

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH_DIR))

from bench_intake import (  # noqa: E402
    LOOPBACK,
    PASSPHRASE,
    Server,
    free_port,
    proc_status,
    start_server,
    stop_server,
    wait_healthy,
)
from files_inprocess import (  # noqa: E402
    MIB,
    bench_clean,
    bench_seal,
    bench_store,
    exif_with_gps,
    interleaved,
    jpeg_near,
    load_average,
    median,
    mibs,
    p95,
    pdf_of,
    photo,
    table,
)

# ---------------------------------------------------------------------------------------------
# Servers: the real intake, and the baseline sink
# ---------------------------------------------------------------------------------------------
# The baseline: uvicorn serving a bare ASGI app that reads the request body as it arrives and
# throws it away (no multipart parsing, no cleaning, no sealing, no storage), answering 201.
SINK = """
import json, sys, uvicorn

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    n = 0
    while True:
        message = await receive()
        n += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    status = 200 if scope["path"] == "/healthz" else 201
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps({"bytes": n}).encode()})

uvicorn.run(app, host=sys.argv[1], port=int(sys.argv[2]), log_level="warning", access_log=False, lifespan="off")
"""


# --trim only, a diagnostic variant, never the intake as it runs: the same server with a thread that
# hands glibc's free heap pages back to the system every 0.5 s (as intake/desk/shared.py's
# give_back_memory does after a lock). What it gives back was free, not held by the intake.
TRIM_LAUNCHER = """
import ctypes, runpy, sys, threading, time

def trim():
    while True:
        time.sleep(0.5)
        ctypes.CDLL(None).malloc_trim(0)

threading.Thread(target=trim, daemon=True).start()
sys.argv = ["intake", *sys.argv[1:]]
runpy.run_module("intake.cli", run_name="__main__", alter_sys=True)
"""


def start_intake(home: Path, log: Path, *, trim: bool = False) -> Server:
    """``python -m intake.cli --home H serve`` on loopback, rate limit off, no INTAKE_/TWILIO_ of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
    env["INTAKE_RATE_LIMIT_PER_MINUTE"] = "0"  # every upload comes from one address
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    port = free_port()
    argv = [sys.executable, *(["-c", TRIM_LAUNCHER] if trim else ["-m", "intake.cli"])]
    argv += ["--home", str(home), "serve", "--host", LOOPBACK, "--port", str(port)]
    return healthy(start_server("intake", argv, port, env, log))


def healthy(server: Server) -> Server:
    """The server once it answers /healthz; stopped (never left running) when it does not."""
    try:
        wait_healthy(server)
    except BaseException:
        stop_server(server)
        raise
    return server


def start_sink(log: Path) -> Server:
    port = free_port()
    return healthy(start_server("sink", [sys.executable, "-c", SINK, LOOPBACK, str(port)], port, dict(os.environ), log))


def multipart(fields: list[tuple[str, str]], files: list[tuple[bytes, str]]) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body as a browser or phone app sends it; built once, sent as is."""
    boundary = "----benchfiles" + os.urandom(12).hex()
    mark = boundary.encode()
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for i, (data, ctype) in enumerate(files, start=1):
        if mark in data:
            raise RuntimeError("boundary inside a file")
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
            f'filename="evidence-{i}.{ctype.split("/")[1]}"\r\nContent-Type: {ctype}\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


REPORT_FIELDS = [
    ("description", "Before the audit the fire exit on floor 3 was chained shut again; the photo shows the chain."),
    ("factory", "Golden Lake Circuit Board Co."),
    ("location", "Dongguan"),
    ("categories", "health_safety"),
    ("consent", "1"),
    ("locale", "en"),
]


def upload_body(files: list[tuple[bytes, str]]) -> tuple[bytes, dict[str, str]]:
    body, ctype = multipart(REPORT_FIELDS, files)
    return body, {"content-type": ctype}


class Poster:
    """One keep-alive HTTP client for one server; checks every answer and counts what was stored."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.client = httpx.Client(base_url=f"http://{LOOPBACK}:{server.port}", timeout=300, trust_env=False)
        self.reports = 0  # 201s (the intake: each one report stored in the inbox)
        self.files = 0  # files those reports carried, as the intake counted them
        self.problems: list[str] = []

    @property
    def pid(self) -> int:
        return self.server.proc.pid

    def post(self, body: bytes, headers: dict[str, str], files: int) -> float:
        start = time.perf_counter()
        r = self.client.post("/api/v1/reports", content=body, headers=headers)
        elapsed = time.perf_counter() - start
        if r.status_code != 201:
            self.problems.append(f"{self.server.name} answered {r.status_code}: {r.text[:300]}")
        elif self.server.name == "intake" and r.json().get("attachments") != files:
            self.problems.append(f"intake received {r.json().get('attachments')} files of {files}")
        else:
            self.reports += 1
            self.files += files
        return elapsed

    def close(self) -> None:
        self.client.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, all threads (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settled_rss(pid: int, limit: float = 5.0) -> float:
    """VmRSS in MiB once it has held still (within 0.1 MiB) for 0.2 s, or after ``limit`` seconds."""
    stop = time.monotonic() + limit
    last, still = proc_status(pid)["VmRSS"], 0
    while still < 4 and time.monotonic() < stop:
        time.sleep(0.05)
        now = proc_status(pid)["VmRSS"]
        still, last = (still + 1 if abs(now - last) < 0.1 else 0), now
    return last


def reset_peak(pid: int) -> None:
    """Reset the process's VmHWM to its current RSS (Linux >= 4.0: ``5`` to /proc/PID/clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_of(poster: Poster, body: bytes, headers: dict[str, str], files: int) -> tuple[float, float, float, float]:
    """(RSS before, VmHWM during, settled RSS after, seconds) of one request, in MiB."""
    before = settled_rss(poster.pid)
    reset_peak(poster.pid)
    seconds = poster.post(body, headers, files)
    peak = proc_status(poster.pid)["VmHWM"]
    return before, peak, settled_rss(poster.pid), seconds


# ---------------------------------------------------------------------------------------------
# 3. Memory of the intake server
# ---------------------------------------------------------------------------------------------
def bench_memory(intake: Poster, sink: Poster, jpeg10: bytes, pdf10: bytes, series: int, variant: str = "") -> None:
    """Peaks of single requests (VmHWM reset before each) and the settled RSS over ``series`` uploads."""
    idle = settled_rss(intake.pid)
    rows: list[list[str]] = []
    requests = [
        ("1 JPEG of %.1f MiB" % (len(jpeg10) / MIB), [(jpeg10, "image/jpeg")]),
        ("1 PDF of %.1f MiB" % (len(pdf10) / MIB), [(pdf10, "application/pdf")]),
    ]
    for label, files in requests:
        body, headers = upload_body(files)
        before, peak, after, seconds = peak_of(intake, body, headers, len(files))
        rows.append([f"intake, {label}", f"{before:.1f}", f"{peak:.1f}", f"+{peak - before:.1f}", f"{after:.1f}",
                     f"{seconds:.2f}"])  # fmt: skip
    body, headers = upload_body([(jpeg10, "image/jpeg")])
    rss = []
    start_series = settled_rss(intake.pid)
    for _ in range(series):
        intake.post(body, headers, 1)
        rss.append(settled_rss(intake.pid))
    for label, files in [
        ("5 JPEGs of %.1f MiB in one request" % (len(jpeg10) / MIB), [(jpeg10, "image/jpeg")] * 5),
        ("5 PDFs of %.1f MiB in one request" % (len(pdf10) / MIB), [(pdf10, "application/pdf")] * 5),
    ]:
        body, headers = upload_body(files)
        before, peak, after, seconds = peak_of(intake, body, headers, len(files))
        rows.append([f"intake, {label}", f"{before:.1f}", f"{peak:.1f}", f"+{peak - before:.1f}", f"{after:.1f}",
                     f"{seconds:.2f}"])  # fmt: skip
    body, headers = upload_body([(jpeg10, "image/jpeg")])
    before, peak, after, seconds = peak_of(sink, body, headers, 1)
    rows.append(["baseline sink, the same 1 JPEG body", f"{before:.1f}", f"{peak:.1f}", f"+{peak - before:.1f}",
                 f"{after:.1f}", f"{seconds:.2f}"])  # fmt: skip
    print(f"\n## 3{variant and 'b'}. Memory of the server process{variant} (MiB; load average {load_average()})\n")
    print(f"intake idle after start: {idle:.1f} MiB; VmHWM reset before each request\n")
    table(["request", "RSS before", "peak (VmHWM)", "growth", "RSS after (settled)", "seconds"], rows)
    marks = sorted({1, min(5, series), min(10, series), series})
    print(
        f"\nSettled RSS over {series} uploads of the {len(jpeg10) / MIB:.1f} MiB JPEG (one file each), "
        f"from {start_series:.1f} MiB: "
        + ", ".join(f"after {i}: {rss[i - 1]:.1f}" for i in marks)
        + (
            f"; from upload {marks[1]} to {series}: {(rss[-1] - rss[marks[1] - 1]) / (series - marks[1]):+.2f} MiB per upload"
            if series > marks[1]
            else ""
        )
    )


# ---------------------------------------------------------------------------------------------
# 4. Whole uploads over HTTP
# ---------------------------------------------------------------------------------------------
def bench_upload(intake: Poster, sink: Poster, cases: list[tuple[str, bytes, str]], repeats: int) -> None:
    """Each file as a one-file ``POST /api/v1/reports``, to the intake and to the sink, alternating."""
    rows = []
    for name, data, ctype in cases:
        body, headers = upload_body([(data, ctype)])
        cpu = {p.server.name: cpu_seconds(p.pid) for p in (intake, sink)}
        t = interleaved(
            {"intake": lambda: intake.post(body, headers, 1), "sink": lambda: sink.post(body, headers, 1)},  # noqa: B023
            repeats,
        )
        cpu = {p.server.name: (cpu_seconds(p.pid) - cpu[p.server.name]) / repeats for p in (intake, sink)}
        mi, ms = median(t["intake"]), median(t["sink"])
        rows.append([
            name, f"{len(data) / MIB:.2f}", f"{mi:.3f}", f"{p95(t['intake']):.3f}", f"{mibs(len(data), mi):.1f}",
            f"{cpu['intake']:.3f}", f"{ms:.3f}", f"{p95(t['sink']):.3f}", f"{mibs(len(data), ms):.0f}",
            f"{cpu['sink']:.3f}", f"{ms / mi:.3f}x", str(repeats),
        ])  # fmt: skip
    print(f"\n## 4. Whole upload, POST /api/v1/reports multipart, one file (load average {load_average()})\n")
    print("seconds from sending the request to the whole answer; server CPU = user+system of the process per upload\n")
    table(
        ["file", "MiB", "intake median s", "intake p95 s", "intake MiB/s", "intake CPU s", "sink median s",
         "sink p95 s", "sink MiB/s", "sink CPU s", "ratio (sink/intake time)", "tries"],
        rows,
    )  # fmt: skip


def check_inbox(home: Path, intakes: list[Poster]) -> list[str]:
    """The inbox holds one item per 201 and, over them, one sealed stream per file received."""
    from intake.node import open_inbox
    from intake.settings import Settings

    inbox = open_inbox(Settings.load(home, env={}))
    try:
        items = inbox.items(limit=100_000)
        files = sum(len(inbox.files(item_id)) for _seq, item_id, _blob in items)
    finally:
        inbox.close()
    reports, sent = sum(p.reports for p in intakes), sum(p.files for p in intakes)
    same = (len(items), files) == (reports, sent)
    print(
        f"\ninbox: {len(items)} items with {files} sealed files; acknowledged {reports} reports "
        f"with {sent} files: {'match' if same else 'MISMATCH'}"
    )
    if not same:
        return [f"inbox holds {len(items)} items / {files} files, acknowledged {reports} / {sent}"]
    return []


# ---------------------------------------------------------------------------------------------
# 5. Where an upload's server time goes, in-process
# ---------------------------------------------------------------------------------------------
def read_upload_of(body: bytes, headers: dict[str, str], settings: object, service: object) -> object:
    """channels/web/uploads.py ``read_upload`` over the body, fed in 64 KiB messages as uvicorn does
    (it cleans each file and seals it at once for ``service``'s node)."""
    import asyncio
    from types import SimpleNamespace

    from starlette.requests import Request

    from channels.web.uploads import read_upload

    pieces = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    messages = iter(
        [{"type": "http.request", "body": p, "more_body": i < len(pieces) - 1} for i, p in enumerate(pieces)]
    )

    async def receive() -> dict[str, object]:
        return next(messages)

    scope = {"type": "http", "method": "POST", "path": "/api/v1/reports", "query_string": b"",
             "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
             "app": SimpleNamespace(state=SimpleNamespace(service=service))}  # fmt: skip
    return asyncio.run(read_upload(Request(scope, receive), settings))  # type: ignore[arg-type]


def bench_breakdown(home: Path, cases: list[tuple[str, bytes, str]], tries: int) -> list[str]:
    """The intake's steps of one upload in-process, one thread, on the bench's node (after the servers)."""
    from channels.web.api import ReportIn
    from channels.web.forms import build_report
    from intake.domain import Channel
    from intake.evidence import clean
    from intake.services import IntakeService, accept_report, seal_files
    from intake.settings import Settings

    settings = Settings.load(home, env={})
    fields = dict(REPORT_FIELDS) | {"categories": ["health_safety"], "consent": 1}
    report = build_report(Channel.API, "en", ReportIn.model_validate(fields).model_dump(exclude={"locale"}))
    service = IntakeService.open(settings)
    problems: list[str] = []
    rows = []
    try:
        for name, data, ctype in cases:
            body, headers = upload_body([(data, ctype)])
            upload = read_upload_of(body, headers, settings, service)
            if upload.problem is not None or len(upload.files) != 1:  # type: ignore[attr-defined]
                problems.append(f"in-process read_upload of {name}: {upload.problem!r}")  # type: ignore[attr-defined]
                continue
            files = [clean(data)]  # accept_report seals these afresh each time (a fresh item id)
            t = interleaved(
                {
                    "read": partial(read_upload_of, body, headers, settings, service),
                    "clean": partial(clean, data),
                    "seal": partial(seal_files, service, "bench-item", files),
                    "accept": partial(accept_report, service, report, files=files),
                    "accept0": partial(accept_report, service, report),
                },
                tries,
            )
            m = {k: median(v) for k, v in t.items()}
            rows.append([
                name, f"{m['read']:.3f}", f"{m['clean']:.3f}", f"{m['read'] - m['clean']:.3f}", f"{m['accept']:.3f}",
                f"{m['seal']:.3f}", f"{m['accept0']:.3f}", f"{m['accept'] - m['seal'] - m['accept0']:.3f}",
                f"{m['read'] + m['accept']:.3f}", str(tries),
            ])  # fmt: skip
    finally:
        service.close()
    print(
        f"\n## 5. Where the intake's time goes, in-process, one thread (seconds, median; load average {load_average()})\n"
    )
    print("read_upload = channels/web/uploads.py over the body in 64 KiB pieces (multipart parsing, caps, SHA-256,")
    print("clean() in a worker thread, then sealing at once); accept_report (here given the cleaned file, so it")
    print("seals it again) = receipt, sealing, one inbox transaction with its fsync\n")
    table(
        ["file", "read_upload", "of which clean", "parsing etc.", "accept_report", "of which seal_files",
         "accept_report without file", "storing the file (rest)", "sum", "tries"],
        rows,
    )  # fmt: skip
    return problems


# ---------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="1 upload per file, few in-process tries, 5 in the series")
    p.add_argument("--repeats", type=int, default=8, help="uploads per file and server (default 8)")
    p.add_argument("--series", type=int, default=20, help="10 MiB uploads in the memory series (default 20)")
    p.add_argument("--trim", action="store_true", help="also part 3 on a variant that calls malloc_trim (diagnostic)")
    p.add_argument("--keep", action="store_true", help="keep the throwaway folder (node, server logs)")
    args = p.parse_args(argv)
    if args.quick:
        args.repeats, args.series = 1, 5
    args.seal_tries = {False: 5, True: 2} if args.quick else {False: 30, True: 10}
    args.clean_tries = {False: 2, True: 1} if args.quick else {False: 10, True: 5}
    args.breakdown_tries = 1 if args.quick else 3
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    print(f"# evidence files benchmark  python {sys.version.split()[0]}  cores={os.cpu_count()}  "
          f"load average {load_average()}")  # fmt: skip
    rnd = random.Random(16)
    t0 = time.perf_counter()
    jpeg1, q1 = jpeg_near(photo(1600, 1200, 20, seed=1), MIB, exif_with_gps())
    big = photo(4000, 3000, 40, seed=2)
    jpeg10, q10 = jpeg_near(big, 9 * MIB + MIB // 2, exif_with_gps())
    images = [(f"JPEG q{q1}", jpeg1), (f"JPEG q{q10}", jpeg10)]
    if not args.quick:  # a phone held upright: clean() turns the pixels (exif_transpose), the floor does not
        out = io.BytesIO()
        big.save(out, "JPEG", quality=q10, exif=exif_with_gps(orientation=6))
        images.append((f"JPEG q{q10}, orientation 6", out.getvalue()))
    del big
    pdf1, pdf10 = pdf_of(MIB, 1), pdf_of(10 * MIB, 2)
    print(f"# synthetic files made in {time.perf_counter() - t0:.1f} s: JPEGs of {len(jpeg1) / MIB:.2f} MiB "
          f"(1600x1200, q{q1}) and {len(jpeg10) / MIB:.2f} MiB (4000x3000, q{q10}) with EXIF and GPS; "
          f"PDFs of 1 and 10 MiB; random bytes of 1 and 10 MiB")  # fmt: skip

    problems = bench_seal(
        [("random", rnd.randbytes(MIB)), ("random", rnd.randbytes(10 * MIB)),
         (f"JPEG {len(jpeg1) / MIB:.1f} MiB", jpeg1), (f"JPEG {len(jpeg10) / MIB:.1f} MiB", jpeg10)],
        args.seal_tries,
    )  # fmt: skip
    problems += bench_clean(images, args.clean_tries)

    from intake.node import init_node
    from intake.settings import Settings

    workdir = Path(tempfile.mkdtemp(prefix="intake-bench-files-"))
    servers: list[Server] = []
    posters: list[Poster] = []
    try:
        home = workdir / "node"
        init_node(Settings.load(home, env={}), user="bench", passphrase=PASSPHRASE, profile="interactive")
        servers.append(start_intake(home, workdir / "intake.log"))
        servers.append(start_sink(workdir / "sink.log"))
        intake, sink = Poster(servers[0]), Poster(servers[1])
        posters += [intake, sink]
        bench_memory(intake, sink, jpeg10, pdf10, args.series)
        cases = [
            (f"JPEG {len(jpeg1) / MIB:.1f} MiB", jpeg1, "image/jpeg"),
            (f"JPEG {len(jpeg10) / MIB:.1f} MiB", jpeg10, "image/jpeg"),
            ("PDF 1 MiB", pdf1, "application/pdf"),
            ("PDF 10 MiB", pdf10, "application/pdf"),
        ]
        bench_upload(intake, sink, cases, args.repeats)
        print(f"\nintake RSS at the end, after {intake.reports} uploads: {settled_rss(intake.pid):.1f} MiB "
              f"(peak of the last request {proc_status(intake.pid)['VmHWM']:.1f})")  # fmt: skip
        intakes = [intake]
        if args.trim:
            stop_server(servers.pop(0))
            servers.insert(0, start_intake(home, workdir / "intake-trim.log", trim=True))
            intakes.append(Poster(servers[0]))
            posters.append(intakes[-1])
            bench_memory(
                intakes[-1], sink, jpeg10, pdf10, args.series, variant=", with malloc_trim every 0.5 s (--trim)"
            )
        for poster in posters:
            problems += poster.problems
            poster.close()
        posters = []
        for server in servers:
            stop_server(server)
        problems += check_inbox(home, intakes)
        problems += bench_breakdown(home, cases, args.breakdown_tries)
        bench_store(workdir, [MIB, 10 * MIB], args.breakdown_tries)
    finally:
        for poster in posters:
            poster.close()
        for server in servers:
            stop_server(server)
        if args.keep:
            print(f"# kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n# done in {time.perf_counter() - began:.0f} s; load average {load_average()}")
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
