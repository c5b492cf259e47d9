"""The SMS conversation engine: table-driven flows and properties (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import i18n
from channels.sms import texts
from channels.sms.conversation import MAX_PARTS, SESSION_IDLE, SmsState, Stage, _clean, _keyword, is_story, step
from channels.sms.detect import detect_locale
from i18n.segments import count_segments
from intake.domain import Category, Consent

T0 = datetime(2026, 11, 21, 23, 40, tzinfo=UTC)


def run(messages: list[str], start: SmsState | None = None, gap: timedelta = timedelta(minutes=1)):
    state, now, outcomes = start, T0, []
    for m in messages:
        out = step(state, m, now)
        outcomes.append(out)
        state = out.state
        now += gap
    return outcomes


def kw(name: str, locale: str) -> str:
    return i18n.translations(locale).gettext(texts.KEYWORDS[name]).split("|")[0]


def test_english_flow_collects_every_answer() -> None:
    outs = run(["hello", "Northgate Cable", "No overtime pay for 3 months", "and threats", "DONE", "1 2", "1", "yes"])
    kept = [k for o in outs for k in o.keep]
    assert [k.field for k in kept] == ["factory", "description", "description"]
    assert kept[1].text == "No overtime pay for 3 months"
    done = outs[-1].completed
    assert done is not None and outs[-1].state is None
    assert done.locale == "en"
    assert done.categories == (Category.WAGES, Category.WORKING_HOURS)
    assert done.consent is Consent.ANONYMISED
    assert done.contact_ok is True
    # Only the first description message gets an acknowledgement (SMS costs the worker nothing, but noise).
    assert outs[2].replies and not outs[3].replies


def test_chinese_flow_uses_chinese_and_chinese_keywords() -> None:
    done_word, no_word = kw("done", "zh_Hans"), kw("no", "zh_Hans")
    outs = run(["你好", "东莞宏达电子厂", "我们三个月没有拿到工资", done_word, "1、3", "0", no_word])
    assert outs[0].state is not None and outs[0].state.locale == "zh_Hans"
    zh = i18n.translations("zh_Hans")
    assert outs[0].replies == [zh.gettext(texts.ASK_FACTORY)]
    done = outs[-1].completed
    assert done is not None
    assert done.categories == (Category.WAGES, Category.HEALTH_SAFETY)
    assert done.consent is Consent.INTERNAL and done.contact_ok is False


def test_long_first_message_is_the_description() -> None:
    long = "They keep our passports and we cannot leave the dormitory at night. " * 3
    outs = run([long, "Sunrise Precision", "DONE", "4 5", "1", "no"])
    assert [k.field for k in outs[0].keep] == ["description"]
    assert outs[1].replies == [texts.ASK_MORE]
    assert outs[2].state is not None and outs[2].state.stage is Stage.CATEGORIES
    assert outs[-1].completed is not None


# Issue 12: "工资三个月没发" (seven characters) is a whole complaint. It used to be dropped because only a
# first message over 100 characters was kept; then DONE was refused ("tell us what happened first").
SHORT_COMPLAINTS = {
    "zh_Hans": "工资三个月没发", "zh_Hant": "工資三個月沒發", "en": "No pay for overtime.",
    "th": "ไม่ได้ค่าแรงสองเดือน", "vi": "Không được trả lương", "hi": "हमें वेतन नहीं मिला",
}  # fmt: skip


@pytest.mark.parametrize(("locale", "complaint"), SHORT_COMPLAINTS.items())
def test_a_short_first_complaint_is_kept_and_done_accepted(locale: str, complaint: str) -> None:
    outs = run([complaint, "Example Factory", kw("done", locale), "1", "1", kw("no", locale)])
    assert [(k.field, k.text) for k in outs[0].keep] == [("description", complaint)]
    t = i18n.translations(locale)
    assert outs[0].replies == [t.gettext(texts.ASK_FACTORY_AFTER)], "the factory is still asked"
    assert outs[1].replies == [t.gettext(texts.ASK_MORE)], "then more, or DONE"
    assert outs[2].replies == [t.gettext(texts.ASK_CATEGORIES)], "DONE is accepted: the story exists"
    done = outs[-1].completed
    assert done is not None and done.locale == locale and done.parts == 1 and done.has_factory


@pytest.mark.parametrize("greeting", ["hello", "Hi!", "你好", "你好，在吗？", "สวัสดีครับ", "Dobrý den", "hola buenas"])
def test_a_bare_greeting_is_not_a_story(greeting: str) -> None:
    out = step(None, greeting, T0)
    assert out.keep == [] and out.state is not None and out.state.parts == 0


@pytest.mark.parametrize("stage_answers", [[], ["hi", "Acme", "words", "DONE"], ["hi", "Acme", "words", "DONE", "1"]])
def test_digits_int_refuses_never_raise(stage_answers: list[str]) -> None:
    # "𐩀" (Kharoshthi one) and "²" are digits to str.isdigit, yet int() refuses them: a 500 once.
    for odd in ("𐩀", "²", "1 ²"):
        out = run([*stage_answers, odd])[-1]
        assert out.replies


def test_a_bare_receipt_code_is_not_written_into_a_story() -> None:
    # A worker texting only their code wants news: it must never end up in a case's description.
    out = step(None, "1234 5678 9012 3456", T0)
    assert out.keep == [] and out.state is not None and out.state.stage is Stage.LANGUAGE


def test_done_at_the_factory_question_goes_on_without_a_factory() -> None:
    outs = run(["工资三个月没发", "完成", "1", "0", "不"])
    assert outs[1].state is not None and outs[1].state.stage is Stage.CATEGORIES
    done = outs[-1].completed
    assert done is not None and not done.has_factory and done.parts == 1


def test_a_story_written_where_the_factory_was_asked_is_kept_as_story() -> None:
    story = "The supervisor shouts at us every day and takes our phones during the shift. " * 5
    out = run(["hi", story])[-1]
    assert [(k.field, k.text) for k in out.keep] == [("description", story.strip())]
    assert out.state is not None and out.state.stage is Stage.FACTORY and out.replies == [texts.ASK_FACTORY_AFTER]


@pytest.mark.parametrize("stage_answers", [["DONE"], ["DONE", "1"], ["DONE", "1", "2"]])
def test_story_sent_where_a_menu_answer_was_asked_is_added(stage_answers: list[str]) -> None:
    outs = run(["hi", "Acme", "unpaid wages", *stage_answers, "and they took our passports"])
    last = outs[-1]
    assert [(k.field, k.text) for k in last.keep] == [("description", "and they took our passports")]
    assert last.replies[0] == texts.ADDED and len(last.replies) == 2
    assert last.state is not None and last.state.stage is outs[-2].state.stage, "the question is asked again"


def test_a_story_typed_at_the_language_menu_is_kept() -> None:
    outs = run(["Acme", "We were not paid for three months"])
    assert [k.text for k in outs[0].keep] == ["Acme"] and outs[0].state.stage is Stage.LANGUAGE
    assert [k.text for k in outs[1].keep] == ["We were not paid for three months"]
    assert outs[1].state is not None and outs[1].state.locale == "en" and outs[1].replies == [texts.ASK_FACTORY_AFTER]


def test_done_without_description_asks_for_it() -> None:
    outs = run(["hi", "Acme", "DONE"])
    assert outs[-1].state is not None and outs[-1].state.stage is Stage.DESCRIPTION
    assert outs[-1].replies == [texts.DESCRIPTION_FIRST]


def test_thirty_minutes_idle_closes_the_description_and_keeps_the_text() -> None:
    outs = run(["hi", "Acme", "first part"])
    later = step(outs[-1].state, "one more thing", T0 + timedelta(hours=1))
    assert later.state is not None and later.state.stage is Stage.CATEGORIES
    assert [k.text for k in later.keep] == ["one more thing"]


def test_stop_deletes_and_sends_nothing() -> None:
    outs = run(["hi", "Acme", "STOP"])
    assert outs[-1].stopped and outs[-1].state is None and outs[-1].replies == []


def test_status_with_code_and_with_garbage() -> None:
    ok = step(None, "STATUS 1234 5678 9012 3456", T0)
    assert ok.status_query == "1234567890123456"
    bad = step(None, "STATUS 12", T0)
    assert bad.status_query is None and bad.replies == [texts.STATUS_INVALID]


def test_lang_menu_resumes_where_it_was() -> None:
    outs = run(["hi", "Acme", "something happened", "DONE", "LANG"])
    assert outs[-1].state is not None and outs[-1].state.stage is Stage.LANGUAGE
    number = str(i18n.available_locales().index("zh_Hans") + 1)
    after = step(outs[-1].state, number, T0 + timedelta(minutes=10))
    assert after.state is not None and after.state.locale == "zh_Hans" and after.state.stage is Stage.CATEGORIES


def test_session_expires_after_a_day() -> None:
    outs = run(["hi", "Acme"])
    later = step(outs[-1].state, "hello again", T0 + SESSION_IDLE + timedelta(hours=1))
    assert later.state is not None and later.state.stage is Stage.FACTORY and not later.state.has_factory


def test_restart_and_help_and_empty() -> None:
    outs = run(["hi", "Acme", "RESTART"])
    assert outs[-1].state is not None and outs[-1].state.stage is Stage.FACTORY and not outs[-1].state.has_factory
    assert step(None, "HELP", T0).replies == [texts.HELP]
    empty = run(["hi", "   "])
    assert empty[-1].replies == [texts.EMPTY]


@pytest.mark.parametrize("answer", ["0", "14", "x", "1 99", ""])
def test_bad_category_answers_ask_again(answer: str) -> None:
    outs = run(["hi", "Acme", "words", "DONE", answer])
    assert outs[-1].state is not None and outs[-1].state.stage is Stage.CATEGORIES


@pytest.mark.parametrize(
    ("text", "expected"),
    [("我们没有工资", "zh_Hans"), ("We were not paid", "en"), ("12345", None), ("😀😀", None), ("Acme", None)],
)
def test_language_detection(text: str, expected: str | None) -> None:
    assert detect_locale(text) == expected  # every script: tests/channels/sms/test_language.py


messages = st.lists(
    st.one_of(
        st.text(max_size=300),
        st.sampled_from(["DONE", "STOP", "HELP", "LANG", "RESTART", "1", "2", "1 3", "yes", "no", "STATUS 1", "完成"]),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(messages, st.integers(min_value=0, max_value=3 * 24 * 3600))
def test_any_sequence_never_raises_and_state_stays_valid(msgs: list[str], gap_seconds: int) -> None:
    state, now, completed = None, T0, 0
    for m in msgs:
        out = step(state, m, now)
        if out.state is not None:
            SmsState.model_validate(out.state.model_dump())
        if out.completed is not None:
            completed += 1
            # A completed report always has consent and a contact answer; it never keeps its state.
            assert out.completed.consent is not None and out.completed.contact_ok is not None
            assert out.state is None
        for reply in out.replies:
            assert count_segments(reply).segments <= 2, reply  # the language menu's pages too
        state, now = out.state, now + timedelta(seconds=gap_seconds)
    assert completed <= len(msgs)


def non_story(text: str) -> bool:
    """What the engine may leave out: a keyword (YES/NO included), numbers, a greeting, a language's
    name, or nothing but punctuation and spaces. Everything else is part of the worker's story."""
    return not is_story(text, _keyword(text)[0])


stories = st.one_of(
    st.text(min_size=1, max_size=60),
    st.sampled_from(
        ["工资三个月没发", "No pay", "ค่าแรงไม่ครบ", "Acme", "x", "hello Acme", "😡", "12345", "查询一下工资"]
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(stories, st.sampled_from(["hi", "你好", "DONE", "完成", "LANG", "1", "1 3", "0", "2", "yes",
                                                   "no", "不", "HELP", "RESTART", "STATUS 1", "3", "Nepali"])),
                max_size=25),
       st.integers(min_value=0, max_value=2 * 3600))  # fmt: skip
def test_no_story_text_is_ever_dropped(msgs: list[str], gap_seconds: int) -> None:
    """Every message that is not a keyword, language choice, greeting or menu answer is kept, at
    any stage: as the story, or as the factory's name where the factory was asked."""
    state, now = None, T0
    for m in msgs:
        out = step(state, m, now)
        cleaned = _clean(m)
        parts_before = state.parts if state is not None and now - state.updated_at <= SESSION_IDLE else 0
        if not non_story(cleaned) and parts_before < MAX_PARTS and not (out.reset or out.stopped):
            assert [k.text for k in out.keep] == [cleaned], (state, m, out)
        for k in out.keep:
            assert k.text == cleaned  # kept whole, never cut
        state, now = out.state, now + timedelta(seconds=gap_seconds)
