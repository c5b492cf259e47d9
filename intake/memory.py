"""Handing freed heap memory back to the system (glibc ``malloc_trim``).

glibc keeps freed memory in its heaps for reuse, so a process's resident size stays at its high-water
mark after a burst: the desk after a lock, the intake after a 50 MB upload (bench/bench_files.py:
164-209 MiB settled, 100-170 MiB trimmed). ``malloc_trim`` hands the free pages back in milliseconds.
Other C libraries have no ``malloc_trim``: nothing happens there.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
from typing import Any


def give_back_memory() -> None:
    """Return the heap memory already freed to the system (never memory still in use)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    with contextlib.suppress(OSError, TypeError, AttributeError):
        found = ctypes.CDLL(None).malloc_trim
        found.argtypes, found.restype = [ctypes.c_size_t], ctypes.c_int
        return found
    return None
