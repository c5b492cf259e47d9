"""The desk app through HTTP (Starlette's TestClient): unlock, headers, CSRF, roles, sessions,
case list and search, the case page, the workflow, replies to the worker, audio, the audit log.

Each test checks what reached the stores (cases.db, inbox.db), not only what the page says.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlcipher3
from fastapi.testclient import TestClient
from markupsafe import escape

from crypto import Keyring, Role
from i18n import d_, translations
from intake.desk.app import create_desk_app
from intake.desk.http import COOKIE
from intake.domain import BoardStatus, CaseStatus, Channel
from intake.node import open_inbox
from intake.replies import REPLY_TEMPLATES
from intake.services import IntakeService, read_status, seal_recording, seal_report
from intake.store.casework import CaseWork
from intake.store.factories import Factories
from tests.conftest import TEST_PROFILE, Node, drain_node, make_node
from tests.intake.desk import audit_rows, cases_store, csrf_of, listed, login, report, verify

WORDS = "The press on line 4 cut off two fingers of a worker on the night shift. The guard is broken."
ZH_WORDS = "车间主任扣押了我们的身份证，每个月加班超过一百小时，没有加班费。"
PHONE = "+8613800000042"


@dataclass
class Desk:
    node: Node
    app: Any
    client: TestClient

    def case_page(self, case_id: int) -> str:
        response = self.client.get(f"/cases/{case_id}")
        assert response.status_code == 200, response.text[:300]
        return response.text

    def post(self, path: str, data: dict[str, Any], *, csrf: str | None = None) -> httpx.Response:
        """POST a desk form with this session's token (taken from the case list unless given)."""
        if csrf is None:
            csrf = csrf_of(self.client.get("/cases").text)
        return self.client.post(path, data={"csrf": csrf, **data}, follow_redirects=False)

    def update(self, case_id: int, **fields: Any) -> httpx.Response:
        page = self.case_page(case_id)
        version = re.search(r'name="version" value="(\d+)"', page)
        assert version
        data = {"version": version.group(1), **fields}
        return self.post(f"/cases/{case_id}/update", data, csrf=csrf_of(page))

    @property
    def session(self) -> Any:
        found = self.app.state.sessions.get(self.client.cookies.get(COOKIE))
        assert found is not None
        return found


def open_desk(node: Node) -> Iterator[Desk]:
    app = create_desk_app(node.settings)
    with TestClient(app, base_url="http://127.0.0.1:8001") as client:
        yield Desk(node, app, client)


@pytest.fixture
def desk(node: Node) -> Iterator[Desk]:
    yield from open_desk(node)


@pytest.fixture
def unlocked(desk: Desk) -> Desk:
    response = login(desk.client, desk.node)
    assert response.status_code == 303 and response.headers["location"] == "/cases"
    return desk


def case_state(node: Node, case_id: int) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was."""
    with cases_store(node) as store:
        case = store.get_case(case_id)
        notes = store._conn.execute("SELECT count(*) FROM notes").fetchone()[0]
        replies = store._conn.execute("SELECT count(*) FROM replies").fetchone()[0]
        changes = store._conn.execute("SELECT count(*) FROM audit WHERE action != 'view'").fetchone()[0]
    return case.status, case.severity, case.assignee, case.categories, case.version, notes, replies, changes


def one_case(node: Node, description: str = WORDS, **fields: Any) -> tuple[int, Any]:
    """A report drained into a case; returns (case id, receipt code)."""
    receipt = report(node, description, **fields)
    result, cases = drain_node(node)
    assert result.unreadable == 0
    return max(c.id for c in cases if c.description == description), receipt


def board(node: Node, receipt: Any) -> Any:
    service = IntakeService.open(node.settings)
    try:
        return read_status(service, receipt)
    finally:
        service.close()


# -- unlocking ---------------------------------------------------------------------------------------


def test_unauthenticated_requests_go_to_the_login_and_change_nothing(node: Node, desk: Desk) -> None:
    case_id, _ = one_case(node)
    before = case_state(node, case_id)
    c = desk.client
    for path in ("/", "/cases", f"/cases/{case_id}", f"/cases/{case_id}/audio/0", "/cases?q=press"):
        response = c.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] in ("/login", "/cases"), path
    forms = {
        f"/cases/{case_id}/update": {"version": "1", "status": "triaged", "severity": "urgent"},
        f"/cases/{case_id}/note": {"text": "a note"},
        f"/cases/{case_id}/reply": {"text": "a reply", "sms": "1"},
        "/lock": {},
    }
    for path, data in forms.items():
        for csrf in ("", "made-up-token"):
            response = c.post(path, data={"csrf": csrf, **data}, follow_redirects=False)
            assert response.status_code == 303, path
            assert response.headers["location"] == "/login", path
    assert case_state(node, case_id) == before
    assert audit_rows(node) == [], "nobody was unlocked, so nothing was viewed"
    assert "words" not in c.get("/cases", follow_redirects=True).text


def test_wrong_passphrase_gets_401_and_no_cookie(desk: Desk) -> None:
    for user, passphrase in ((desk.node.user, "not the passphrase"), ("nobody", desk.node.passphrase), ("", "")):
        response = login(desk.client, desk.node, user or " ", passphrase or " ")
        assert response.status_code == 401, (user, response.text[:300])
        assert "set-cookie" not in response.headers
        assert str(escape(d_("Wrong user or passphrase. Nothing was changed."))) in response.text
        assert not desk.client.cookies
        assert desk.client.get("/cases", follow_redirects=False).headers["location"] == "/login"


def test_login_sets_a_strict_httponly_cookie(desk: Desk) -> None:
    response = login(desk.client, desk.node)
    assert response.status_code == 303
    [cookie] = response.headers.get_list("set-cookie")
    attrs = [a.strip().lower() for a in cookie.split(";")]
    name, _, token = cookie.split(";")[0].partition("=")
    assert name == COOKIE and len(token) >= 40
    assert "httponly" in attrs
    assert "samesite=strict" in attrs
    assert "path=/" in attrs
    assert not any(a.startswith(("expires", "max-age", "domain")) for a in attrs), "a session cookie only"
    page = desk.client.get("/cases")
    assert page.status_code == 200
    assert token not in page.text, "the session token never appears in a page"


# -- headers and origins -----------------------------------------------------------------------------


def check_headers(response: httpx.Response) -> None:
    csp = response.headers.get("content-security-policy", "")
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert directives.get("default-src") == "default-src 'none'", csp
    assert directives.get("media-src") == "media-src 'self'", csp
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", csp
    assert "script-src" not in directives, csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp and "http" not in csp, csp
    assert response.headers.get("cache-control") == "no-store"
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("referrer-policy") == "no-referrer"
    assert "access-control-allow-origin" not in response.headers


URL_ATTR = re.compile(r'\b(?:src|href|action|formaction|poster|srcset|data)\s*=\s*"([^"]*)"', re.I)


def check_same_origin(text: str, where: str) -> None:
    """Every link, form and asset is a path on the desk itself; nothing names another origin."""
    for url in URL_ATTR.findall(text):
        assert url.startswith("/") and not url.startswith("//"), f"{where}: {url!r}"
    assert not re.search(r"(?i)(https?:|//[a-z0-9])", re.sub(r"<blockquote.*?</blockquote>", "", text, flags=re.S)), (
        where
    )
    assert "<script" not in text.lower(), f"{where}: the desk has no scripts"


def test_every_response_has_the_strict_headers_and_nothing_from_another_origin(node: Node, desk: Desk) -> None:
    case_id, _ = one_case(node)
    c = desk.client
    seen = [c.get("/login"), c.get("/", follow_redirects=False), c.get("/cases", follow_redirects=False)]
    seen.append(login(c, node, "nobody", "not a passphrase"))
    seen.append(login(c, node))
    seen += [c.get("/cases"), c.get("/cases?q=press&status=new"), c.get(f"/cases/{case_id}")]
    seen += [c.get("/cases/999"), c.get(f"/cases/{case_id}/audio/0"), c.get("/static/desk.css"), c.get("/nothing")]
    seen.append(c.post(f"/cases/{case_id}/note", data={"csrf": "wrong", "text": "x"}))
    seen.append(desk.update(case_id, status="resolved"))  # 400: not a move from new
    seen.append(desk.update(case_id, status="triaged"))
    seen.append(desk.post("/lock", {}))
    assert {r.status_code for r in seen} >= {200, 303, 400, 401, 403, 404}
    for response in seen:
        check_headers(response)
        if response.headers.get("content-type", "").startswith("text/"):
            check_same_origin(response.text, str(response.url))
    css = c.get("/static/desk.css").text
    assert "url(" not in css and "@import" not in css, "the stylesheet loads nothing else"


# -- CSRF, roles and sessions ------------------------------------------------------------------------

FORMS = {
    "update": lambda i: (f"/cases/{i}/update", {"version": "1", "status": "triaged", "severity": "urgent"}),
    "note": lambda i: (f"/cases/{i}/note", {"text": "Visited the factory gate."}),
    "reply": lambda i: (f"/cases/{i}/reply", {"text": "We are looking into it.", "sms": "1"}),
    "lock": lambda i: ("/lock", {}),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_form_refuses_a_missing_wrong_or_foreign_csrf_token(node: Node, unlocked: Desk, form: str) -> None:
    case_id, _ = one_case(node)
    path, data = FORMS[form](case_id)
    mine = csrf_of(unlocked.client.get("/cases").text)

    # Another caseworker's session on the same desk: its token is valid, but not for this cookie.
    other = TestClient(unlocked.app, base_url="http://127.0.0.1:8001")
    assert login(other, node).status_code == 303
    theirs = csrf_of(other.get("/cases").text)
    assert theirs != mine

    before = case_state(node, case_id)
    for token in (None, "", "x" * len(mine), mine[:-1], theirs, "ü" * len(mine)):
        body = dict(data) if token is None else {"csrf": token, **data}
        response = unlocked.client.post(path, data=body, follow_redirects=False)
        assert response.status_code == 403, (form, token)
        assert str(escape(d_("That did not work."))) in response.text, "not a question of role"
        assert case_state(node, case_id) == before
    # The session survived every refused lock, and the right token still works.
    assert unlocked.client.get("/cases", follow_redirects=False).status_code == 200
    assert unlocked.post(path, data, csrf=mine).status_code in (200, 303)
    if form != "lock":
        assert case_state(node, case_id) != before


def test_a_viewer_cannot_open_cases(node: Node, desk: Desk) -> None:
    case_id, _ = one_case(node)
    report(node, "A report that waits in the inbox.")
    ring = Keyring.load(node.settings.keyring_path)
    ring.add_user(node.keys, "watcher", "viewer passphrase 2024", role=Role.VIEWER, profile=TEST_PROFILE)
    before = case_state(node, case_id)

    response = login(desk.client, node, "watcher", "viewer passphrase 2024")
    assert response.status_code == 303
    for path in ("/cases", f"/cases/{case_id}", f"/cases/{case_id}/audio/0", "/cases?q=press"):
        page = desk.client.get(path)
        assert page.status_code == 403, path
        assert str(escape(d_("This page is only for other roles."))) in page.text
        assert WORDS[:20] not in page.text
    token = csrf_of(desk.client.get("/cases").text)  # the lock button's token on the 403 page
    for path, data in (FORMS[f](case_id) for f in ("update", "note", "reply")):
        assert desk.client.post(path, data={"csrf": token, **data}).status_code == 403
    assert case_state(node, case_id) == before
    inbox = open_inbox(node.settings)
    try:
        assert inbox.count() == 1, "a viewer's unlock does not drain"
    finally:
        inbox.close()
    assert desk.post("/lock", {}, csrf=token).headers["location"] == "/login"


def test_an_expired_session_goes_to_the_login_with_its_store_closed(
    node: Node, unlocked: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id, _ = one_case(node)
    session = unlocked.session
    page = unlocked.case_page(case_id)
    before = case_state(node, case_id)
    sessions = unlocked.app.state.sessions
    monkeypatch.setattr(sessions, "_clock", lambda: time.monotonic() + sessions.idle + 1)

    response = unlocked.client.post(
        f"/cases/{case_id}/note", data={"csrf": csrf_of(page), "text": "too late"}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/login"
    with pytest.raises(sqlcipher3.ProgrammingError):
        session.store.count()  # the session's connection to cases.db is closed: its key is gone
    assert unlocked.client.get("/cases", follow_redirects=False).headers["location"] == "/login"
    assert case_state(node, case_id) == before
    monkeypatch.undo()
    assert login(unlocked.client, node).status_code == 303  # unlocking again works


def test_the_sweeper_locks_idle_sessions(node: Node, unlocked: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    session = unlocked.session
    sessions = unlocked.app.state.sessions
    monkeypatch.setattr(sessions, "_clock", lambda: time.monotonic() + sessions.idle + 1)
    assert sessions.sweep() == 1
    with pytest.raises(sqlcipher3.ProgrammingError):
        session.store.count()
    monkeypatch.undo()
    assert unlocked.client.get("/cases", follow_redirects=False).headers["location"] == "/login"


def test_lock_forgets_the_session(node: Node, unlocked: Desk) -> None:
    token = unlocked.client.cookies.get(COOKIE)
    session = unlocked.session
    response = unlocked.post("/lock", {})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert 'desk=""' in response.headers["set-cookie"] or "max-age=0" in response.headers["set-cookie"].lower()
    with pytest.raises(sqlcipher3.ProgrammingError):
        session.store.count()
    # The old cookie, replayed, opens nothing.
    unlocked.client.cookies.set(COOKIE, token or "")
    assert unlocked.client.get("/cases", follow_redirects=False).headers["location"] == "/login"
    login_page = unlocked.client.get("/login")
    assert login_page.status_code == 200 and 'name="passphrase"' in login_page.text


# -- the case list -----------------------------------------------------------------------------------


def test_unlocking_drains_the_inbox(node: Node, desk: Desk) -> None:
    report(node, "First report of the weekend: no pay slip since May.")
    report(node, ZH_WORDS, locale="zh_Hans")
    response = login(desk.client, node)
    assert response.status_code == 303
    page = desk.client.get("/cases").text
    assert "First report of the weekend" in page
    assert ZH_WORDS[:20] in page
    assert len(listed(page)) == 2
    inbox = open_inbox(node.settings)
    try:
        assert inbox.count() == 0, "drained items leave the inbox"
    finally:
        inbox.close()


@pytest.fixture
def many(node: Node, unlocked: Desk) -> dict[str, int]:
    """A handful of cases in two languages, three channels, a few categories."""
    samples = {
        "zh": (ZH_WORDS, {"locale": "zh_Hans", "factory": "示例电子厂", "categories": ["forced_labour"]}),
        "press": (WORDS, {"factory": "Example Metalworks", "categories": ["health_safety"]}),
        "wages": (
            "Overtime every Sunday since March, not paid.",
            {"channel": Channel.SMS, "categories": ["wages", "working_hours"]},
        ),
        "dorm": ("Twenty of us sleep in one room.", {"channel": Channel.API, "categories": ["dormitory"]}),
        "zh2": ("宿舍二十个人一间，晚上经常停水。", {"locale": "zh_Hans", "channel": Channel.SMS}),
    }
    ids = {}
    for words, fields in samples.values():
        report(node, words, **fields)
    _, cases = drain_node(node)
    for name, (words, _fields) in samples.items():
        ids[name] = next(c.id for c in cases if c.description == words)
    return ids


def search(desk: Desk, **params: str) -> set[int]:
    response = desk.client.get("/cases", params=params)
    assert response.status_code == 200, response.text[:300]
    return set(listed(response.text))


def test_search_finds_chinese_and_english_words(unlocked: Desk, many: dict[str, int]) -> None:
    assert search(unlocked, q="身份证") == {many["zh"]}  # three characters: the trigram index
    assert search(unlocked, q="加班费") == {many["zh"]}
    assert search(unlocked, q="扣押") == {many["zh"]}  # two characters: too short for trigrams, LIKE
    assert search(unlocked, q="宿舍") == {many["zh2"]}
    assert search(unlocked, q="电子") == {many["zh"]}  # the factory's name
    assert search(unlocked, q="overtime") == {many["wages"]}  # any case
    assert search(unlocked, q="fingers") == {many["press"]}
    assert search(unlocked, q="night shift") == {many["press"]}
    assert search(unlocked, q="Metalworks") == {many["press"]}
    assert search(unlocked, q="room") == {many["dorm"]}
    assert search(unlocked, q="nothing like this") == set()
    assert search(unlocked, q="") == set(many.values())
    for odd in ('"', 'a"b OR c', "NEAR(a b)", "*", "%", "_", "'; DROP TABLE cases; --", "x" * 500):
        search(unlocked, q=odd)  # no 500, whatever is typed
    page = unlocked.client.get("/cases", params={"q": "<b>bold</b>"}).text
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page


def test_filters(unlocked: Desk, many: dict[str, int]) -> None:
    assert search(unlocked, channel="sms") == {many["wages"], many["zh2"]}
    assert search(unlocked, channel="api") == {many["dorm"]}
    assert search(unlocked, locale="zh_Hans") == {many["zh"], many["zh2"]}
    assert search(unlocked, category="wages") == {many["wages"]}
    assert search(unlocked, category="working_hours") == {many["wages"]}
    assert search(unlocked, category="forced_labour") == {many["zh"]}
    assert search(unlocked, category="retaliation") == set()
    assert unlocked.update(many["press"], status="triaged", severity="urgent").status_code == 200
    assert unlocked.update(many["dorm"], severity="low").status_code == 200
    assert search(unlocked, status="triaged") == {many["press"]}
    assert search(unlocked, status="new") == set(many.values()) - {many["press"]}
    assert search(unlocked, severity="urgent") == {many["press"], many["zh"]}  # zh: kept ID cards, flagged on drain
    assert search(unlocked, severity="low") == {many["dorm"]}
    assert search(unlocked, severity="urgent", q="fingers", channel="web") == {many["press"]}
    assert search(unlocked, severity="urgent", locale="zh_Hans") == {many["zh"]}
    assert search(unlocked, status="no-such-status") == set()


def test_factory_filter_follows_the_register_links(unlocked: Desk, many: dict[str, int]) -> None:
    factories = Factories(unlocked.session.store, unlocked.session.keys)
    metal = factories.add("Example Metalworks", country="MX")
    other = factories.add("Another Plant", country="VN")
    factories.link(many["press"], metal)
    factories.link(many["wages"], metal)
    factories.link(many["zh"], other)
    assert search(unlocked, factory=str(metal)) == {many["press"], many["wages"]}
    assert search(unlocked, factory=str(other), locale="zh_Hans") == {many["zh"]}
    assert search(unlocked, factory=str(other), locale="en") == set()
    factories.merge(metal, other)  # the merged factory's cases follow it
    assert search(unlocked, factory=str(metal)) == {many["press"], many["wages"], many["zh"]}
    assert search(unlocked, factory=str(other)) == set()
    for odd in ("", "x", "-1", "99999999999999999999", "1 OR 1=1"):
        search(unlocked, factory=odd)  # never a 500
    assert search(unlocked, factory="x") == set(many.values()), "an unreadable factory id filters nothing"
    page = unlocked.client.get("/cases").text
    assert f'<option value="{metal}">Example Metalworks (MX)</option>' in page


def test_codes_are_shown_as_words(unlocked: Desk, many: dict[str, int]) -> None:
    page = unlocked.client.get("/cases").text
    assert f">{d_('Urgent')}<" in page and f">{d_('New')}<" in page and f">{d_('Phone call')}<" in page
    case = unlocked.case_page(many["zh2"])
    assert d_("SMS") in case and "中文" in case, "channel and language by name"
    assert "closed_unresolved</option>" not in case


def test_urgent_cases_list_first(unlocked: Desk, many: dict[str, int]) -> None:
    order = listed(unlocked.client.get("/cases").text)
    flagged = {many["press"], many["zh"]}  # injury and kept ID cards: urgent from the drain on
    assert order[:2] == sorted(flagged, reverse=True), "urgent first, then newest first"
    assert order[2:] == sorted(set(many.values()) - flagged, reverse=True)
    assert unlocked.update(many["press"], severity="normal").status_code == 200
    assert unlocked.update(many["dorm"], severity="high").status_code == 200
    order = listed(unlocked.client.get("/cases").text)
    assert order[0] == many["zh"]
    assert order[1] == many["dorm"]
    assert order[2:] == sorted(set(many.values()) - {many["zh"], many["dorm"]}, reverse=True)
    page = unlocked.client.get("/cases").text
    assert 'class="sev-urgent"' in page


# -- the case page -----------------------------------------------------------------------------------

HOSTILE = "Line leader said <script>alert(1)</script> & \"quiet\" or 'out'.\n第二行：工资。\n\n  Indented."


def test_the_case_page_shows_the_workers_own_words_escaped(node: Node, unlocked: Desk) -> None:
    case_id, _ = one_case(node, HOSTILE, factory="<img src=x onerror=alert(2)>", location="Zone <b>7</b>")
    page = unlocked.case_page(case_id)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "<b>7</b>" not in page
    words = re.search(r'<blockquote lang="en" class="words">(.*?)</blockquote>', page, re.S)
    assert words, page
    with cases_store(node) as store:
        stored = store.get_case(case_id).description
    assert html.unescape(words.group(1)) == stored
    assert stored.startswith("Line leader said <script>") and "第二行：工资。" in stored
    listing = unlocked.client.get("/cases").text
    assert "<script>" not in listing and "&lt;script&gt;" in listing


def test_a_missing_case_is_404(unlocked: Desk) -> None:
    response = unlocked.client.get("/cases/4242")
    assert response.status_code == 404
    assert str(escape(d_("There is no such case."))) in response.text
    token = csrf_of(response.text)
    for path, data in (FORMS[f](4242) for f in ("update", "note", "reply")):
        assert unlocked.client.post(path, data={"csrf": token, **data}).status_code == 404


def test_an_illegal_move_is_refused_and_changes_nothing(node: Node, unlocked: Desk) -> None:
    case_id, _ = one_case(node)
    before = case_state(node, case_id)
    for fields in (
        {"status": "resolved"},  # new -> resolved skips the work
        {"status": "remedy"},
        {"status": "deleted"},
        {"status": "triaged", "severity": "apocalyptic"},
        {"status": "triaged", "categories_present": "1", "categories": "not-a-category"},
    ):
        response = unlocked.update(case_id, **fields)
        assert response.status_code == 400, fields
        assert str(escape(d_("That change is not allowed."))) in response.text
        assert case_state(node, case_id) == before, fields
    # The page offers only the legal moves.
    page = unlocked.case_page(case_id)
    offered = set(re.findall(r'<option value="([a-z_]+)">→', page))
    assert offered == {"triaged", "closed_unresolved", "withdrawn"}


def test_two_forms_from_one_version_both_saved_with_a_notice(node: Node, unlocked: Desk) -> None:
    case_id, _ = one_case(node, "Overtime every Sunday, not paid.")  # not flagged urgent on drain
    page = unlocked.case_page(case_id)  # both caseworkers load version 1
    token = csrf_of(page)
    first = unlocked.post(
        f"/cases/{case_id}/update", {"version": "1", "status": "triaged", "severity": "urgent"}, csrf=token
    )
    assert first.status_code == 200
    assert str(escape(d_("Saved."))) in first.text
    second = unlocked.post(
        f"/cases/{case_id}/update",
        {"version": "1", "severity": "normal", "assignee": "desk2", "categories_present": "1", "categories": "wages"},
        csrf=token,
    )
    assert second.status_code == 200
    notice = d_(
        "Someone changed this case after you opened it. Your change was saved; the earlier values are in the audit log."
    )
    assert str(escape(notice)) in second.text
    with cases_store(node) as store:
        case = store.get_case(case_id)
    assert case.version == 3
    assert case.status is CaseStatus.TRIAGED  # the second form did not touch the status
    assert case.severity == "normal"  # last write wins
    assert case.assignee == "desk2" and [c.value for c in case.categories] == ["wages"]

    rows = audit_rows(node)
    updates = [json.loads(str(r[5])) for r in rows if r[3] == "update" and r[4] == case_id]
    assert len(updates) == 2
    first_entry, second_entry = updates
    assert first_entry["status"] == "triaged" and first_entry["was_status"] == "new"
    assert first_entry["severity"] == "urgent" and first_entry["was_severity"] == "normal"
    assert first_entry["from_version"] == 1 and "stale_form_version" not in first_entry
    # The overwritten value is kept: the earlier version can be read back from the log.
    assert second_entry["severity"] == "normal" and second_entry["was_severity"] == "urgent"
    assert second_entry["categories"] == ["wages"] and second_entry["was_categories"] == []
    assert second_entry["from_version"] == 2 and second_entry["stale_form_version"] == 1
    assert "status" not in second_entry
    assert sorted(second_entry["fields"]) == ["assignee", "categories", "severity"]
    result = verify(node)
    assert result.ok, result.reason
    assert result.entries == len(rows)


def test_closing_shreds_the_contact_and_closes_the_board(node: Node, unlocked: Desk) -> None:
    case_id, receipt = one_case(node, contact_ok=True, phone=PHONE, name="Worker A")
    assert board(node, receipt).status is BoardStatus.RECEIVED
    with cases_store(node) as store:
        assert store.contact(case_id) is not None
        assert CaseWork(store, node.keys).contact(case_id) == (PHONE, "Worker A")

    assert unlocked.update(case_id, status="triaged").status_code == 200
    assert board(node, receipt).status is BoardStatus.IN_REVIEW
    assert unlocked.update(case_id, status="investigating").status_code == 200
    assert board(node, receipt).status is BoardStatus.IN_PROGRESS
    with cases_store(node) as store:
        assert store.contact(case_id) is not None, "an open case keeps its contact"
    assert unlocked.update(case_id, status="resolved").status_code == 200

    with cases_store(node) as store:
        assert store.contact(case_id) is None
        assert CaseWork(store, node.keys).contact(case_id) is None
        case = store.get_case(case_id)
        assert case.status is CaseStatus.RESOLVED and case.contact_ok and not case.has_contact
    assert board(node, receipt).status is BoardStatus.CLOSED
    page = unlocked.case_page(case_id)
    assert PHONE not in page
    # Reopened, the case stays without a contact: shredded is for good.
    assert unlocked.update(case_id, status="triaged").status_code == 200
    with cases_store(node) as store:
        assert store.contact(case_id) is None
    assert board(node, receipt).status is BoardStatus.IN_REVIEW
    shredded = [r for r in audit_rows(node) if '"contact_shredded":true' in str(r[5])]
    assert len(shredded) == 1


def test_a_reply_reaches_the_status_board(node: Node, unlocked: Desk) -> None:
    case_id, receipt = one_case(node, ZH_WORDS, locale="zh_Hans")
    text = "我们已经收到你的报告，正在联系工厂。"
    page = unlocked.case_page(case_id)
    assert 'name="sms"' not in page, "no SMS provider and no contact: no SMS box"
    response = unlocked.post(f"/cases/{case_id}/reply", {"text": f"  {text}  "}, csrf=csrf_of(page))
    assert response.status_code == 200
    assert str(escape(d_("Reply posted on the status board."))) in response.text
    assert text in response.text
    assert [m for _t, m in board(node, receipt).messages] == [text]
    # An empty or too long reply is refused, and nothing more reaches the board.
    for bad in ("   ", "x" * 2001):
        refused = unlocked.post(f"/cases/{case_id}/reply", {"text": bad})
        assert refused.status_code == 400
    assert [m for _t, m in board(node, receipt).messages] == [text]


def outbox(node: Node) -> list[tuple[str, str]]:
    from channels.sms.service import SmsChannel

    service = IntakeService.open(node.settings)
    try:
        sms = SmsChannel(service)
        return [sms.open_recipient(r, b) for _i, r, b, _a in service.inbox.outbox_due("smssync", 2**62)]
    finally:
        service.close()


@pytest.fixture
def sms_desk(tmp_path: Path) -> Iterator[Desk]:
    node = make_node(tmp_path / "sms-node", smssync_secret="x")
    for desk in open_desk(node):
        assert login(desk.client, node).status_code == 303
        yield desk


def test_reply_templates_come_in_the_workers_language(node: Node, unlocked: Desk) -> None:
    report(node, ZH_WORDS, locale="zh_Hans")
    report(node, WORDS)
    _, cases = drain_node(node)
    zh = next(c.id for c in cases if c.locale == "zh_Hans")
    en = next(c.id for c in cases if c.locale == "en")
    zh_text = translations("zh_Hans").gettext(REPLY_TEMPLATES["investigating"])
    assert zh_text != REPLY_TEMPLATES["investigating"], "zh_Hans ships this template"
    page = unlocked.client.get(f"/cases/{zh}", params={"template": "investigating"}).text
    reply_box = re.search(r'<textarea id="reply"[^>]*>([^<]*)</textarea>', page)
    assert reply_box and html.unescape(reply_box.group(1)) == zh_text
    page = unlocked.client.get(f"/cases/{en}", params={"template": "investigating"}).text
    reply_box = re.search(r'<textarea id="reply"[^>]*>([^<]*)</textarea>', page)
    assert reply_box and html.unescape(reply_box.group(1)) == REPLY_TEMPLATES["investigating"]
    for odd in ("nope", "", "../x"):
        page = unlocked.client.get(f"/cases/{en}", params={"template": odd}).text
        reply_box = re.search(r'<textarea id="reply"[^>]*>([^<]*)</textarea>', page)
        assert reply_box and reply_box.group(1) == ""
    # Posting the (edited) template reaches the worker's status board like any reply.
    page = unlocked.case_page(zh)
    assert unlocked.post(f"/cases/{zh}/reply", {"text": zh_text + " 谢谢。"}, csrf=csrf_of(page)).status_code == 200
    with cases_store(node) as store:
        texts = [r[0] for r in store._conn.execute("SELECT text FROM replies WHERE case_id = ?", (zh,))]
    assert texts == [zh_text + " 谢谢。"]


def test_a_reply_is_queued_as_sms_where_the_worker_agreed(sms_desk: Desk) -> None:
    node = sms_desk.node
    case_id, receipt = one_case(node, contact_ok=True, phone=PHONE)
    page = sms_desk.case_page(case_id)
    assert 'name="sms"' in page
    response = sms_desk.post(
        f"/cases/{case_id}/reply", {"text": "We called the brand.", "sms": "1"}, csrf=csrf_of(page)
    )
    assert response.status_code == 200
    assert str(escape(d_("Reply posted on the status board and queued as SMS."))) in response.text
    assert outbox(node) == [(PHONE, "We called the brand.")]
    assert [m for _t, m in board(node, receipt).messages] == ["We called the brand."]
    # Without the box ticked, the board only.
    sms_desk.post(f"/cases/{case_id}/reply", {"text": "Board only."})
    assert len(outbox(node)) == 1
    assert len(board(node, receipt).messages) == 2


def test_no_sms_without_a_contact(sms_desk: Desk) -> None:
    node = sms_desk.node
    case_id, receipt = one_case(node, phone=PHONE)  # a number, but no agreement to be contacted
    page = sms_desk.case_page(case_id)
    assert 'name="sms"' not in page
    response = sms_desk.post(f"/cases/{case_id}/reply", {"text": "Thank you.", "sms": "1"}, csrf=csrf_of(page))
    assert response.status_code == 200
    assert str(escape(d_("Reply posted on the status board."))) in response.text
    assert outbox(node) == []
    assert [m for _t, m in board(node, receipt).messages] == ["Thank you."]
    with cases_store(node) as store:
        assert store._conn.execute("SELECT sms FROM replies").fetchall() == [(0,)], "not marked as sent by SMS"
    # A closed case's contact is gone too.
    other, _ = one_case(node, "Another one.", contact_ok=True, phone=PHONE)
    for status in ("triaged", "withdrawn"):
        assert sms_desk.update(other, status=status).status_code == 200
    sms_desk.post(f"/cases/{other}/reply", {"text": "Closed now.", "sms": "1"})
    assert outbox(node) == []


# -- audio -------------------------------------------------------------------------------------------

AUDIO = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4


def test_audio_of_a_call(node: Node, unlocked: Desk) -> None:
    service = IntakeService.open(node.settings)
    try:
        from intake.domain import Report

        spoken = Report(channel=Channel.VOICE, locale="en", consent=1)
        item_id, blob, _receipt, receipt_hash = seal_report(service, spoken, recording_sid="RE" + "1" * 32)
        service.inbox.put(item_id, blob, board=receipt_hash)
    finally:
        service.close()
    unlocked.client.get("/cases")  # drains (the first list after unlock)
    result, cases = drain_node(node)
    [voice] = [c for c in cases if c.channel is Channel.VOICE]

    # The report came first; the audio is not here yet: no player pointing at nothing.
    page = unlocked.case_page(voice.id)
    assert "<audio" not in page
    assert unlocked.client.get(f"/cases/{voice.id}/audio/0").status_code == 404

    service = IntakeService.open(node.settings)
    try:
        service.inbox.put(*seal_recording(service, "RE" + "1" * 32, AUDIO, "audio/wav"))
    finally:
        service.close()
    result, _ = drain_node(node)
    assert result.recordings == 1
    page = unlocked.case_page(voice.id)
    src = re.findall(r'<audio[^>]* src="([^"]+)"', page)
    assert src == [f"/cases/{voice.id}/audio/0"]
    response = unlocked.client.get(src[0])
    assert response.status_code == 200
    assert response.content == AUDIO
    assert response.headers["content-type"].startswith("audio/wav")
    check_headers(response)

    text_case, _ = one_case(node, "No call, no audio.")
    assert unlocked.client.get(f"/cases/{voice.id}/audio/1").status_code == 404
    assert unlocked.client.get(f"/cases/{text_case}/audio/0").status_code == 404
    assert unlocked.client.get("/cases/4242/audio/0").status_code == 404
    assert unlocked.client.get(f"/cases/{voice.id}/audio/-1").status_code == 404


def test_a_missing_recording_is_shown_as_missing(node: Node, unlocked: Desk) -> None:
    with cases_store(node) as store:
        from intake.domain import Report

        case_id = store.add_report(
            "item-voice-1",
            Report(channel=Channel.VOICE, description=""),
            receipt_hash=None,
            reporter_link=None,
            contact=None,
            recording_sid="RE" + "2" * 32,
        )
        store.add_recording("item-rec-1", "RE" + "2" * 32, None, "", missing="download_failed")
    page = unlocked.case_page(case_id)
    assert "<audio" not in page
    assert 'class="error"' in page
    assert unlocked.client.get(f"/cases/{case_id}/audio/0").status_code == 404


# -- a whole case, and what the audit log holds ------------------------------------------------------


def test_a_full_case_leaves_a_verified_audit_log_without_personal_data(node: Node, desk: Desk) -> None:
    receipt = report(
        node, WORDS, factory="Example Metalworks", contact_ok=True, phone=PHONE, name="Worker A", consent=1
    )
    assert login(desk.client, node).status_code == 303
    [case_id] = listed(desk.client.get("/cases").text)
    note = "Spoke to the clinic; the worker is in hospital ward 3."
    answer = "We have your report and are asking the factory to pay the medical costs."
    assert desk.update(case_id, status="triaged", severity="urgent", categories_present="1",
                       categories=["health_safety", "retaliation"]).status_code == 200  # fmt: skip
    assert desk.post(f"/cases/{case_id}/note", {"text": note}).status_code == 200
    assert desk.post(f"/cases/{case_id}/reply", {"text": answer}).status_code == 200
    assert desk.update(case_id, status="investigating", assignee="desk1").status_code == 200
    assert desk.update(case_id, status="remedy").status_code == 200
    assert desk.update(case_id, status="resolved").status_code == 200
    page = desk.case_page(case_id)
    assert note in page and answer in page

    status = board(node, receipt)
    assert status.status is BoardStatus.CLOSED
    assert [m for _t, m in status.messages] == [answer]

    result = verify(node)
    assert result.ok, result.reason
    rows = audit_rows(node)
    assert result.entries == len(rows)
    actions = [r[3] for r in rows if r[4] == case_id]
    assert actions.count("update") == 4 and actions.count("note") == 1 and actions.count("reply") == 1
    assert actions.count("view") >= 5
    assert {r[2] for r in rows} == {node.user}
    dump = repr(rows)
    digits = "".join(ch for ch in PHONE if ch.isdigit())
    for secret in (WORDS[:12], "fingers", PHONE, digits, digits[-8:], "Worker A", note[:12], answer[:12],
                   "hospital", "Metalworks", str(receipt), str(receipt)[:8], str(receipt)[-8:]):  # fmt: skip
        assert secret not in dump, secret


def test_consent_is_shown_and_changeable(node: Node, unlocked: Desk) -> None:
    case_id, _ = one_case(node, "Overtime every Sunday, not paid.", consent=0)
    page = unlocked.case_page(case_id)
    assert '<option value="0" selected>' in page
    assert unlocked.update(case_id, consent="2").status_code == 200
    with cases_store(node) as store:
        assert int(store.get_case(case_id).consent) == 2
    assert unlocked.update(case_id, consent="9").status_code == 400
    with cases_store(node) as store:
        assert int(store.get_case(case_id).consent) == 2
    rows = [json.loads(str(r[5])) for r in audit_rows(node) if r[3] == "update" and r[4] == case_id]
    assert rows[-1]["consent"] == 2 and rows[-1]["was_consent"] == 0


def test_each_user_gets_the_desk_in_their_own_language(node: Node, desk: Desk) -> None:
    zh = translations("zh_Hans", "desk")
    page = desk.client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert zh.gettext("Unlock the desk") in page and 'lang="zh-Hans"' in page, "the browser's language first"
    assert '<option value="zh_Hans" lang="zh-Hans" selected>' in page
    assert d_("Unlock the desk") in desk.client.get("/login?lang=en").text
    response = login(desk.client, node, lang="zh_Hans")
    assert response.status_code == 303
    cases = desk.client.get("/cases", headers={"Accept-Language": "en"}).text
    assert zh.gettext("Cases") in cases and 'lang="zh-Hans"' in cases, "the user's choice wins over the browser"
    from intake.domain import CATEGORY_LABELS, Category

    wages = translations("zh_Hans").gettext(CATEGORY_LABELS[Category.WAGES])
    assert wages != CATEGORY_LABELS[Category.WAGES] and str(escape(wages)) in cases, "category names too"
    # Another caseworker on the same desk, in English, at the same time.
    other = TestClient(desk.app, base_url="http://127.0.0.1:8001")
    assert login(other, node, lang="en").status_code == 303
    english = other.get("/cases").text
    assert f">{d_('Cases')}</h1>" in english and 'lang="en"' in english
    assert zh.gettext("Cases") in desk.client.get("/cases").text
    for odd in ("xx", "../../etc", "", "zh_Hans\r\n"):
        r = login(desk.client, node, lang=odd)
        assert r.status_code == 303, odd  # an unknown language is ignored, never an error
