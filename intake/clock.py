"""The one clock. Every time the code reads, wall or monotonic, comes from here.

Why one place: a report's dates, a session's expiry, an SMS conversation's idle limit and a relay
envelope's timestamp must agree with each other, and the test suite must be able to move all of
them at once (``tests/conftest.py`` runs the whole suite a second time with the clock years ahead;
see ``INTAKE_TEST_YEARS_AHEAD``), so that a date written into a test or a timestamp read from two
different clocks fails CI instead of failing a labour group next year.

Code calls :func:`now`, :func:`time` or :func:`monotonic`; a test that needs a fixed instant uses
:func:`use` with a :class:`FixedClock` (or time-machine, which these functions follow because they
read the standard library's clocks at call time). The crypto layer, which sits below this one, takes
times as arguments and never reads a clock itself.
"""

from __future__ import annotations

import time as _time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    """The machine's clocks (UTC wall time; a monotonic counter for durations)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return _time.monotonic()


@dataclass
class FixedClock:
    """A clock that moves only when told to: for tests and simulations."""

    at: datetime
    counter: float = 0.0

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self.counter

    def advance(self, delta: timedelta | float) -> None:
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        self.at += timedelta(seconds=seconds)
        self.counter += seconds


_current: Clock = SystemClock()


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _current.now()


def now_s() -> datetime:
    """:func:`now` rounded down to whole seconds (how stores and summaries write times)."""
    return _current.now().replace(microsecond=0)


def time() -> float:
    """Seconds since 1970 (UTC), as :func:`time.time` would give."""
    return _current.now().timestamp()


def monotonic() -> float:
    """A counter for measuring durations (idle locks, rate limits); never goes back."""
    return _current.monotonic()


@contextmanager
def use(clock: Clock) -> Iterator[Clock]:
    """Make ``clock`` the one clock inside the ``with`` block (tests only)."""
    global _current
    before, _current = _current, clock
    try:
        yield clock
    finally:
        _current = before
