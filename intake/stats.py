"""Statistics of cases.db for the dashboard and the public export: pure computations, no web.

* Counts by month (``YYYY-MM`` of receipt), category (a case counts once in each of its
  categories; ``uncategorised`` when it has none), factory (the registered factory's name when the
  case is linked to one, else the name the worker gave; ``""`` when none) and channel.
* Time to first response (hours, from receipt to the first reply to the worker) and time to
  resolution (days, from receipt to the move to ``resolved``): count, median and p90 (nearest rank).
* Overdue: open cases (new, triaged, investigating, remedy) that have been in their stage longer
  than the stage's days in ``stage_deadlines`` (counted from ``status_since``, or receipt).
* Small-cell suppression (:func:`suppress`) and the public export (:func:`public_export`): factory
  x category and month x category, suppressed; no case ids, no free text (a factory the worker
  named but nobody registered is counted as ``unregistered``), no date finer than a month.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from intake import clock
from intake.store.cases import CasesStore

OPEN_STAGES = ("new", "triaged", "investigating", "remedy")
THRESHOLD = 5  # counts 1..THRESHOLD-1 are never shown
SUPPRESSED = "<5"  # a count from 1 to 4
SECONDARY = "*"  # a count of 5 or more, hidden so that no total gives a "<5" away
HIDDEN = (SUPPRESSED, SECONDARY)
UNCATEGORISED = "uncategorised"
UNREGISTERED = "unregistered"
TOTAL = "total"


@dataclass(frozen=True)
class CaseRow:
    """What the statistics need of one case (no words, no contact)."""

    id: int
    created_at: datetime
    status: str
    categories: tuple[str, ...]
    factory: str  # registered name when linked, else as the worker gave it
    registered: bool
    channel: str
    status_since: datetime
    first_response_at: datetime | None = None
    closed_at: datetime | None = None


def _when(text: str) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def load_rows(store: CasesStore) -> list[CaseRow]:
    """Every case of the store, as :class:`CaseRow` (a factory merged into another counts as that one)."""
    sql = """SELECT c.id, c.created_at, c.status, c.categories, c.factory, c.channel, c.status_since,
                    c.first_response_at, c.closed_at, COALESCE(m.name, f.name)
             FROM cases c LEFT JOIN factories f ON f.id = c.factory_id
             LEFT JOIN factories m ON m.id = f.merged_into
             ORDER BY c.id"""
    with store._lock:
        rows = store._conn.execute(sql).fetchall()
    out = []
    for cid, created, status, cats, factory, channel, since, first, closed, registered in rows:
        created_at = _when(created)
        assert created_at is not None  # noqa: S101 - NOT NULL column
        out.append(
            CaseRow(
                id=int(cid),
                created_at=created_at,
                status=str(status),
                categories=tuple(str(c) for c in json.loads(cats or "[]")),
                factory=str(registered) if registered is not None else str(factory).strip(),
                registered=registered is not None,
                channel=str(channel),
                status_since=_when(since) or created_at,
                first_response_at=_when(first),
                closed_at=_when(closed),
            )
        )
    return out


# -- dashboard ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Summary:
    """Count, median and 90th percentile (nearest rank) of some durations; None when there are none."""

    n: int
    median: float | None
    p90: float | None


def summarise(values: Iterable[float]) -> Summary:
    data = sorted(values)
    if not data:
        return Summary(0, None, None)
    p90 = data[max(0, math.ceil(0.9 * len(data)) - 1)]
    return Summary(len(data), round(float(statistics.median(data)), 1), round(float(p90), 1))


@dataclass(frozen=True)
class Overdue:
    id: int
    status: str
    days_in_stage: int
    days_over: int


@dataclass(frozen=True)
class Dashboard:
    total: int
    by_month: dict[str, int]
    by_category: dict[str, int]
    by_factory: dict[str, int]
    by_channel: dict[str, int]
    by_status: dict[str, int]
    first_response_hours: Summary
    resolution_days: Summary
    overdue: list[Overdue] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _sorted_counts(counter: Counter[str], *, by_key: bool = False) -> dict[str, int]:
    if by_key:
        return dict(sorted(counter.items()))
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def month(when: datetime) -> str:
    return when.strftime("%Y-%m")


def overdue(rows: Iterable[CaseRow], deadlines: Mapping[str, int], now: datetime) -> list[Overdue]:
    """Open cases longer in their stage than its days, most overdue first."""
    out = []
    for r in rows:
        if r.status not in OPEN_STAGES or r.status not in deadlines:
            continue
        days = (now - r.status_since).days
        if days > deadlines[r.status]:
            out.append(Overdue(r.id, r.status, days, days - deadlines[r.status]))
    return sorted(out, key=lambda o: (-o.days_over, o.id))


def dashboard(rows: Sequence[CaseRow], deadlines: Mapping[str, int], now: datetime | None = None) -> Dashboard:
    now = now or clock.now()
    categories: Counter[str] = Counter()
    for r in rows:
        categories.update(r.categories or (UNCATEGORISED,))
    hours = [
        (r.first_response_at - r.created_at).total_seconds() / 3600 for r in rows if r.first_response_at is not None
    ]
    days = [
        (r.closed_at - r.created_at).total_seconds() / 86400
        for r in rows
        if r.status == "resolved" and r.closed_at is not None
    ]
    return Dashboard(
        total=len(rows),
        by_month=_sorted_counts(Counter(month(r.created_at) for r in rows), by_key=True),
        by_category=_sorted_counts(categories),
        by_factory=_sorted_counts(Counter(r.factory for r in rows)),
        by_channel=_sorted_counts(Counter(r.channel for r in rows)),
        by_status=_sorted_counts(Counter(r.status for r in rows)),
        first_response_hours=summarise(hours),
        resolution_days=summarise(days),
        overdue=overdue(rows, deadlines, now),
    )


def dashboard_csv(d: Dashboard) -> str:
    """The dashboard as ``section,key,value`` lines (for a spreadsheet)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["section", "key", "value"])
    w.writerow(["total", "", d.total])
    for name in ("by_month", "by_category", "by_factory", "by_channel", "by_status"):
        for key, value in getattr(d, name).items():
            w.writerow([name, key, value])
    for name in ("first_response_hours", "resolution_days"):
        s: Summary = getattr(d, name)
        for key in ("n", "median", "p90"):
            value = getattr(s, key)
            w.writerow([name, key, "" if value is None else value])
    for o in d.overdue:
        w.writerow(["overdue", o.id, f"{o.status}:{o.days_over}"])
    return buf.getvalue()


# -- suppression ----------------------------------------------------------------------------------------
Shown = int | str


@dataclass(frozen=True)
class SuppressedTable:
    """A table with its margins; a hidden entry is ``"<5"`` (1 to 4) or ``"*"`` (hidden to protect one)."""

    rows: list[str]
    columns: list[str]
    cells: list[list[Shown]]
    row_totals: list[Shown]
    column_totals: list[Shown]
    total: Shown

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def suppress(rows: Sequence[str], columns: Sequence[str], cells: Sequence[Sequence[int]]) -> SuppressedTable:
    """Suppress small cells of a table and, where needed, others, so no hidden count can be recomputed.

    The table is taken with its row totals, column totals and grand total (each the sum of what it
    totals). Primary: every entry (cell or total) from 1 to 4 is hidden. Secondary: while some line
    (a row with its total, a column with its total, the row of column totals with the grand total,
    or the column of row totals with it) has exactly one hidden entry, the smallest non-zero shown
    cell of that line is hidden too (a total only when no cell is left), shown as ``"*"``. Zeros are
    shown as 0. Every line then hides no entry or at least two, so no single equation gives one away.
    """
    n_rows, n_cols = len(rows), len(columns)
    grid = [[int(v) for v in row] for row in cells]
    if len(grid) != n_rows or any(len(r) != n_cols for r in grid):
        raise ValueError("cells do not match rows x columns")
    # The extended table: row n_rows holds column totals, column n_cols row totals.
    ext = [[*r, sum(r)] for r in grid]
    col_totals = [sum(grid[i][j] for i in range(n_rows)) for j in range(n_cols)]
    ext.append([*col_totals, sum(col_totals)])
    hidden = [[0 < v < THRESHOLD for v in r] for r in ext]

    def lines() -> Iterable[list[tuple[int, int]]]:
        for i in range(n_rows + 1):
            yield [(i, j) for j in range(n_cols + 1)]
        for j in range(n_cols + 1):
            yield [(i, j) for i in range(n_rows + 1)]

    changed = True
    while changed:
        changed = False
        for line in lines():
            if sum(hidden[i][j] for i, j in line) != 1:
                continue
            candidates = [(i, j) for i, j in line if not hidden[i][j] and ext[i][j] > 0]
            inner = [(i, j) for i, j in candidates if i < n_rows and j < n_cols]
            pool = inner or candidates
            if not pool:  # cannot happen: a hidden non-zero entry implies a non-zero partner
                continue
            i, j = min(pool, key=lambda ij: (ext[ij[0]][ij[1]], ij))
            hidden[i][j] = True
            changed = True

    def shown(i: int, j: int) -> Shown:
        if not hidden[i][j]:
            return ext[i][j]
        return SUPPRESSED if ext[i][j] < THRESHOLD else SECONDARY

    return SuppressedTable(
        rows=list(rows),
        columns=list(columns),
        cells=[[shown(i, j) for j in range(n_cols)] for i in range(n_rows)],
        row_totals=[shown(i, n_cols) for i in range(n_rows)],
        column_totals=[shown(n_rows, j) for j in range(n_cols)],
        total=shown(n_rows, n_cols),
    )


def crosstab(
    pairs: Iterable[tuple[str, str]], columns: Sequence[str] | None = None
) -> tuple[list[str], list[str], list[list[int]]]:
    """Rows, columns and counts of (row, column) pairs."""
    counter = Counter(pairs)
    rows = sorted({r for r, _ in counter})
    cols = list(columns) if columns is not None else sorted({c for _, c in counter})
    return rows, cols, [[counter.get((r, c), 0) for c in cols] for r in rows]


def public_export(rows: Sequence[CaseRow], categories: Sequence[str] | None = None) -> dict[str, Any]:
    """Factory x category and month x category, suppressed: no ids, no free text, months only."""

    def pairs(key: Any) -> list[tuple[str, str]]:
        return [(key(r), c) for r in rows for c in (r.categories or (UNCATEGORISED,))]

    used = {c for r in rows for c in (r.categories or (UNCATEGORISED,))}
    cols = [c for c in (categories or sorted(used)) if c in used]
    if UNCATEGORISED in used and UNCATEGORISED not in cols:
        cols.append(UNCATEGORISED)
    by_factory = crosstab(pairs(lambda r: r.factory if r.registered else UNREGISTERED), cols)
    by_month = crosstab(pairs(lambda r: month(r.created_at)), cols)
    return {
        "threshold": THRESHOLD,
        "note": "Counts from 1 to 4 are shown as <5; counts shown as * are 5 or more, hidden so that no total "
        "reveals a count under 5. A case counts once in each of its categories.",
        "factory_by_category": suppress(*by_factory).as_json(),
        "month_by_category": suppress(*by_month).as_json(),
    }


def public_csv(export: Mapping[str, Any]) -> str:
    """The public export as ``table,row,column,value`` lines (totals under ``total``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["table", "row", "column", "value"])
    for name, t in export.items():
        if not (isinstance(t, Mapping) and "cells" in t):
            continue  # not a table (the threshold, the note, ...)
        for row, values, row_total in zip(t["rows"], t["cells"], t["row_totals"], strict=True):
            for col, value in zip(t["columns"], values, strict=True):
                w.writerow([name, row, col, value])
            w.writerow([name, row, TOTAL, row_total])
        for col, value in zip(t["columns"], t["column_totals"], strict=True):
            w.writerow([name, TOTAL, col, value])
        w.writerow([name, TOTAL, TOTAL, t["total"]])
    return buf.getvalue()
