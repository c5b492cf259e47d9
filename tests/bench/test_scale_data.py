"""bench/scale_data.py builds stores the desk can trust: whatever it drops for speed comes back.

The scale benchmark's figures (bench/bench_scale.py) are only as good as the store they run on. The
builder drops the FTS insert trigger and the plain indexes during a load and remakes them; these
tests check that the store it leaves is what the drain and the desk would have left: the same schema,
a sound full-text index that finds the rare word, categories and counts kept by the other triggers,
an audit chain that verifies, reporter links and contacts as the drain makes them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import scale_data
from intake.audit import AuditLog
from intake.drain import reporter_link
from intake.node import init_node, open_cases, unlock
from intake.settings import Settings
from intake.store.casework import CaseWork, Filters


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, list[tuple[str, str, str]]]:
    home = tmp_path_factory.mktemp("scale") / "node"
    settings = Settings.load(home, env={})
    init_node(settings, user=scale_data.USER, passphrase=scale_data.PASSPHRASE, profile="interactive")
    keys = unlock(settings, scale_data.USER, scale_data.PASSPHRASE)
    store = open_cases(settings, keys)
    schema = sorted(store._conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall())
    store.close()
    # two loads into one store: the second goes on from the first's audit chain and action ids,
    # and its ids hold the one case in 20,000 with the rare word (id 10,000)
    scale_data.build_in_child(home, 150, seed=3)
    scale_data.build_in_child(home, 150, seed=3, start_id=9_901)
    return settings, schema


def test_schema_is_whole_again(built: tuple[Settings, list[tuple[str, str, str]]]) -> None:
    settings, schema = built
    store = open_cases(settings, unlock(settings, scale_data.USER, scale_data.PASSPHRASE))
    try:
        c = store._conn
        assert sorted(c.execute("SELECT type, name, sql FROM sqlite_master").fetchall()) == schema
        assert c.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        c.execute("INSERT INTO cases_fts(cases_fts) VALUES ('integrity-check')")
        assert c.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again, as the store opens
        assert c.execute("SELECT k FROM cases_fts_config WHERE k = 'hashsize'").fetchall() == []
    finally:
        store.close()


def test_search_categories_and_counts(built: tuple[Settings, list[tuple[str, str, str]]]) -> None:
    settings, _ = built
    keys = unlock(settings, scale_data.USER, scale_data.PASSPHRASE)
    store = open_cases(settings, keys)
    try:
        c = store._conn
        assert c.execute("SELECT count(*) FROM cases").fetchone()[0] == 300
        work = CaseWork(store, keys)
        assert [x.id for x in work.find(Filters(q=scale_data.RARE))] == [10_000]
        locales = {r[0] for r in c.execute("SELECT DISTINCT locale FROM cases")}
        assert len(locales) >= 15  # mixed languages, not four
        if c.execute("SELECT 1 FROM sqlite_master WHERE name = 'case_categories'").fetchone():
            cats = c.execute("SELECT count(*) FROM cases, json_each(cases.categories)").fetchone()[0]
            assert c.execute("SELECT count(*) FROM case_categories").fetchone()[0] == cats
        if c.execute("SELECT 1 FROM sqlite_master WHERE name = 'case_counts'").fetchone():
            for field in ("status", "severity", "channel", "locale"):
                real = dict(c.execute(f"SELECT {field}, count(*) FROM cases GROUP BY {field}").fetchall())  # noqa: S608
                kept = c.execute("SELECT value, n FROM case_counts WHERE field = ? AND n != 0", (field,)).fetchall()
                assert dict(kept) == real, field
        for category in ("wages", "child_labour"):
            found = work.find(Filters(category=category))
            assert found and all(category in [x.value for x in case.categories] for case in found)
    finally:
        store.close()


def test_audit_links_and_contacts_as_the_drain_makes_them(built: tuple[Settings, list[tuple[str, str, str]]]) -> None:
    settings, _ = built
    keys = unlock(settings, scale_data.USER, scale_data.PASSPHRASE)
    store = open_cases(settings, keys)
    try:
        result = AuditLog(store, keys).verify()
        assert result.ok and result.entries > 300, result.reason
        phone, link = scale_data.Generator(
            1, seed=1, start_id=1, factories=[], secrets=scale_data.Secrets.of(keys)
        ).reporter(4321)
        assert link == reporter_link(keys, phone)
        ids = [r[0] for r in store._conn.execute("SELECT id FROM cases WHERE contact IS NOT NULL")]
        assert ids, "some open cases keep a sealed contact"
        work = CaseWork(store, keys)
        assert all(work.contact(i)[0].startswith("+8613") for i in ids)
    finally:
        store.close()


def test_same_seed_same_cases() -> None:
    factories = [(1, "Bavo Garment Factory", "Dhaka")]
    one = next(scale_data.Generator(50, seed=9, start_id=1, factories=factories, secrets=None).chunks(50))
    two = next(scale_data.Generator(50, seed=9, start_id=1, factories=factories, secrets=None).chunks(50))
    other = next(scale_data.Generator(50, seed=8, start_id=1, factories=factories, secrets=None).chunks(50))
    assert one.cases == two.cases and one.cases != other.cases


def test_make_node_caches(tmp_path: Path) -> None:
    first = scale_data.make_node(tmp_path / "a", 40, cache=tmp_path / "cache")
    again = scale_data.make_node(tmp_path / "b", 40, cache=tmp_path / "cache")
    assert not first.cached and again.cached
    settings = Settings.load(tmp_path / "b", env={})
    store = open_cases(settings, unlock(settings, scale_data.USER, scale_data.PASSPHRASE))
    try:
        assert store.count() == 40
    finally:
        store.close()
    assert len(list((tmp_path / "cache").iterdir())) == 1
