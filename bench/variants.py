"""Experiments only: run the intake server with one or more protections or mechanisms changed.

Used with ``bench_intake.py --intake-launcher bench/variants.py`` to measure what a part costs or
what a proposed change would gain, without touching the source:

    BENCH_VARIANT=locktime,cheaphash python bench/bench_intake.py --no-form --no-unlock \\
        --intake-launcher bench/variants.py --keep

Several variants switch protections OFF (``cheaphash``, ``single``): they exist to measure, and
must never be used to run a real intake. Variants (comma-separated in ``BENCH_VARIANT``):

- ``locktime``   time how long the inbox lock is waited for and held; printed to the server log
                 (``LOCKTIME ...``) at exit (use ``--keep`` to read it)
- ``cheaphash``  receipt hash with keyed BLAKE2b instead of Argon2id (UNSAFE: what Argon2id costs)
- ``single``     no status-board row at accept time, one autocommit INSERT instead of BEGIN, two
                 INSERTs, COMMIT (what the extra statements cost inside the lock)
- ``group``      group commit: one writer thread stores every waiting item in one transaction
                 (one fsync), then acknowledges each; durability unchanged
- ``nolog``      log level WARNING (no request log lines)
- ``nomw``       without the ``@app.middleware("http")`` request-log middleware
- ``fastclean``  ``intake.domain._clean`` with one regex instead of a per-character generator
- ``switch``     ``sys.setswitchinterval(0.0005)`` (GIL hand-over every 0.5 ms instead of 5 ms)

For the SMS webhook (``POST /twilio/sms``):

- ``readconn``   ``Inbox.seen`` and ``Inbox.sms_session`` read through a second connection with its
                 own lock (WAL readers see the last commit), instead of queueing for the lock the
                 group-commit writer holds through COMMIT and its fsync
- ``kwcache``    ``channels.sms.conversation.keyword_words`` cached (it rebuilds every keyword's
                 spellings in every locale, ~6-8 times per message)
- ``fastsig``    twilio's ``RequestValidator.get_values`` answers a plain dict first (it tries
                 ``getall`` and ``getlist`` and catches two AttributeErrors per parameter, twice per
                 request); the signature check itself is unchanged

Since bb5aaa6 the source itself has group commit, a plain ASGI request log and a regex ``_clean``:
``group``, ``nomw`` and ``fastclean`` measured those before they were made and are obsolete.

``single`` and ``group`` replace ``Inbox.put`` only: the web form's posts (single-use form token)
and API posts with an ``Idempotency-Key`` are stored by ``Inbox.put_first`` and are not changed.
"""

from __future__ import annotations

import atexit
import os
import queue
import re
import statistics
import sys
import threading
import time
import unicodedata
from typing import Any

VARIANTS = set(filter(None, os.environ.get("BENCH_VARIANT", "").split(",")))
KNOWN = {
    "locktime", "cheaphash", "single", "group", "nolog", "nomw", "fastclean", "switch", "readconn", "kwcache", "fastsig",
}  # fmt: skip


def _q(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[int(p * (len(ordered) - 1))] * 1000 if ordered else float("nan")


def locktime() -> None:
    import intake.store.inbox as inbox_mod

    holds: list[float] = []
    waits: list[float] = []

    class TimedLock:
        def __init__(self) -> None:
            self._lock = threading.Lock()
            self._since = 0.0

        def __enter__(self) -> None:
            start = time.perf_counter()
            self._lock.acquire()
            self._since = time.perf_counter()
            waits.append(self._since - start)

        def __exit__(self, *exc: object) -> None:
            holds.append(time.perf_counter() - self._since)
            self._lock.release()

    original = inbox_mod.Inbox.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._lock = TimedLock()

    inbox_mod.Inbox.__init__ = init  # type: ignore[method-assign]

    def report() -> None:
        if holds:
            print(
                f"LOCKTIME n={len(holds)} hold p50 {_q(holds, 0.5):.2f} p90 {_q(holds, 0.9):.2f} "
                f"p99 {_q(holds, 0.99):.2f} mean {statistics.mean(holds) * 1000:.2f} ms; "
                f"wait p50 {_q(waits, 0.5):.2f} p99 {_q(waits, 0.99):.2f} ms",
                file=sys.stderr,
                flush=True,
            )

    atexit.register(report)


def cheaphash() -> None:
    import nacl.encoding
    import nacl.hash

    from intake.receipts import ReceiptHasher

    def fast(self: Any, code: str) -> bytes:
        return nacl.hash.blake2b(code.encode(), key=self._salt, digest_size=32, encoder=nacl.encoding.RawEncoder)

    ReceiptHasher.hash = fast  # type: ignore[assignment,method-assign]


def single() -> None:
    import intake.store.inbox as inbox_mod

    def put(self: Any, item_id: str, blob: bytes, *, board: Any = None) -> None:
        with self._lock:
            self._conn.execute("INSERT INTO items (id, blob) VALUES (?, ?)", (item_id, blob))

    inbox_mod.Inbox.put = put  # type: ignore[method-assign]


def group() -> None:
    import intake.store.inbox as inbox_mod
    from intake.domain import BoardStatus

    pending: queue.Queue[tuple[str, bytes, Any, list[Any]]] = queue.Queue()
    sizes: list[int] = []
    writers: dict[int, threading.Thread] = {}
    start_lock = threading.Lock()

    def writer(inbox: Any) -> None:
        while True:
            batch = [pending.get()]
            while len(batch) < 64:
                try:
                    batch.append(pending.get_nowait())
                except queue.Empty:
                    break
            sizes.append(len(batch))
            error: BaseException | None = None
            try:
                with inbox._write() as conn:
                    for item_id, blob, board, _ in batch:
                        conn.execute("INSERT INTO items (id, blob) VALUES (?, ?)", (item_id, blob))
                        if board is not None:
                            conn.execute(
                                "INSERT OR IGNORE INTO board (receipt_hash, status, updated_at) VALUES (?, ?, ?)",
                                (bytes(board), BoardStatus.RECEIVED.value, int(time.time())),
                            )
            except BaseException as exc:  # handed to every waiter; nothing acknowledged
                error = exc
            for *_, slot in batch:
                slot.append(error)
                slot[0].set()

    def put(self: Any, item_id: str, blob: bytes, *, board: Any = None) -> None:
        with start_lock:
            if id(self) not in writers:
                writers[id(self)] = threading.Thread(target=writer, args=(self,), daemon=True)
                writers[id(self)].start()
        slot: list[Any] = [threading.Event()]
        pending.put((item_id, blob, board, slot))
        slot[0].wait()
        if slot[1] is not None:
            raise slot[1]

    inbox_mod.Inbox.put = put  # type: ignore[method-assign]
    atexit.register(
        lambda: print(
            f"GROUP batches {len(sizes)} mean size {sum(sizes) / max(1, len(sizes)):.1f}", file=sys.stderr, flush=True
        )
    )


def nolog() -> None:
    import intake.logs as logs

    original = logs.setup_logging
    logs.setup_logging = lambda level="INFO": original("WARNING")


def nomw() -> None:
    from starlette.middleware.base import BaseHTTPMiddleware

    import channels.server as server

    original = server.create_intake_app

    def create(*args: Any, **kwargs: Any) -> Any:
        app = original(*args, **kwargs)
        app.user_middleware = [m for m in app.user_middleware if m.cls is not BaseHTTPMiddleware]
        return app

    server.create_intake_app = create


def fastclean() -> None:
    import intake.domain as domain

    bad = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")  # Cc except \t \n, and Cs

    def clean(text: str) -> str:
        text = unicodedata.normalize("NFC", text.encode("utf-8", "replace").decode("utf-8"))
        return bad.sub("", text).strip()

    domain._clean = clean


def switch() -> None:
    sys.setswitchinterval(0.0005)


def readconn() -> None:
    import intake.store.inbox as inbox_mod
    from intake.store.db import open_store
    from intake.store.schema import INBOX_MIGRATIONS

    original_init, original_close = inbox_mod.Inbox.__init__, inbox_mod.Inbox.close

    def init(self: Any, path: Any, key: bytes, *, create: bool = False) -> None:
        original_init(self, path, key, create=create)
        self._rconn = open_store(self.path, key, INBOX_MIGRATIONS, synchronous="FULL")
        self._rlock = threading.Lock()

    def close(self: Any) -> None:
        original_close(self)
        with self._rlock:
            self._rconn.close()

    def sms_session(self: Any, reporter: bytes) -> Any:
        with self._rlock:
            rows = self._rconn.execute(
                "SELECT state, parts, updated_at FROM sms_sessions WHERE reporter = ?", (reporter,)
            ).fetchall()  # fetchall: the statement is done, so no read transaction stays open
        return (str(rows[0][0]), bytes(rows[0][1]), int(rows[0][2])) if rows else None

    def seen(self: Any, key: bytes) -> bytes | None:
        with self._rlock:
            rows = self._rconn.execute("SELECT replies FROM seen_messages WHERE key = ?", (key,)).fetchall()
        return bytes(rows[0][0]) if rows else None

    inbox_mod.Inbox.__init__ = init  # type: ignore[method-assign]
    inbox_mod.Inbox.close = close  # type: ignore[method-assign]
    inbox_mod.Inbox.sms_session = sms_session  # type: ignore[method-assign]
    inbox_mod.Inbox.seen = seen  # type: ignore[method-assign]


def kwcache() -> None:
    import functools

    import channels.sms.conversation as conversation

    conversation.keyword_words = functools.cache(conversation.keyword_words)  # type: ignore[assignment]


def fastsig() -> None:
    from twilio.request_validator import RequestValidator

    original = RequestValidator.get_values

    def get_values(self: Any, param_dict: Any, param_name: str) -> Any:
        if type(param_dict) is dict:
            return [param_dict[param_name]]
        return original(self, param_dict, param_name)

    RequestValidator.get_values = get_values  # type: ignore[method-assign]


def main() -> None:
    unknown = VARIANTS - KNOWN
    if unknown:
        sys.exit(f"unknown BENCH_VARIANT {', '.join(sorted(unknown))}; known: {', '.join(sorted(KNOWN))}")
    print(f"bench variants: {', '.join(sorted(VARIANTS)) or 'none'}", file=sys.stderr, flush=True)
    for name in sorted(VARIANTS):
        globals()[name]()
    from intake.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
