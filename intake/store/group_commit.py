"""Group commit for a SQLCipher store written by many threads at once (the inbox, issue 6).

Writes arriving together are run by one writer thread in one transaction with one fsync
(``synchronous=FULL``); each caller returns only after that commit, so an acknowledgement still
means "on disk". Under load this turns N fsyncs into one.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlcipher3

from intake.errors import StoreUnavailable
from intake.store.db import Connection, Store


class _Job:
    __slots__ = ("done", "error", "fn")

    def __init__(self, fn: Callable[[Connection], None]) -> None:
        self.fn = fn
        self.done = threading.Event()
        self.error: BaseException | None = None


class GroupCommitStore(Store):
    """A store whose writes go through :meth:`_grouped` (group commit) or :meth:`_write` (alone)."""

    MAX_BATCH = 256

    def __init__(self, path: Path, key: bytes, *, create: bool = False) -> None:
        super().__init__(path, key, create=create)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        with self._writer_lock:
            self._closed = True
            writer, self._writer = self._writer, None
        if writer is not None:
            self._jobs.put(None)
            writer.join()
        super().close()

    # -- group commit ----------------------------------------------------------------------------
    def _grouped(self, fn: Callable[[Connection], None]) -> None:
        """Run ``fn`` inside the next group transaction; return once it is committed.

        ``fn`` may run twice (see :meth:`_run_batch`): it writes only through the connection and
        sets only its own results, so a run that was rolled back leaves nothing behind.
        """
        job = _Job(fn)
        with self._writer_lock:
            if self._closed:
                raise StoreUnavailable("inbox closed")
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_loop, name="inbox-writer", daemon=True)
                self._writer.start()
            self._jobs.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error

    def _write_loop(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            batch, stop = [first], False
            while len(batch) < self.MAX_BATCH:
                try:
                    nxt = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._run_batch(batch)
            if stop:
                return

    def _run_batch(self, batch: list[_Job]) -> None:
        """Commit ``batch`` in one transaction: all together, or, when a job fails, job by job.

        The common case needs no savepoints. A savepoint per job would make SQLite copy every page
        each job touches into its statement journal first (with ``cipher_memory_security``, an
        mlock'd allocation per 1 KB chunk): that doubled the writer's CPU per report (issue 14).
        """
        try:
            with self._lock:
                if not self._run_together(batch):
                    self._run_apart(batch)
        finally:
            for job in batch:
                job.done.set()

    def _run_together(self, batch: list[_Job]) -> bool:
        """Every job of ``batch`` in one plain transaction. False, with nothing stored and nobody
        answered, when a job raised: then the batch runs again, each job in its own savepoint."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlcipher3.Error:
            self._fail(batch)
            return True
        try:
            for job in batch:
                job.fn(self._conn)
        except BaseException:
            self._rollback()
            return False
        try:
            self._conn.execute("COMMIT")
        except sqlcipher3.Error:
            self._rollback()
            self._fail(batch)
        return True

    @staticmethod
    def _fail(jobs: list[_Job]) -> None:
        unavailable = StoreUnavailable("inbox not writable")
        for job in jobs:
            job.error = unavailable

    def _run_apart(self, batch: list[_Job]) -> None:
        """``batch`` in one transaction, each job in its own savepoint: a job that fails is undone
        alone and gets its error; the others are committed."""
        unavailable = StoreUnavailable("inbox not writable")
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlcipher3.Error:
            for job in batch:
                job.error = unavailable
            return
        ran: list[_Job] = []
        for job in batch:
            try:
                self._conn.execute("SAVEPOINT job")
                job.fn(self._conn)
                self._conn.execute("RELEASE job")
                ran.append(job)
            except BaseException as exc:
                job.error = unavailable if isinstance(exc, sqlcipher3.Error) else exc
                if not self._conn.in_transaction:
                    # SQLite rolled the whole transaction back (disk full, I/O error):
                    # nothing of this batch is stored, so nobody is acknowledged.
                    for other in batch:
                        if other.error is None:
                            other.error = unavailable
                    return
                with contextlib.suppress(sqlcipher3.Error):
                    self._conn.execute("ROLLBACK TO job")
                    self._conn.execute("RELEASE job")
        try:
            self._conn.execute("COMMIT")
        except sqlcipher3.Error:
            self._rollback()
            for job in ran:
                job.error = unavailable

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One durable transaction; any storage failure becomes :class:`StoreUnavailable`."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlcipher3.Error as exc:
                raise StoreUnavailable(f"inbox not writable: {type(exc).__name__}") from None
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except sqlcipher3.Error as exc:
                self._rollback()
                raise StoreUnavailable(f"inbox not writable: {type(exc).__name__}") from None
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        with contextlib.suppress(sqlcipher3.Error):  # the transaction may already be gone
            self._conn.execute("ROLLBACK")
