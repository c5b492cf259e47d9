"""One clock: the code reads time only through intake.clock, and moving that clock moves everything."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intake import clock

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("intake", "channels", "relay", "crypto", "i18n")
# Calls that read a clock. time.sleep and time.perf_counter inside benchmarks are not code paths.
CLOCK_READS = {
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "monotonic"),
    ("time", "monotonic_ns"),
    ("time", "perf_counter"),
    ("time", "localtime"),
    ("time", "gmtime"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
}


def clock_reads(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) in CLOCK_READS
        ):
            found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value.id}.{node.attr}")
        if isinstance(node, ast.ImportFrom) and node.module == "time":
            for alias in node.names:
                if ("time", alias.name) in CLOCK_READS:
                    found.append(f"{path.relative_to(root)}:{node.lineno}: from time import {alias.name}")
    return found


def test_nothing_reads_a_clock_behind_intake_clock() -> None:
    reads = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path != ROOT / "intake" / "clock.py":
                reads.extend(clock_reads(path))
    assert reads == [], "read the time through intake.clock:\n" + "\n".join(reads)


def test_the_checker_finds_a_clock_read(tmp_path: Path) -> None:
    sample = tmp_path / "probe.py"
    sample.write_text("import time\nfrom datetime import datetime\nx = time.time()\ny = datetime.now()\n")
    assert [r.split(": ", 1)[1] for r in clock_reads(sample, tmp_path)] == ["time.time", "datetime.now"]


def test_a_fixed_clock_moves_every_reading_together() -> None:
    start = datetime(2031, 5, 4, 3, 2, 1, 500_000, tzinfo=UTC)
    fixed = clock.FixedClock(start)
    with clock.use(fixed):
        assert clock.now() == start
        assert clock.now_s() == start.replace(microsecond=0)
        assert clock.time() == start.timestamp()
        before = clock.monotonic()
        fixed.advance(timedelta(hours=2))
        assert clock.now() == start + timedelta(hours=2)
        assert clock.monotonic() - before == pytest.approx(7200)
    assert clock.now() != start + timedelta(hours=2)  # the system clock again


def test_the_system_clock_is_aware_utc() -> None:
    now = clock.now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert abs(clock.time() - now.timestamp()) < 60
