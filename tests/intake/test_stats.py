"""Statistics: exact counts on a synthetic node, response times, overdue cases, small-cell
suppression (checked with hypothesis), the public export, the dashboard page and the CLI export."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import Keyring, Role
from intake import stats
from intake.desk.app import create_desk_app
from intake.domain import Category, Channel
from intake.store.casework import CaseWork
from tests.conftest import TEST_PROFILE, Node, drain_node, make_node
from tests.intake.desk import cases_store, login, report

NOW = datetime(2026, 3, 1, tzinfo=UTC)
VIEWER, VIEWER_PASS = "watcher", "viewer passphrase 2024"
# (factory as the worker typed it, categories, channel, month, description)
CASES: list[tuple[str, list[Category], Channel, str]] = [
    *[("alpha", [Category.WAGES], Channel.WEB, "2026-01")] * 6,
    ("alpha", [Category.WAGES, Category.HEALTH_SAFETY], Channel.SMS, "2026-01"),
    *[("Beta Textiles Kowloon", [Category.HARASSMENT], Channel.WEB, "2026-02")] * 2,
    ("", [], Channel.VOICE, "2026-02"),
]
WORDS = "Supervisor Zorblax padlocked emergency doors during quarterly inspection"


def _iso(when: datetime) -> str:
    return when.isoformat()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Node:
    """Ten cases through the one way in (report, drain), moved with CaseWork, timings set exactly."""
    node = make_node(tmp_path_factory.mktemp("stats") / "node")
    for n, (factory, categories, channel, _month) in enumerate(CASES, 1):
        report(node, f"{WORDS} number{n}", factory=factory, categories=categories, channel=channel)
    result, cases = drain_node(node)
    assert result.unreadable == 0 and len(cases) == len(CASES)
    with cases_store(node) as store:
        conn = store._conn
        conn.execute("INSERT INTO factories (id, name, created_at) VALUES (1, 'Alpha Garments Ltd', ?)", (_iso(NOW),))
        ids = [r[0] for r in conn.execute("SELECT id FROM cases ORDER BY id").fetchall()]
        for case_id, (factory, _c, _ch, month) in zip(ids, CASES, strict=True):
            created = datetime.fromisoformat(f"{month}-10T08:00:00+00:00") + timedelta(days=case_id % 5)
            conn.execute(
                "UPDATE cases SET created_at = ?, status_since = ?, factory_id = ? WHERE id = ?",
                (_iso(created), _iso(NOW - timedelta(days=1)), 1 if factory == "alpha" else None, case_id),
            )
        work = CaseWork(store, node.keys)

        def move(case_id: int, *path: str) -> None:
            for status in path:
                work.update(case_id, seen_version=store.get_case(case_id).version, status=status)

        move(ids[1], "triaged")
        move(ids[2], "triaged", "investigating", "resolved")
        move(ids[3], "triaged", "investigating", "remedy", "resolved")
        move(ids[4], "closed_unresolved")
        work.add_reply(ids[0], "We have your report.", sms=False)
        row = conn.execute("SELECT first_response_at, closed_at FROM cases WHERE id = ?", (ids[2],)).fetchone()
        assert row[1], "resolving stamps closed_at"
        assert conn.execute("SELECT first_response_at FROM cases WHERE id = ?", (ids[0],)).fetchone()[0]
        # Exact timings: first responses after 1, 2, 3, 4, 10 hours; resolutions after 2 and 4 days.
        for case_id, hours in zip(ids[:5], (1, 2, 3, 4, 10), strict=True):
            conn.execute(
                "UPDATE cases SET first_response_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', created_at, ?) WHERE id = ?",
                (f"+{hours} hours", case_id),
            )
        for case_id, days in ((ids[2], 2), (ids[3], 4)):
            conn.execute(
                "UPDATE cases SET closed_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', created_at, ?) WHERE id = ?",
                (f"+{days} days", case_id),
            )
        # Overdue: case 1 new for 10 days (2 allowed); case 6 new since receipt (status_since '').
        conn.execute("UPDATE cases SET status_since = ? WHERE id = ?", (_iso(NOW - timedelta(days=10)), ids[0]))
        conn.execute("UPDATE cases SET status_since = '' WHERE id = ?", (ids[5],))
        conn.execute("UPDATE cases SET status_since = ? WHERE id = ?", (_iso(NOW - timedelta(days=100)), ids[2]))
    ring = Keyring.load(node.settings.keyring_path)
    ring.add_user(node.keys, VIEWER, VIEWER_PASS, role=Role.VIEWER, profile=TEST_PROFILE)
    return node


def rows_of(node: Node) -> list[stats.CaseRow]:
    with cases_store(node) as store:
        return stats.load_rows(store)


def test_exact_counts(synthetic: Node) -> None:
    d = stats.dashboard(rows_of(synthetic), synthetic.settings.deadlines(), NOW)
    assert d.total == 10
    assert d.by_month == {"2026-01": 7, "2026-02": 3}
    assert d.by_category == {"wages": 7, "harassment": 2, "health_safety": 1, "uncategorised": 1}
    assert d.by_factory == {"Alpha Garments Ltd": 7, "Beta Textiles Kowloon": 2, "": 1}
    assert d.by_channel == {"web": 8, "sms": 1, "voice": 1}
    assert d.by_status == {"new": 6, "resolved": 2, "closed_unresolved": 1, "triaged": 1}


def test_response_and_resolution_times(synthetic: Node) -> None:
    d = stats.dashboard(rows_of(synthetic), synthetic.settings.deadlines(), NOW)
    assert d.first_response_hours == stats.Summary(5, 3.0, 10.0)
    assert d.resolution_days == stats.Summary(2, 3.0, 4.0)
    assert stats.summarise([]) == stats.Summary(0, None, None)
    assert stats.summarise(range(1, 11)) == stats.Summary(10, 5.5, 9.0)


def test_overdue(synthetic: Node) -> None:
    rows = rows_of(synthetic)
    ids = [r.id for r in rows]
    d = stats.dashboard(rows, synthetic.settings.deadlines(), NOW)
    created6 = rows[5].created_at
    assert d.overdue == [
        stats.Overdue(ids[5], "new", (NOW - created6).days, (NOW - created6).days - 2),
        stats.Overdue(ids[0], "new", 10, 8),
    ], "open cases only (the resolved case is not overdue), most overdue first"
    assert stats.dashboard(rows, {"new": 60}, NOW).overdue == []


# -- suppression ----------------------------------------------------------------------------------------
def lines(t: stats.SuppressedTable) -> list[list[stats.Shown]]:
    """Every row and column of the table with its total, and the two margins with the grand total."""
    ext = [[*r, tot] for r, tot in zip(t.cells, t.row_totals, strict=True)]
    ext.append([*t.column_totals, t.total])
    return ext + [list(col) for col in zip(*ext, strict=True)]


def check_suppressed(t: stats.SuppressedTable, cells: list[list[int]]) -> None:
    ext = [[*r, sum(r)] for r in cells]
    col = [sum(c) for c in zip(*cells, strict=True)] if cells and cells[0] else []
    ext.append([*col, sum(col)])
    shown = [[*r, tot] for r, tot in zip(t.cells, t.row_totals, strict=True)]
    shown.append([*t.column_totals, t.total])
    for real_row, shown_row in zip(ext, shown, strict=True):
        for real, value in zip(real_row, shown_row, strict=True):
            if value == stats.SUPPRESSED:
                assert 0 < real < 5, "<5 means 1 to 4"
            elif value == stats.SECONDARY:
                assert real >= 5, "* is a count of 5 or more, hidden to protect another"
            else:
                assert value == real, "shown numbers are unchanged"
                assert not 0 < real < 5, "nothing under 5 shows"
    for line in lines(t):
        hidden = sum(v in stats.HIDDEN for v in line)
        assert hidden != 1, f"a line with one hidden count gives it away: {line}"


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda c: st.lists(st.lists(st.integers(0, 12), min_size=c, max_size=c), min_size=1, max_size=6)
    )
)
def test_suppression_properties(cells: list[list[int]]) -> None:
    rows = [f"r{i}" for i in range(len(cells))]
    cols = [f"c{j}" for j in range(len(cells[0]))]
    t = stats.suppress(rows, cols, cells)
    check_suppressed(t, cells)


def test_suppression_example() -> None:
    t = stats.suppress(["a", "b"], ["x", "y", "z"], [[10, 3, 8], [20, 4, 9]])
    assert t.cells == [[10, "<5", "*"], [20, "<5", "*"]]
    assert t.row_totals == [21, 33] and t.column_totals == [30, 7, 17] and t.total == 54
    check_suppressed(t, [[10, 3, 8], [20, 4, 9]])
    t = stats.suppress(["a", "b"], ["x", "y"], [[0, 3], [20, 6]])
    assert t.cells == [[0, "<5"], [20, "*"]] and t.row_totals == ["<5", "*"] and t.column_totals == [20, 9]
    check_suppressed(t, [[0, 3], [20, 6]])
    with pytest.raises(ValueError):
        stats.suppress(["a"], ["x"], [[1, 2]])


def test_public_export_is_suppressed_and_has_no_free_text(synthetic: Node) -> None:
    rows = rows_of(synthetic)
    export = stats.public_export(rows, [c.value for c in Category])
    text = json.dumps(export) + stats.public_csv(export)
    for word in [*WORDS.split(), "Beta", "Textiles", "Kowloon", "alpha", "2026-01-1", "T08"]:
        assert word not in text, word
    for r in rows:
        assert f'"{r.id}"' not in text
    f = export["factory_by_category"]
    assert f["rows"] == ["Alpha Garments Ltd", "unregistered"]
    assert f["columns"] == ["harassment", "health_safety", "wages", "uncategorised"]
    assert f["cells"] == [[0, "<5", "*", 0], ["<5", 0, 0, "<5"]]
    assert f["total"] == 11 and "<5" in text
    m = export["month_by_category"]
    assert m["rows"] == ["2026-01", "2026-02"]
    for name, real in (
        ("factory_by_category", [[0, 1, 7, 0], [2, 0, 0, 1]]),
        ("month_by_category", [[0, 1, 7, 0], [2, 0, 0, 1]]),
    ):
        t = export[name]
        check_suppressed(stats.SuppressedTable(**t), real)
    parsed = list(csv.DictReader(io.StringIO(stats.public_csv(export))))
    assert {"table": "factory_by_category", "row": "total", "column": "total", "value": "11"} in parsed


# -- the desk page and exports -----------------------------------------------------------------------
@pytest.fixture
def viewer_desk(synthetic: Node) -> Iterator[TestClient]:
    with TestClient(create_desk_app(synthetic.settings), base_url="http://127.0.0.1:8001") as client:
        assert login(client, synthetic, VIEWER, VIEWER_PASS).status_code == 303
        yield client


def test_dashboard_renders_for_a_viewer(viewer_desk: TestClient) -> None:
    page = viewer_desk.get("/dashboard")
    assert page.status_code == 200, page.text[:300]
    assert "<svg" in page.text and "<rect" in page.text
    svg = page.text[page.text.index("<svg") :]
    assert "style=" not in svg and "<script" not in page.text
    assert 'href="/dashboard"' in page.text
    assert "Alpha Garments Ltd" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_exports_parse(viewer_desk: TestClient) -> None:
    response = viewer_desk.get("/dashboard/export.json")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    data = response.json()
    assert data["total"] == 10 and data["by_channel"]["web"] == 8
    assert len(data["overdue"]) >= 2
    lines_ = list(csv.reader(io.StringIO(viewer_desk.get("/dashboard/export.csv").text)))
    assert lines_[0] == ["section", "key", "value"] and ["by_month", "2026-01", "7"] in lines_
    public = viewer_desk.get("/dashboard/public.json")
    assert public.status_code == 200 and "<5" in public.text and WORDS.split()[1] not in public.text
    assert public.json()["factory_by_category"]["total"] == 11
    rows = list(csv.DictReader(io.StringIO(viewer_desk.get("/dashboard/public.csv").text)))
    assert rows and all(r["value"] in stats.HIDDEN or r["value"].isdigit() for r in rows)


def test_dashboard_needs_an_unlocked_session(synthetic: Node) -> None:
    with TestClient(create_desk_app(synthetic.settings), base_url="http://127.0.0.1:8001") as client:
        for path in ("/dashboard", "/dashboard/export.json", "/dashboard/public.json"):
            response = client.get(path, follow_redirects=False)
            assert response.status_code == 303 and response.headers["location"] == "/login", path


def test_cli_export(synthetic: Node, tmp_path: Path) -> None:
    pfile = tmp_path / "pass"
    pfile.write_text(synthetic.passphrase + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update({"LANGUAGE": "en", "LC_ALL": "C.UTF-8"})

    def run(*args: str) -> Any:
        return subprocess.run(
            [sys.executable, "-m", "intake.cli", "--home", str(synthetic.home), "stats", "export", *args,
             "--passphrase-file", str(pfile)],
            capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, check=False, timeout=60,
        )  # fmt: skip

    public = run("--public", "--format", "json")
    assert public.returncode == 0, public.stderr
    assert json.loads(public.stdout)["factory_by_category"]["total"] == 11
    assert "Zorblax" not in public.stdout
    out = tmp_path / "dash.csv"
    written = run("--format", "csv", "--to", str(out))
    assert written.returncode == 0, written.stderr
    assert ["by_channel", "sms", "1"] in list(csv.reader(io.StringIO(out.read_text("utf-8"))))
    assert out.stat().st_mode & 0o777 == 0o600
