"""The desk's check for CAP steps gone overdue (intake/desk/alert_watch.py): counted, then sent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from intake import clock
from intake.desk.alert_watch import check_once
from intake.desk.sessions import Session
from intake.store.actions import Actions
from intake.store.casework import CaseWork
from tests.channels.alert_servers import ntfy_server
from tests.conftest import make_node
from tests.intake.desk import cases_store
from tests.intake.desk.test_desk_app import one_case


def test_an_unlocked_desk_tells_coordinators_a_step_went_overdue(tmp_path: Path) -> None:
    with ntfy_server() as topic:
        node = make_node(tmp_path / "node", alert_ntfy_url=topic.url)
        case_id, _ = one_case(node)  # itself an urgent report: counted with the step
        with cases_store(node) as store:
            Actions(CaseWork(store, node.keys)).add(case_id, "Pay the missing overtime", "employer", "2030-01-31")
            session = Session(node.keys, store)
            with clock.use(clock.FixedClock(datetime(2030, 2, 1, 9, tzinfo=UTC))):
                assert check_once(session, node.settings) == 1
                assert check_once(session, node.settings) == 0, "the next hour: nothing new"
    bodies = [b.decode() for _, _, b in topic.posts]
    assert len(bodies) == 1
    assert "1 corrective action step is overdue." in bodies[0] and "overtime" not in bodies[0]
