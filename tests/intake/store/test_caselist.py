"""The desk's case list: every filter and combination gives what a plain filter over the same cases
gives, whichever index answers it; categories and counts follow every write through triggers.

The reference is a few lines of Python over the cases as inserted: which index the store walks
(chosen from ``case_counts``) may change the speed of an answer, never the answer.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crypto.keyring import NodeKeys, Role
from crypto.secret import Secret
from intake.domain import Category, Channel, Report
from intake.store import caselist
from intake.store.cases import CasesStore
from intake.store.casework import CaseWork, Filters
from intake.store.db import Connection, open_store
from intake.store.factories import Factories
from intake.store.schema import CASES_MIGRATIONS

KEY = bytes(range(32))
KEYS = NodeKeys(master=Secret(bytes(range(32, 64))), node_id="test", user="tester", role=Role.COORDINATOR)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DEADLINES = {"new": 7, "triaged": 14, "investigating": 30}
STATUSES = ["new", "triaged", "investigating", "remedy", "resolved", "closed_unresolved", "withdrawn"]
SEVERITIES = ["urgent", "high", "normal", "low"]
CHANNELS = ["web", "sms", "voice", "api"]
LOCALES = ["en", "zh_Hans", "es", "vi"]
# "other" is never used by the stores below: a category no case has.
USED = [c.value for c in Category if c.value != "other"]
WORDS = ["wages", "overtime", "paid late", "dormitory", "宿舍", "加班费", "fire exit", "passport", "ab", "x"]
FACTORIES = ["Alpha Garment", "Beta Textile", "Gamma Shoes", "Delta Toys", "Epsilon Knit", "Zeta Leather"]
PLACES = ["Dongguan", "Dhaka", "Phnom Penh"]
# The migration that made case_categories and case_counts (by content: others may follow it).
MIGRATION = next(i + 1 for i, m in enumerate(CASES_MIGRATIONS) if any("CREATE TABLE case_categories" in s for s in m))


def _skewed(rng: random.Random, values: list[Any]) -> Any:
    """Early values often, late ones rarely: rare and common values in every field."""
    return rng.choices(values, weights=[2 ** (len(values) - i) for i in range(len(values))])[0]


def synthetic_cases(seed: int, n: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = NOW - timedelta(days=400)
    out = []
    for i in range(1, n + 1):
        created = start + timedelta(hours=i * 3 + rng.randint(0, 2))
        status = _skewed(rng, STATUSES)
        k = rng.choice((0, 1, 1, 2, 3))
        cats = rng.sample(USED[: rng.randint(max(k, 1), len(USED))], k)  # early categories more often
        factory_no = rng.choice([None, 1, 1, 1, 2, 2, 3, 4, 5, 6])
        out.append(
            {
                "id": i,
                "created_at": created.isoformat(),
                "channel": _skewed(rng, CHANNELS),
                "locale": _skewed(rng, LOCALES),
                "status": status,
                "severity": _skewed(rng, ["normal", "high", "low", "urgent"]),
                "factory_id": factory_no,
                "factory": FACTORIES[(factory_no or rng.randint(1, 6)) - 1],
                "location": rng.choice(PLACES),
                "categories": cats,
                "description": " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 4))),
                "status_since": (NOW - timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 600))).isoformat(),
            }
        )
    return out


def insert(conn: Connection, cases: list[dict[str, Any]]) -> None:
    """Plain INSERTs, as a bench loader or the drain writes: nothing here knows of case_categories."""
    conn.execute("BEGIN")
    for name in FACTORIES:
        conn.execute("INSERT INTO factories (name, created_at) VALUES (?, ?)", (name, NOW.isoformat()))
    for c in cases:
        conn.execute(
            "INSERT INTO cases (id, created_at, channel, locale, status, severity, factory_id, factory, location, "
            "categories, description, status_since) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                c["id"], c["created_at"], c["channel"], c["locale"], c["status"], c["severity"], c["factory_id"],
                c["factory"], c["location"], json.dumps(c["categories"]), c["description"], c["status_since"],
            ),
        )  # fmt: skip
    conn.execute("COMMIT")


def reference(cases: list[dict[str, Any]], f: Filters, deadlines: dict[str, int], now: datetime) -> list[int]:
    """What the desk must show for ``f``: a plain filter over the cases, in the desk's order (all
    of them: the caller cuts the page)."""
    q = f.q.strip()
    out = []
    for c in cases:
        if any(getattr(f, k) and c[k] != getattr(f, k) for k in ("status", "severity", "channel", "locale")):
            continue
        if f.factory_id is not None and c["factory_id"] != f.factory_id:
            continue
        if f.category and f.category not in c["categories"]:
            continue
        # A search of 3 characters or more is the trigram index's (factory, place, words), a shorter one LIKE's.
        fields = ("factory", "location", "description") if len(q) >= 3 else ("description", "factory")
        if q and not any(q.lower() in c[k].lower() for k in fields):
            continue
        if f.overdue:
            days = deadlines.get(c["status"])
            if days is None or c["status_since"] >= (now - timedelta(days=days)).isoformat():
                continue
        out.append(c)
    if len(q) >= 3:
        out.sort(key=lambda c: -c["id"])
    else:
        out.sort(key=lambda c: (caselist.RANKS.get(c["severity"], 2), -c["id"]))
    return [c["id"] for c in out]


CHOICES: dict[str, list[Any]] = {
    "status": STATUSES,
    "category": [*USED, "other"],
    "channel": [*CHANNELS, "smssync"],  # smssync: a value no case has
    "locale": [*LOCALES, "km"],
    "severity": SEVERITIES,
    "factory_id": [1, 2, 3, 6, 99],
    "q": ["wages", "paid late", "宿舍", "加班费", "ab", "x", "Dhaka", "alpha", "never written"],
    "overdue": [True],
}


def every_combination(seed: int, draws: int) -> Iterator[Filters]:
    """Every subset of the desk's filters (none, each alone, every pair, ... all eight), ``draws``
    random values for each, with a page limit small or large."""
    rng = random.Random(seed)
    for size in range(len(CHOICES) + 1):
        for names in itertools.combinations(CHOICES, size):
            for _ in range(draws if names else 1):
                values = {name: rng.choice(CHOICES[name]) for name in names}
                yield Filters(**values, limit=rng.choice((1, 5, 40, 200)))


@pytest.fixture(scope="module", params=[11, 12])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    seed = request.param
    store = CasesStore(tmp_path_factory.mktemp(f"caselist{seed}") / "cases.db", KEY, create=True)
    cases = synthetic_cases(seed, 500)
    insert(store._conn, cases)
    yield store, cases, seed
    store.close()


@pytest.mark.parametrize("few", [caselist.FEW, 0], ids=["search-walks-few-filtered", "search-walks-matches"])
def test_every_combination_gives_the_plain_filter(store: Any, few: int, monkeypatch: pytest.MonkeyPatch) -> None:
    cases_store, cases, seed = store
    monkeypatch.setattr(caselist, "FEW", few)  # both ways of searching within filters, on the same store
    work = CaseWork(cases_store, KEYS)
    checked = 0
    for f in every_combination(seed, draws=3):
        got, page = work.find_page(f, DEADLINES, NOW)
        assert [c.id for c in got] == reference(cases, f, DEADLINES, NOW)[: f.limit], f
        assert not page.capped, "500 cases are searched whole within the budgets"
        checked += 1
    assert checked == 1 + 3 * (2 ** len(CHOICES) - 1)


def test_the_walk_starts_at_the_rarest_filter(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    cases_store, cases, _ = store
    conn = cases_store._conn

    def sql(f: Filters) -> str:
        return " ".join(q.sql for q in caselist.plan(conn, f, DEADLINES, NOW))

    # A factory holds fewer cases than a common status, and a status no case holds ends the walk at once.
    assert "cases_by_factory_id_filter" in sql(Filters(status=STATUSES[0], factory_id=6))
    assert "cases_by_channel_filter" in sql(Filters(status=STATUSES[0], channel="smssync"))
    assert "FROM case_categories" in sql(Filters(status=STATUSES[0], category="other"))
    rare = min(USED, key=lambda c: sum(c in x["categories"] for x in cases))
    assert "FROM case_categories" in sql(Filters(severity="normal", category=rare))
    assert "cases_by_rank" in sql(Filters())
    assert "cases_fts" not in sql(Filters(q="wages", severity="normal")), "500 cases: few, read them"
    monkeypatch.setattr(caselist, "FEW", 0)
    assert "cases_fts" in sql(Filters(q="wages", severity="normal"))
    # In order along an index, never a scan of the cases or a sort of them (a search within few
    # cases sorts those few, by id).
    for f in (
        Filters(status="new", factory_id=6),
        Filters(category=rare, severity="normal"),
        Filters(overdue=True),
        Filters(channel="sms", locale="en", q="ab"),
        Filters(q="wages", status="new"),
        Filters(q="wages", category=rare, overdue=True),
        Filters(q="wages", factory_id=6, channel="web"),
    ):
        for q in caselist.plan(conn, f, DEADLINES, NOW):
            steps = " / ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + q.sql, q.params))
            assert not re.search(r"\bSCAN [cik]\b", steps), (f, steps)
            assert "TEMP B-TREE" not in steps or len(f.q) >= 3, (f, steps)


# -- case_categories and case_counts: back-filled by the migration, kept by triggers -----------------


def derived(conn: Connection) -> tuple[set[tuple[Any, ...]], dict[tuple[str, str], int]]:
    rows = set(conn.execute("SELECT * FROM case_categories").fetchall())
    counts = {(f, v): n for f, v, n in conn.execute("SELECT field, value, n FROM case_counts") if n}
    return rows, counts


def recomputed(conn: Connection) -> tuple[set[tuple[Any, ...]], dict[tuple[str, str], int]]:
    """What case_categories and case_counts must hold, from the cases themselves, in Python."""
    rows: set[tuple[Any, ...]] = set()
    counts: dict[tuple[str, str], int] = {}
    for cid, cats, status, severity, channel, locale, factory_id, since in conn.execute(
        "SELECT id, categories, status, severity, channel, locale, factory_id, status_since FROM cases"
    ):
        try:
            listed = json.loads(cats)
        except ValueError:
            listed = []
        names = {c for c in (listed if isinstance(listed, list) else []) if isinstance(c, str)}
        for name in names:
            rows.add((name, caselist.RANKS.get(severity, 2), cid, status, severity, channel, locale, factory_id, since))
            counts["category", name] = counts.get(("category", name), 0) + 1
        for field, value in (("status", status), ("severity", severity), ("channel", channel), ("locale", locale)):
            counts[field, value] = counts.get((field, value), 0) + 1
        if factory_id is not None:
            counts["factory_id", str(factory_id)] = counts.get(("factory_id", str(factory_id)), 0) + 1
    return rows, counts


ODD = [  # categories as a careless writer might leave them: none of these may break an insert
    (9001, '["wages", "wages"]'),
    (9002, "not json"),
    (9003, '[1, "dormitory", null]'),
    (9004, "[]"),
    (9005, ""),
]


def test_the_migration_fills_categories_and_counts_of_an_old_store(tmp_path: Path) -> None:
    path = tmp_path / "cases.db"
    conn = open_store(path, KEY, CASES_MIGRATIONS, create=True, upto=MIGRATION - 1)
    cases = synthetic_cases(5, 300)
    insert(conn, cases)
    for cid, cats in ODD:
        conn.execute(
            "INSERT INTO cases (id, created_at, channel, locale, categories, status_since) VALUES (?, ?, 'web', 'en', ?, ?)",
            (cid, NOW.isoformat(), cats, NOW.isoformat()),
        )
    assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'case_categories'").fetchone()
    conn.close()

    store = CasesStore(path, KEY)  # migrates
    try:
        rows, counts = derived(store._conn)
        assert (rows, counts) == recomputed(store._conn)
        assert len(rows) == sum(len(set(c["categories"])) for c in cases) + 2  # 9001: wages once; 9003: dormitory
        assert counts["category", "wages"] == sum("wages" in c["categories"] for c in cases) + 1
        # Cases whose categories the desk could not show go (the delete trigger takes their rows along).
        with store.transaction() as conn:
            conn.execute("DELETE FROM cases WHERE id IN (9002, 9003, 9005)")
        assert derived(store._conn) == recomputed(store._conn)
        assert ("category", "dormitory") in counts and counts["category", "dormitory"] - 1 == dict(
            derived(store._conn)[1]
        ).get(("category", "dormitory"), 0)
        odd = {"status": "new", "severity": "normal", "channel": "web", "locale": "en", "factory_id": None,
               "factory": "", "location": "", "description": "", "status_since": NOW.isoformat()}  # fmt: skip
        kept = [*cases, {**odd, "id": 9001, "categories": ["wages"]}, {**odd, "id": 9004, "categories": []}]
        work = CaseWork(store, KEYS)
        for f in (Filters(category="wages"), Filters(category="dormitory", status="new"), Filters(factory_id=2)):
            assert [c.id for c in work.find(f)] == reference(kept, f, DEADLINES, NOW)[:200], f
    finally:
        store.close()


def test_triggers_follow_every_writer(tmp_path: Path) -> None:
    store = CasesStore(tmp_path / "cases.db", KEY, create=True)
    try:
        cases = synthetic_cases(7, 60)
        insert(store._conn, cases)  # a bench loader's plain INSERTs
        assert derived(store._conn) == recomputed(store._conn)
        work = CaseWork(store, KEYS)
        # The drain's insert.
        report = Report(channel=Channel.SMS, description="synthetic", categories=[Category.WAGES, Category.DORMITORY])
        drained = store.add_report("item-1", report, receipt_hash=None, reporter_link=None, contact=None)
        assert derived(store._conn) == recomputed(store._conn)
        # Case work: categories, severity (the desk's order), status (and its stage start).
        work.update(drained, seen_version=1, categories=["harassment"], severity="urgent", status="triaged")
        assert derived(store._conn) == recomputed(store._conn)
        assert [c.id for c in work.find(Filters(category="harassment", severity="urgent"))] == [drained]
        assert drained not in [c.id for c in work.find(Filters(category="wages"))]
        for c in cases[:10]:
            case = store.get_case(c["id"])
            work.update(c["id"], seen_version=case.version, categories=[], severity="low")
        assert derived(store._conn) == recomputed(store._conn)
        # The factories register: linking, and merging one factory into another.
        register = Factories(store, KEYS)
        register.link(cases[20]["id"], 3)
        register.merge(2, 3)
        assert derived(store._conn) == recomputed(store._conn)
        assert not work.find(Filters(factory_id=3))
        assert [c.id for c in work.find(Filters(factory_id=2))] == sorted(
            (c["id"] for c in cases if c["factory_id"] in (2, 3) or c is cases[20]),
            key=lambda i: (caselist.RANKS.get(store.get_case(i).severity, 2), -i),
        )
        # Any other UPDATE or DELETE of cases.
        with store.transaction() as conn:
            conn.execute("UPDATE cases SET status_since = ?, channel = 'api' WHERE id % 3 = 0", (NOW.isoformat(),))
            conn.execute("UPDATE cases SET categories = '[\"child_labour\"]' WHERE id % 5 = 0")
            conn.execute("DELETE FROM cases WHERE id % 4 = 0")
        assert derived(store._conn) == recomputed(store._conn)
        assert store._conn.execute("SELECT count(*) FROM case_counts WHERE n < 0").fetchone()[0] == 0
    finally:
        store.close()


def test_capped_walks_look_at_a_known_part_and_go_on(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """With budgets small enough to bind: a capped search holds every match of the cases down to where
    it stopped, and going on from there ends with the whole answer; one or two letters hold every
    match among the first SHORT_WALK cases of the list."""
    cases_store, cases, seed = store
    for name, value in (("FEW", 0), ("CHUNK", 4), ("WALK_BUDGET", 60), ("SHORT_WALK", 25)):
        monkeypatch.setattr(caselist, name, value)
    work = CaseWork(cases_store, KEYS)
    capped = 0
    for f in every_combination(seed + 1, draws=1):
        f = dataclasses.replace(f, limit=1000)
        want = reference(cases, f, DEADLINES, NOW)
        if len(f.q) >= 3:
            got: list[int] = []
            before = None
            for _ in range(len(cases)):
                _, page = work.find_page(dataclasses.replace(f, before=before), DEADLINES, NOW)
                got += page.ids
                if not page.capped:
                    break
                assert page.searched_to is not None
                assert page.ids == [i for i in want if (before is None or i < before) and i >= page.searched_to]
                before, capped = page.searched_to, capped + 1
            assert got == want, f
        elif f.q:
            _, page = work.find_page(f, DEADLINES, NOW)
            first = reference(cases, dataclasses.replace(f, q=""), DEADLINES, NOW)[: caselist.SHORT_WALK]
            assert page.ids == [i for i in first if i in set(want)], f
            assert page.capped == (len(reference(cases, dataclasses.replace(f, q=""), DEADLINES, NOW)) > 25), f
    assert capped > 10, "the budgets did bind"
