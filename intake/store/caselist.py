"""The desk's case list at a million cases: its filters, and which index answers them.

Every filter the desk offers (status, category, channel, language, severity, factory, overdue) is
an equality on a coded field, and a page stops at its limit in the desk's order (urgent, high, the
rest; newest first within each). A query costs the index entries it walks before the page is full
or the walk ends, so each query walks the smallest part of an index that holds all its answers:

- Each filter field has an index in the desk's order that carries the other filter fields too
  (``cases_by_<field>_filter``, schema.py): the other filters are checked in the index, and a
  case's row, with its long description, is read only for a case that goes on the page.
- A case's categories are a JSON list in ``cases.categories``; ``case_categories`` holds one row per
  case and category with the same fields, in the same order, kept right by triggers on ``cases``.
- The walk starts at the filter with the fewest cases: ``case_counts`` (kept by triggers too) says
  how many cases hold each value, so a rare value bounds the walk and a value no case holds ends it
  at once. Counts only choose the index; the answer is the same whichever is walked.
- A search's walk is bounded by the ids its filters span (the ends of their index ranges), so a
  stage's or a recent filter's cases do not send it through years of older matches.
- A search (three characters or more) walks the full-text index newest first and checks the
  filters of each match in a narrow index by case id. Within a filter of few cases (a factory, a
  rare category) it reads those cases instead: asking the full-text index about one case costs
  milliseconds, reading it tens of microseconds.
- What no index bounds is capped, and the page says so: a search walks at most a budget of
  matches (then the desk offers to search on below the last one), and one or two letters, which
  the trigram index cannot look up, are looked for in at most ``SHORT_WALK`` cases of the list.

bench/bench_filters.py measures every filter and combination at 100,000 and 1,000,000 cases.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from intake.store.db import Connection

# Filter fields of ``cases``, each with an index cases_by_<field>_filter (schema.py).
FIELDS = ("status", "severity", "channel", "locale", "factory_id")
RANKS = {"urgent": 0, "high": 1}
# A search within a filter of at most this many cases reads them all (1,000,000 cases: ~18 µs of
# CPU a case, so ~36 ms at most).
FEW = 2000
# A search walks at most WALK_BUDGET units of matches: a match costs one unit per trigram of the
# words, one to check its filters and three more to look up its category (1,000,000 cases, CPU:
# ~2.4 µs a unit), so a walk that fills no page ends in ~30 ms: ~1,700 matches of "overtime".
WALK_BUDGET = 12_000
# One or two letters are looked for in at most this many cases of the list: a row read and a LIKE
# each, ~40 µs of CPU at 1,000,000 cases, so ~60 ms at most.
SHORT_WALK = 1500
# A look-up of a case's category in case_categories costs about this many index entries walked
# (bench: ~7 µs against ~0.5 µs).
PROBE = 10
CHUNK = 256  # ids checked against the filters (or read for their words) per statement


def rank_of(prefix: str = "") -> str:
    """The desk's order as SQL (the same expression as the indexes, or SQLite would not use them)."""
    return f"(CASE {prefix}severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END)"


@dataclass(frozen=True)
class Filters:
    status: str = ""
    category: str = ""
    channel: str = ""
    locale: str = ""
    severity: str = ""
    q: str = ""
    factory_id: int | None = None  # linked to this factory of the register
    overdue: bool = False  # only cases past their stage's target (needs find(..., deadlines=...))
    limit: int = 200
    before: int | None = None  # a search goes on below this case id (the page before stopped there)


class Query(NamedTuple):
    sql: str
    params: tuple[Any, ...]


class Page(NamedTuple):
    """Case ids in the desk's order (a search: newest first), and where a capped walk stopped."""

    ids: list[int]
    capped: bool = False  # not every case was looked at: older or later ones may match too
    searched_to: int | None = None  # a capped search: it can go on below this case id


def find(conn: Connection, f: Filters, deadlines: Mapping[str, int], now: datetime) -> Page:
    """The page of case ids for ``f`` (the caller holds the store's lock)."""
    limit = max(1, min(f.limit, 1000))
    eq = _equalities(f)
    stages = _stages(f, deadlines, now)
    if stages == []:
        return Page([])
    q = f.q.strip()
    if len(q) >= 3:  # the trigram index needs three characters
        return _search(conn, eq, stages, q, f.before, limit)
    walk = SHORT_WALK + 1 if q else limit  # one more: are there cases beyond those looked at?
    # Overdue: one walk per stage, each stopping at the limit, merged here (an OR of stages would
    # make SQLite sort every overdue case).
    walks = [_run(conn, _walk(conn, eq, None, walk))] if stages is None else []
    for status, cutoff in stages or ():
        walks.append(_run(conn, _walk(conn, {**eq, "status": status}, cutoff, walk)))
    rows = sorted((row for rows in walks for row in rows), key=lambda r: (r[1], -r[0]))
    if not q:
        return Page([r[0] for r in rows[:limit]])
    # One or two letters: LIKE on the words of the first SHORT_WALK cases of the list.
    found = _keep_in_order(conn, [r[0] for r in rows[:SHORT_WALK]], *_like(q), limit)
    return Page(found, capped=len(found) < limit and len(rows) > SHORT_WALK)


def plan(conn: Connection, f: Filters, deadlines: Mapping[str, int], now: datetime) -> list[Query]:
    """The statements that :func:`find` starts with for ``f`` (for EXPLAIN QUERY PLAN)."""
    eq = _equalities(f)
    stages = _stages(f, deadlines, now)
    q = f.q.strip()
    if stages == []:
        return []
    if len(q) >= 3:
        lead, n = _lead(conn, eq)
        if lead is not None and n <= FEW:
            return [_few(eq, stages, lead, f.before)]
        lo, hi = _span(conn, eq, stages)
        walk = _fts_walk(q, lo, min(hi, (f.before or 2**63) - 1), 1)
        return [walk, _check(eq, stages, [0] * CHUNK)] if eq or stages else [walk]
    if stages is None:
        return [_walk(conn, eq, None, f.limit)]
    return [_walk(conn, {**eq, "status": status}, cutoff, f.limit) for status, cutoff in stages]


def _equalities(f: Filters) -> dict[str, Any]:
    """The filters that are given, field -> value (category last: it is not a column of cases)."""
    given = {
        "status": f.status, "severity": f.severity, "channel": f.channel, "locale": f.locale,
        "factory_id": f.factory_id, "category": f.category,
    }  # fmt: skip
    return {k: v for k, v in given.items() if v is not None and v != ""}


def _stages(f: Filters, deadlines: Mapping[str, int], now: datetime) -> list[tuple[str, str]] | None:
    """Overdue: (status, cutoff) per stage with a target; in it since before the cutoff is overdue."""
    if not f.overdue:
        return None
    return [
        (status, (now - timedelta(days=days)).isoformat())
        for status, days in deadlines.items()
        if not f.status or f.status == status
    ]


def counts(conn: Connection, eq: Mapping[str, Any]) -> dict[str, int]:
    """How many cases hold each filter's value (0 for a value none holds)."""
    out: dict[str, int] = {}
    for field, value in eq.items():
        row = conn.execute("SELECT n FROM case_counts WHERE field = ? AND value = ?", (field, str(value))).fetchone()
        out[field] = int(row[0]) if row else 0
    return out


def _lead(conn: Connection, eq: Mapping[str, Any]) -> tuple[str | None, int]:
    """The filter whose walk costs least, and how many cases it holds; (None, 0) without filters.

    A walk costs its entries; along a field's index, a category filter costs a look-up in
    case_categories per entry too (``PROBE`` entries' worth), so the category's own walk, which
    holds every other field, wins unless a field is that much rarer. Ties: the order of ``eq``.
    """
    if not eq:
        return None, 0
    n = counts(conn, eq)
    probe = PROBE if "category" in eq else 1
    lead = min(eq, key=lambda field: n[field] * (1 if field == "category" else probe))
    return lead, n[lead]


def _run(conn: Connection, query: Query) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(query.sql, query.params).fetchall()]


def _conditions(a: str, eq: Mapping[str, Any], skip: str | None = None) -> tuple[list[str], list[Any]]:
    """``eq`` as SQL on the row or index entry ``a`` (the category through case_categories)."""
    where, params = [], []
    for field, value in eq.items():
        if field == skip:
            continue
        if field == "category":
            where.append(f"EXISTS (SELECT 1 FROM case_categories k2 WHERE k2.case_id = {a}.id AND k2.category = ?)")  # noqa: S608
        else:
            where.append(f"{a}.{field} = ?")
        params.append(value)
    return where, params


def _overdue(a: str, stages: list[tuple[str, str]]) -> tuple[str, list[str]]:
    sql = " OR ".join(f"({a}.status = ? AND {a}.status_since < ?)" for _ in stages)
    return f"({sql})", [v for stage in stages for v in stage]


def _walk(conn: Connection, eq: Mapping[str, Any], cutoff: str | None, limit: int) -> Query:
    """(id, rank) of the cases with these values (in their stage since before ``cutoff``), in the
    desk's order, along the index of the filter whose walk costs least (:func:`_lead`)."""
    lead, _ = _lead(conn, eq)
    if lead == "category":
        # case_categories' own columns: no case row is read (its key is the desk's order).
        where, params = _conditions("k", eq, skip="category")
        where.insert(0, "k.category = ?")
        params.insert(0, eq["category"])
        source, select, order = "case_categories k", "k.case_id, k.rank", "k.rank, k.case_id DESC"
        a = "k"
    else:
        where, params = _conditions("c", eq)
        source = f"cases c INDEXED BY cases_by_{lead or 'rank'}" + ("_filter" if lead else "")
        select, order, a = f"c.id, {rank_of('c.')}", f"{rank_of('c.')}, c.id DESC", "c"
    if cutoff is not None:
        where.append(f"{a}.status_since < ?")
        params.append(cutoff)
    sql = f"SELECT {select} FROM {source} " + (f"WHERE {' AND '.join(where)} " if where else "")  # noqa: S608
    return Query(sql + f"ORDER BY {order} LIMIT ?", (*params, limit))


def _like(q: str) -> tuple[str, list[Any]]:
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return "(c.description LIKE ? ESCAPE '\\' OR c.factory LIKE ? ESCAPE '\\')", [like, like]


def _keep_in_order(conn: Connection, ids: list[int], where: str, params: list[Any], limit: int) -> list[int]:
    """Those of ``ids`` (in their order) whose case row meets ``where``, up to ``limit`` of them."""
    found: list[int] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT c.id FROM cases c WHERE c.id IN ({marks}) AND {where}"  # noqa: S608 - placeholders
        keep = {r[0] for r in conn.execute(sql, (*chunk, *params))}
        found += [i for i in chunk if i in keep]
        if len(found) >= limit:
            break
    return found[:limit]


def _search(
    conn: Connection,
    eq: Mapping[str, Any],
    stages: list[tuple[str, str]] | None,
    q: str,
    before: int | None,
    limit: int,
) -> Page:
    """Cases whose factory, place or words hold ``q`` and that meet the filters, newest first."""
    lead, n = _lead(conn, eq)
    if lead is not None and n <= FEW:
        # Few cases to look at: read each of them, newest first, rather than walk every match.
        ids = [r[0] for r in _run(conn, _few(eq, stages, lead, before))]
        needle = q.lower()
        found: list[int] = []
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            sql = f"SELECT id, factory, location, description FROM cases WHERE id IN ({','.join('?' * len(chunk))})"  # noqa: S608
            hits = {i for i, *texts in conn.execute(sql, chunk) if any(needle in t.lower() for t in texts)}
            found += [i for i in chunk if i in hits]
            if len(found) >= limit:
                break
        return Page(found[:limit])
    # Walk the matches newest first, at most ``budget`` of them, within the ids the filters span (a
    # stage's or a recent filter's cases are recent ones); check the filters of each chunk.
    lo, hi = _span(conn, eq, stages)
    if before is not None:
        hi = min(hi, before - 1)
    if lo > hi:
        return Page([])
    budget = max(CHUNK, WALK_BUDGET // (max(1, len(q) - 2) + 1 + (3 if "category" in eq else 0)))
    filtered = bool(eq) or stages is not None
    walk = _fts_walk(q, lo, hi, budget + 1 if filtered else limit)
    cursor = conn.execute(walk.sql, walk.params)
    try:
        found, walked, last = [], 0, None
        while len(found) < limit and (walked < budget or not filtered):  # unfiltered, every match is a hit
            rows = cursor.fetchmany(min(CHUNK, budget - walked) if filtered else limit - len(found))
            if not rows:
                return Page(found)
            ids = [r[0] for r in rows]
            walked, last = walked + len(ids), ids[-1]
            if filtered:
                check = _check(eq, stages, ids)
                keep = {r[0] for r in conn.execute(check.sql, check.params)}
                ids = [i for i in ids if i in keep]
            found += ids
        if len(found) >= limit or cursor.fetchone() is None:
            return Page(found[:limit])
        return Page(found, capped=True, searched_to=last)
    finally:
        cursor.close()


def _phrase(q: str) -> str:
    return '"' + q.replace('"', '""') + '"'


def _fts_walk(q: str, lo: int, hi: int, limit: int) -> Query:
    sql = "SELECT rowid FROM cases_fts WHERE cases_fts MATCH ? AND rowid BETWEEN ? AND ? ORDER BY rowid DESC LIMIT ?"
    return Query(sql, (_phrase(q), lo, hi, limit))


def _span(conn: Connection, eq: Mapping[str, Any], stages: list[tuple[str, str]] | None) -> tuple[int, int]:
    """The lowest and highest case id that can meet the filters ((1, 0) when none can): the ends of
    each filter's part of its index, three ranks each, intersected."""
    lo, hi = -(2**63), 2**63 - 1
    spans = [[(field, value)] for field, value in eq.items()]
    if stages is not None and "status" not in eq:
        spans.append([("status", status) for status, _ in stages])
    for alternatives in spans:
        ends = [end for field, value in alternatives for end in _ends(conn, field, value)]
        if not ends:
            return 1, 0
        lo, hi = max(lo, min(ends)), min(hi, max(ends))
    return lo, hi


def _ends(conn: Connection, field: str, value: Any) -> list[int]:
    if field == "category":
        source, where, rank, ident = "case_categories k", "k.category = ?", "k.rank", "k.case_id"
    else:
        source, where, rank, ident = (
            f"cases c INDEXED BY cases_by_{field}_filter",
            f"c.{field} = ?",
            rank_of("c."),
            "c.id",
        )
    out = []
    for r in range(3):
        for fn in ("min", "max"):
            sql = f"SELECT {fn}({ident}) FROM {source} WHERE {where} AND {rank} = ?"  # noqa: S608 - fixed names
            row = conn.execute(sql, (value, r)).fetchone()
            if row[0] is not None:
                out.append(int(row[0]))
    return out


def _check(eq: Mapping[str, Any], stages: list[tuple[str, str]] | None, ids: Iterable[int]) -> Query:
    """Which of ``ids`` meet the filters, from the narrow index by case id (no case row read)."""
    ids = list(ids)
    where, params = _conditions("c", eq)
    if stages is not None:
        sql, values = _overdue("c", stages)
        where.append(sql)
        params += values
    marks = ",".join("?" * len(ids))
    sql = f"SELECT c.id FROM cases c INDEXED BY cases_by_id_filter WHERE c.id IN ({marks}) AND {' AND '.join(where)}"  # noqa: S608
    return Query(sql, (*ids, *params))


def _few(eq: Mapping[str, Any], stages: list[tuple[str, str]] | None, lead: str, before: int | None) -> Query:
    """Every case id of the filters, newest first, along the lead filter's index (no case row read)."""
    if lead == "category":
        where, params = _conditions("k", eq, skip="category")
        source, a, order = "case_categories k", "k", "k.case_id DESC"
        where.insert(0, "k.category = ?")
        select = "k.case_id"
    else:
        where, params = _conditions("c", eq, skip=lead)
        source, a, order = f"cases c INDEXED BY cases_by_{lead}_filter", "c", "c.id DESC"
        where.insert(0, f"c.{lead} = ?")
        select = "c.id"
    params.insert(0, eq[lead])
    if stages is not None:
        sql, values = _overdue(a, stages)
        where.append(sql)
        params += values
    if before is not None:
        where.append(f"{select} < ?")
        params.append(before)
    return Query(f"SELECT {select} FROM {source} WHERE {' AND '.join(where)} ORDER BY {order}", tuple(params))  # noqa: S608


__all__ = ["FEW", "FIELDS", "RANKS", "Filters", "Page", "Query", "counts", "find", "plan", "rank_of"]
