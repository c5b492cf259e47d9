"""Issue 7's promise, walked in every shipped language: a worker reports and follows up by web and by
SMS, with every answer in their language, and the case reaches the desk in that language.

Real stores and the real apps; the texts typed are the catalog's own keywords, so a locale whose
keywords or menu numbers were lost in translation fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

import i18n
from channels.sms import texts
from channels.sms.service import SmsChannel, SmsInbound, handle_inbound
from intake.domain import BOARD_LABELS, BoardStatus
from intake.node import open_cases
from intake.services import IntakeService
from tests.conftest import Node, csrf_token, drain_node, make_node, receipt_in

LOCALES = [loc for loc in i18n.available_locales() if loc != i18n.SOURCE_LOCALE]
T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
RECEIPT = re.compile(r"\d{4}-\d{4}-\d{4}-\d{4}")
STORY = "Synthetic test story {n}: the line leader kept our pay for overtime."


def t(locale: str, msgid: str) -> str:
    return i18n.translations(locale).gettext(msgid)


def status_word(locale: str) -> tuple[str, list[str]]:
    """A STATUS word of ``locale`` (one no other language uses, if it has one) and who else uses it."""

    def spellings(loc: str) -> set[str]:
        msgid = texts.KEYWORDS["status"]
        return {w.strip().casefold() for w in (msgid if loc == i18n.SOURCE_LOCALE else t(loc, msgid)).split("|")}

    words = [w for w in t(locale, texts.KEYWORDS["status"]).split("|") if w.strip()]
    users = {w: [loc for loc in i18n.available_locales() if w.strip().casefold() in spellings(loc)] for w in words}
    word = min(words, key=lambda w: len(users[w]))
    return word, users[word]


def keyword(locale: str, name: str) -> str:
    return t(locale, texts.KEYWORDS[name]).split("|")[0]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Node:
    return make_node(tmp_path_factory.mktemp("languages") / "node")


@pytest.fixture(scope="module")
def service(node: Node) -> Iterator[IntakeService]:
    svc = IntakeService.open(node.settings)
    yield svc
    svc.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_web_report_and_follow_up(node: Node, service: IntakeService, locale: str) -> None:
    from channels.server import create_intake_app

    with TestClient(create_intake_app(node.settings, service), base_url="http://testserver") as client:
        token = csrf_token(client, "/report", lang=locale)
        sent = client.post(
            "/report",
            data={"csrf": token, "lang": locale, "description": STORY.format(n=locale), "consent": "1", "website": ""},
        )
        assert sent.status_code == 200, sent.text[:300]
        assert f'lang="{i18n.html_lang(locale)}"' in sent.text
        code = receipt_in(sent.text)
        page = client.get("/status", params={"lang": locale})
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token
        status = client.post("/status", data={"csrf": token.group(1), "receipt": code, "lang": locale})
        assert status.status_code == 200
        assert t(locale, BOARD_LABELS[BoardStatus.RECEIVED]) in status.text.replace("&#39;", "'")
        token = re.search(r'name="csrf" value="([^"]+)"', status.text)
        assert token
        added = client.post(
            "/status/add",
            data={"csrf": token.group(1), "receipt": code, "text": f"More from {locale}.", "lang": locale},
        )
        assert added.status_code == 200, added.text[:300]
    _, cases = drain_node(node)
    [case] = [c for c in cases if c.description == STORY.format(n=locale)]
    assert case.locale == locale
    store = open_cases(node.settings, node.keys)
    try:
        followups = store.get_case(case.id).followups
    finally:
        store.close()
    assert [f.text for f in followups] == [f"More from {locale}."]


@pytest.mark.parametrize("locale", LOCALES)
def test_sms_report_and_status_in_the_language(node: Node, service: IntakeService, locale: str) -> None:
    desk = SmsChannel(service)
    phone = f"+4470000{LOCALES.index(locale):05d}"
    now = T0

    def say(text: str) -> str:
        nonlocal now
        now += timedelta(minutes=1)
        replies = handle_inbound(desk, SmsInbound("smssync", f"{locale}-{now.timestamp()}", phone, text), now=now)
        assert replies, text
        return "\n".join(replies)

    number = i18n.available_locales().index(locale) + 1
    menu = say("LANG")  # the language menu, whose numbers are the same on every page
    assert "\n1 English\n" in menu, menu
    assert t(locale, texts.ASK_FACTORY) in say(str(number))
    assert t(locale, texts.ASK_DESCRIPTION) in say("Example Factory")
    say(STORY.format(n=f"sms-{locale}"))
    assert t(locale, texts.ASK_CATEGORIES) in say(keyword(locale, "done"))
    assert t(locale, texts.ASK_CONSENT) in say("1 3")
    assert t(locale, texts.ASK_CONTACT) in say("1")
    done = say(keyword(locale, "no"))
    code = RECEIPT.search(done)
    assert code, done
    # Later, outside the conversation: a status word of the language, answered in that language
    # (a word other languages share is answered in one of them).
    word, sharing = status_word(locale)
    status = say(f"{word} {code.group()}")
    answers = {
        loc: t(loc, texts.STATUS_LINE).format(status=t(loc, texts.SMS_STATUS[BoardStatus.RECEIVED.value]))
        for loc in sharing
    }
    assert any(a in status for a in answers.values()), (status, answers)
    if sharing == [locale]:
        assert answers[locale] in status
    _, cases = drain_node(node)
    [case] = [c for c in cases if c.description.startswith(STORY.format(n=f"sms-{locale}"))]
    assert case.locale == locale
