"""The desk's hourly merge of the search index (intake/desk/maintenance.py, issue 14): bounded, in
the background, never for a viewer's session, stopped by a lock."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from crypto.keyring import Role
from intake import clock
from intake.desk import maintenance as desk_maintenance
from intake.desk.sessions import Session
from intake.node import open_cases
from intake.store import maintenance
from intake.store.cases import CasesStore
from tests.conftest import Node


def _drained_case_by_case(store: CasesStore, n: int = 120) -> None:
    for case_id in range(1, n + 1):
        with store.transaction() as conn:
            conn.execute(
                "INSERT INTO cases (id, created_at, channel, locale, status_since, description) "
                "VALUES (?, '2031-01-01T00:00:00+00:00', 'web', 'en', '2031-01-01T00:00:00+00:00', ?)",
                (case_id, f"Synthetic report {case_id}: wages unpaid for {case_id % 7} months, fees"),
            )


@pytest.fixture
def session(node: Node) -> Iterator[Session]:
    store = open_cases(node.settings, node.keys)
    _drained_case_by_case(store)
    desk_maintenance._last.clear()
    try:
        yield Session(node.keys, store)
    finally:
        store.close()
        desk_maintenance._last.clear()


def _segments(store: CasesStore) -> int:
    with store.reading() as conn:
        return maintenance.segments(conn)


def test_the_desk_merges_the_search_index_hourly_in_the_background(node: Node, session: Session) -> None:
    assert _segments(session.store) > 1
    with clock.use(clock.FixedClock(clock.now())) as fixed:
        thread = desk_maintenance.kick(node.settings, session)
        assert thread is not None
        thread.join(120)  # a bound on waiting for the background run, not a timing
        assert not thread.is_alive()
        assert _segments(session.store) == 1
        assert desk_maintenance.kick(node.settings, session) is None, "not again within the hour"
        fixed.advance(desk_maintenance.EVERY)
        again = desk_maintenance.kick(node.settings, session)
        assert again is not None
        again.join(120)


def test_a_viewer_or_no_session_runs_nothing(node: Node, session: Session) -> None:
    viewer = Session(dataclasses.replace(node.keys, role=Role.VIEWER), session.store)
    assert desk_maintenance.kick(node.settings, viewer) is None
    assert desk_maintenance.kick(node.settings, None) is None
    assert _segments(session.store) > 1


def test_a_locked_desk_stops_the_run_quietly(node: Node, session: Session) -> None:
    session.store.close()  # the desk locked: the run stops before its first step and raises nothing
    assert desk_maintenance.run_once(node.settings, session) is None
