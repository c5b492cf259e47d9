"""One background worker thread for slow jobs a webhook must not wait for (downloads from Twilio).

A webhook hands its job to :meth:`BackgroundJobs.submit` and answers at once; one daemon thread,
started with the first job, runs :meth:`BackgroundJobs.process` on each in turn. Whatever one job
raises is logged by its type only (never its content: a job may carry a worker's files) and the
thread goes on with the next. Used by channels/voice/recordings.py and channels/sms/media.py.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

_Job = tuple[tuple[Any, ...], dict[str, Any]]


class BackgroundJobs:
    """A queue of jobs and the one daemon thread that processes them (started lazily)."""

    def __init__(self, *, thread_name: str, log: logging.Logger, failed: str) -> None:
        """``failed`` is the log message when a job raises, e.g. "recording not processed"."""
        self._thread_name = thread_name
        self._log = log
        self._failed = failed
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, *job: Any, **options: Any) -> None:
        """Queue ``process(*job, **options)`` for the worker thread (started with the first job)."""
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
                self._worker.start()
        self._jobs.put((job, options))

    def process(self, *job: Any, **options: Any) -> object:
        """Do one job (in the worker thread); subclasses say what."""
        raise NotImplementedError

    def join(self) -> None:
        """Wait until every submitted job is processed (tests, shutdown)."""
        self._jobs.join()

    def close(self) -> None:
        """Stop the worker thread after the jobs queued before this (waiting up to a minute)."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            self._jobs.put(None)
            worker.join(60)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                self.process(*job[0], **job[1])
            except Exception as exc:  # the worker must survive anything one job does
                self._log.error("%s: %s", self._failed, type(exc).__name__)
            finally:
                self._jobs.task_done()
