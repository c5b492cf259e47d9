"""The CLI and remedy (issue 15 items 1 and 5): ``intake cases show --json`` carries each step's
``remedy`` and the case's outcomes and remedy state; ``intake partner cases list`` puts the longest
overdue remedy step first. Real processes, real stores; synthetic data.
"""

from __future__ import annotations

import json
from pathlib import Path

from intake.node import open_cases
from intake.remedy import parse_outcome
from intake.store.actions import Actions
from intake.store.casework import CaseWork
from intake.store.remedy import CaseRemedy
from tests.conftest import PASSPHRASE, Node
from tests.intake.cli.test_cli import intake, write_pass
from tests.relay.conftest import file_case, make_partner


def test_cases_show_json_carries_the_remedy(tmp_path: Path, node: Node) -> None:
    case_id = file_case(node)
    store = open_cases(node.settings, node.keys)
    try:
        work = CaseWork(store, node.keys)
        plan = Actions(work)
        paid = plan.add(case_id, "Pay the overtime owed", "employer", "2099-01-31")
        later = plan.add(case_id, "Audit the hours", "brand", "2099-03-31")
        plan.set_done(case_id, paid, True, parse_outcome("overtime_pay", "2400000", "VND", "35", "worker"))
        CaseRemedy(work).add(case_id, parse_outcome("hours_reduced", workers_covered="200"))
        for status in ("triaged", "investigating", "remedy"):
            work.update(case_id, seen_version=store.get_case(case_id).version, status=status)
    finally:
        store.close()
    pw = write_pass(tmp_path / "pw", PASSPHRASE)
    shown = intake("--home", node.home, "cases", "show", str(case_id), "--json", "--passphrase-file", pw)
    assert shown.code == 0, shown
    doc = json.loads(shown.out)
    steps = {a["id"]: a for a in doc["actions"]}
    assert steps[paid]["done"] and steps[paid]["remedy"] == {
        "kind": "overtime_pay", "amount": "2400000", "currency": "VND", "workers_covered": 35, "verified_by": "worker",
    }  # fmt: skip
    assert steps[later]["remedy"] is None and not steps[later]["done"] and steps[later]["who"] == "brand"
    [outcome] = doc["outcomes"]
    assert outcome["kind"] == "hours_reduced" and outcome["amount"] is None and outcome["workers_covered"] == 200
    assert doc["remedy_state"] == "in_remedy" and doc["worker_confirmation"] is None
    text = intake("--home", node.home, "cases", "show", str(case_id), "--passphrase-file", pw)
    assert text.code == 0 and "overtime_pay 2400000 VND, workers covered: 35" in text.out, text


def test_partner_cases_list_puts_the_longest_overdue_first(tmp_path: Path) -> None:
    partner = make_partner(tmp_path / "partner")
    store = partner.home.open_db(partner.keys)

    def summary(ref: str, due: str, done: bool = False) -> str:
        return json.dumps({
            "format": "grievance-intake/summary/v1", "node_id": "n1", "case_ref": ref * 16, "language": "en",
            "factory": {"name": f"Factory {ref}"}, "categories": ["wages"], "severity": "normal",
            "first_reported": "2019-11", "workers_affected": "2-9", "status": "remedy", "narrative": "synthetic",
            "remedy": [{"action": "Pay", "who": "brand", "due": due, "done": done}],
        })  # fmt: skip

    try:
        with store.transaction() as conn:
            for n, payload in enumerate([summary("a", "2021-01-01"), summary("b", "2020-01-01"),
                                         summary("c", "2019-01-01", done=True)]):  # fmt: skip
                ref = json.loads(payload)["case_ref"]
                conn.execute(
                    "INSERT INTO summaries (envelope_id, node_key, node_name, sequence, case_ref, created_at, "
                    "opened_at, via, payload) VALUES (?, ?, 'north', ?, ?, '2020-01-01T00:00:00+00:00', "
                    "'2020-01-01T00:00:00+00:00', 'folder', ?)",
                    (f"e{n}", b"k" * 32, n + 1, ref, payload),
                )
    finally:
        store.close()
    pw = write_pass(tmp_path / "pw", PASSPHRASE)
    env = {"INTAKE_PARTNER_HOME": str(partner.home.home)}
    listed = intake("partner", "cases", "list", "--json", "--passphrase-file", pw, env=env)
    assert listed.code == 0, listed
    rows = json.loads(listed.out)
    assert [r["case_ref"][0] for r in rows] == ["b", "a", "c"], "longest overdue first; done steps do not count"
    assert rows[0]["days_overdue"] - rows[1]["days_overdue"] == 366 and rows[2]["days_overdue"] == 0
    assert rows[0]["overdue_who"] == ["brand"] and rows[2]["overdue_who"] == []
    table = intake("partner", "cases", "list", "--passphrase-file", pw, env=env)
    assert table.code == 0 and "Overdue" in table.out and "brand" in table.out, table  # the cell may wrap
