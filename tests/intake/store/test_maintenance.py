"""The search index's upkeep (issue 14, intake/store/maintenance.py): many small drains leave many
segments; a bounded merge and a full optimize leave fewer, and every search finds what it found."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from intake import clock
from intake.store import maintenance
from intake.store.cases import CasesStore
from tests.intake.store.test_stores import KEY

WORDS = [
    "wages",
    "overtime",
    "fire",
    "exit",
    "locked",
    "dormitory",
    "harassment",
    "recruitment",
    "fees",
    "passport",
    "unpaid",
    "injury",
]
SEARCHES = [*WORDS, "over", "dorm", "Quetzalcoatlite", "nothing like this"]


def _fragmented(path: Path, n: int = 600) -> CasesStore:
    """A store drained case by case (one transaction each, as years of small drains leave it), with
    some cases edited and deleted since (FTS5 writes those as segments too)."""
    rng = random.Random(14)
    store = CasesStore(path, KEY, create=True)
    for case_id in range(1, n + 1):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 30)))
        if case_id % 97 == 0:
            text += " Quetzalcoatlite"
        with store.transaction() as conn:
            conn.execute(
                "INSERT INTO cases (id, created_at, channel, locale, status_since, description) "
                "VALUES (?, '2031-01-01T00:00:00+00:00', 'web', 'en', '2031-01-01T00:00:00+00:00', ?)",
                (case_id, text),
            )
        if case_id % 5 == 0:
            with store.transaction() as conn:
                conn.execute("UPDATE cases SET description = description || ' fees' WHERE id = ?", (case_id - 3,))
        if case_id % 11 == 0:
            with store.transaction() as conn:
                conn.execute("DELETE FROM cases WHERE id = ?", (case_id - 7,))
    return store


def _found(store: CasesStore) -> dict[str, list[int]]:
    with store.reading() as conn:
        return {
            word: [
                int(r[0])
                for r in conn.execute(
                    "SELECT rowid FROM cases_fts WHERE cases_fts MATCH ? ORDER BY rowid", (f'"{word}"',)
                )
            ]
            for word in SEARCHES
        }


def _sound(store: CasesStore) -> None:
    with store.reading() as conn:
        conn.execute("INSERT INTO cases_fts(cases_fts, rank) VALUES ('integrity-check', 1)")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fts") / "cases.db"
    _fragmented(path).close()
    return path


@pytest.fixture
def store(built: Path, tmp_path: Path) -> Iterator[CasesStore]:
    """A copy of the fragmented store for each test (building it takes seconds)."""
    for side in ("", "-wal"):
        if Path(f"{built}{side}").exists():
            shutil.copyfile(f"{built}{side}", tmp_path / f"cases.db{side}")
    with closing(CasesStore(tmp_path / "cases.db", KEY)) as store:
        yield store


def test_a_merge_leaves_fewer_segments_and_the_same_search_results(store: CasesStore) -> None:
    with store.reading() as conn:
        before = maintenance.segments(conn)
    assert before > 2, "the case-by-case store has many segments"
    found = _found(store)
    assert found["Quetzalcoatlite"] and found["wages"] and not found["nothing like this"]
    merged = maintenance.merge(store, pages=4)
    assert merged.done and merged.steps > 1, merged
    assert (merged.segments_before, merged.segments_after) == (before, 1)
    assert _found(store) == found
    _sound(store)
    assert maintenance.merge(store) == maintenance.Merged(0, True, 1, 1), "nothing left: no write at all"


def test_a_merge_stops_at_its_budget_and_when_told(store: CasesStore) -> None:
    found = _found(store)
    with clock.use(clock.FixedClock(clock.now())) as fixed:
        steps: list[int] = []

        def one_step_then_late() -> bool:
            steps.append(1)
            if len(steps) > 1:
                fixed.advance(10.0)
            return False

        merged = maintenance.merge(store, pages=1, budget=5.0, stop=one_step_then_late)
    assert merged.steps == 2 and not merged.done, merged
    assert maintenance.merge(store, pages=1, stop=lambda: True).steps == 0
    assert merged.segments_after > 1, "work is left for the next run"
    more = maintenance.merge(store, pages=1)
    assert more.done and more.segments_after == 1
    assert _found(store) == found
    _sound(store)


def test_optimize_merges_every_segment_at_once(store: CasesStore) -> None:
    found = _found(store)
    merged = maintenance.optimize(store)
    assert merged.segments_before > 2 and merged.segments_after == 1, merged
    assert _found(store) == found
    _sound(store)
