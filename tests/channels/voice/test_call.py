"""The hotline end to end, verb by verb."""

from __future__ import annotations

import base64
import re

import pytest
from fastapi.testclient import TestClient

import i18n
from channels.voice import texts
from channels.voice.routes import spoken_digits
from tests.channels.voice.conftest import MP3, SID, FakeMedia, choose_language, follow, post
from tests.conftest import Node, drain_node

RECORDING = "RE" + "a" * 32


def said(xml) -> list[str]:
    return [e.text or "" for e in xml.iter("Say")]


def walk_to_recording(client: TestClient, digit_lang: str, consent: str, contact: str, node: Node | None = None):
    """Through the menu (``digit_lang`` on the first page, or a locale code with ``node``) to the Record."""
    if node is not None:
        menu, consent_xml = choose_language(client, node.home, digit_lang)
    else:
        r, menu = post(client, "/twilio/voice")
        assert r.status_code == 200 and menu.find("Gather") is not None
        _, consent_xml = post(client, follow(menu), Digits=digit_lang)
    _, contact_xml = post(client, follow(consent_xml), Digits=consent)
    _, record_xml = post(client, follow(contact_xml), Digits=contact)
    return menu, consent_xml, contact_xml, record_xml


def test_whole_call_in_chinese(call_client: TestClient, voice_node: Node, media: FakeMedia) -> None:
    menu, consent_xml, _, record_xml = walk_to_recording(call_client, "zh_Hans", "1", "2", voice_node)
    # The menu: each option spoken in its own language and voice.
    options = {(s.get("language"), s.get("voice")) for s in menu.find("Gather").iter("Say")}
    assert ("cmn-CN", "Polly.Zhiyu") in options
    zh = i18n.translations("zh_Hans")
    assert zh.gettext(texts.PROMPTS["consent"]) in said(consent_xml)
    rec = record_xml.find("Record")
    assert rec is not None and rec.get("maxLength") == "300" and rec.get("playBeep") == "true"
    assert rec.get("trim") == "trim-silence" and rec.get("recordingStatusCallback") == "/twilio/voice/recording"

    _, done = post(call_client, rec.get("action"), RecordingSid=RECORDING, RecordingDuration="42",
                   RecordingUrl=f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/{RECORDING}")  # fmt: skip
    spoken = said(done)
    codes = [s for s in spoken if re.fullmatch(r"(\d \d \d \d, ){3}\d \d \d \d", s)]
    assert len(codes) == 2 and codes[0] == codes[1], "the receipt is read back twice, digit by digit"
    assert done.find("Hangup") is not None and done.find("Gather") is not None

    media.audio[RECORDING] = (200, MP3, "audio/mpeg")
    media.not_ready[RECORDING] = 2  # Twilio: not ready yet, twice
    call_client.app.state.voice_fetcher.delays = (0.01, 0.01, 0.01)
    r, _ = post(call_client, "/twilio/voice/recording", RecordingSid=RECORDING, RecordingStatus="completed",
                RecordingUrl=f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/{RECORDING}")  # fmt: skip
    assert r.status_code == 204
    call_client.app.state.voice_fetcher.join()
    assert media.deleted == [RECORDING], "the recording was deleted at Twilio"
    gets = [q for q in media.requests if q[0] == "GET"]
    assert len(gets) == 3 and all(q[2].startswith("Basic ") for q in gets)

    result, cases = drain_node(voice_node)
    assert result.cases == 1 and result.recordings == 1
    case = cases[0]
    assert case.channel.value == "voice" and case.locale == "zh_Hans"
    assert int(case.consent) == 1 and not case.contact_ok
    from intake.node import open_cases

    store = open_cases(voice_node.settings, voice_node.keys)
    try:
        full = store.get_case(case.id)
        assert [r.size for r in full.recordings] == [len(MP3)]
        assert store.recording_audio(case.id)[0][2] == MP3, "playable: the exact audio"
    finally:
        store.close()
    code = codes[0].replace(" ", "").replace(",", "")
    for f in voice_node.home.iterdir():
        raw = f.read_bytes()
        assert MP3[:200] not in raw and base64.b64encode(MP3[:300]) not in raw, f"clear audio in {f.name}"
        assert code.encode() not in raw


def test_press_one_to_hear_it_again(call_client: TestClient) -> None:
    _, _, _, record_xml = walk_to_recording(call_client, "1", "0", "2")
    _, done = post(call_client, record_xml.find("Record").get("action"), RecordingSid=RECORDING, RecordingDuration="5")
    first = [s for s in said(done) if re.fullmatch(r"[\d ,]+", s)]
    repeat_url = done.find("Gather").get("action")
    assert "t=" in repeat_url and not re.search(r"\d{4}", repeat_url.split("t=")[0])
    _, again = post(call_client, repeat_url, Digits="1")
    assert next(s for s in said(again) if re.fullmatch(r"[\d ,]+", s)) == first[0]
    _, bye = post(call_client, repeat_url, Digits="2")
    assert bye.find("Hangup") is not None and not [s for s in said(bye) if re.fullmatch(r"[\d ,]+", s)]


def test_no_input_asks_once_more_then_carries_on_in_the_default_language(call_client: TestClient) -> None:
    _, menu = post(call_client, "/twilio/voice")
    redirect = menu.find("Redirect").text
    assert "retry=1" in redirect
    _, menu2 = post(call_client, redirect)
    _, consent = post(call_client, menu2.find("Redirect").text)
    assert consent.find("Gather") is not None
    assert i18n.translations("en").gettext(texts.PROMPTS["consent"]) in said(consent)
    # Silence at consent twice: the most protective answer (0) and no call-back.
    _, again = post(call_client, consent.find("Redirect").text)
    _, contact = post(call_client, again.find("Redirect").text)
    assert "consent=0" in contact.find("Gather").get("action")


def test_invalid_digit_asks_again(call_client: TestClient) -> None:
    _, menu = post(call_client, "/twilio/voice")
    _, consent = post(call_client, follow(menu), Digits="1")
    _, again = post(call_client, follow(consent), Digits="7")
    assert again.find("Gather") is not None and "step=consent" in again.find("Gather").get("action")


@pytest.mark.parametrize("path", ["/twilio/voice", "/twilio/voice/recording", "/twilio/voice/recorded"])
@pytest.mark.parametrize("signature", [None, "", "d3Jvbmc="])
def test_missing_or_wrong_signature_is_403(call_client: TestClient, path: str, signature) -> None:
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    r = call_client.post(path, data={"RecordingSid": RECORDING, "RecordingStatus": "completed"}, headers=headers)
    assert r.status_code == 403


def test_duplicate_callbacks_store_one_recording(call_client: TestClient, voice_node: Node, media: FakeMedia) -> None:
    media.audio[RECORDING] = (200, MP3, "audio/mpeg")
    for _ in range(3):
        post(call_client, "/twilio/voice/recording", RecordingSid=RECORDING, RecordingStatus="completed",
             RecordingUrl=f"{media.base}/2010-04-01/Accounts/{SID}/Recordings/{RECORDING}")  # fmt: skip
    call_client.app.state.voice_fetcher.join()
    result, _ = drain_node(voice_node)
    assert result.recordings == 1 and media.deleted == [RECORDING]


@pytest.mark.parametrize(
    ("status", "body", "ctype"),
    [
        (200, b"", "audio/mpeg"),  # empty
        (200, b"<html>error</html>", "text/html"),  # not audio
        (200, b"\x00" * 5000, "audio/mpeg"),  # corrupt: no MP3 header
        (403, b"forbidden", "text/plain"),  # refused
        (404, b"", "text/plain"),  # never ready
    ],
)
def test_failed_download_leaves_a_retryable_item(
    call_client: TestClient, voice_node: Node, media: FakeMedia, status: int, body: bytes, ctype: str
) -> None:
    media.audio[RECORDING] = (status, body, ctype)
    call_client.app.state.voice_fetcher.delays = (0.0, 0.0)
    post(call_client, "/twilio/voice/recording", RecordingSid=RECORDING, RecordingStatus="completed",
         RecordingUrl=f"{media.base}/2010-04-01/Accounts/{SID}/Recordings/{RECORDING}")  # fmt: skip
    call_client.app.state.voice_fetcher.join()
    assert media.deleted == [], "kept at Twilio so it can be retried"
    result, _ = drain_node(voice_node)
    assert result.recordings == 1
    from intake.node import open_cases

    store = open_cases(voice_node.settings, voice_node.keys)
    try:
        assert [sid for sid, _, _ in store.missing_recordings()] == [RECORDING]
    finally:
        store.close()


def test_huge_audio_is_refused_not_stored(
    call_client: TestClient, voice_node: Node, media: FakeMedia, monkeypatch
) -> None:
    from channels.voice import recordings

    monkeypatch.setattr(recordings, "MAX_AUDIO", 1000)
    media.audio[RECORDING] = (200, MP3, "audio/mpeg")
    post(call_client, "/twilio/voice/recording", RecordingSid=RECORDING, RecordingStatus="completed",
         RecordingUrl=f"{media.base}/2010-04-01/Accounts/{SID}/Recordings/{RECORDING}")  # fmt: skip
    call_client.app.state.voice_fetcher.join()
    _, _ = drain_node(voice_node)
    assert media.deleted == []


def test_recording_url_must_be_twilios(call_client: TestClient, voice_node: Node, media: FakeMedia) -> None:
    media.audio[RECORDING] = (200, MP3, "audio/mpeg")
    post(call_client, "/twilio/voice/recording", RecordingSid=RECORDING, RecordingStatus="completed",
         RecordingUrl="http://169.254.169.254/latest/meta-data")  # fmt: skip
    call_client.app.state.voice_fetcher.join()
    assert media.requests == [], "nothing fetched from elsewhere"


def test_callback_for_an_unknown_call_keeps_the_audio(
    call_client: TestClient, voice_node: Node, media: FakeMedia
) -> None:
    # A recording whose call never reached /recorded (or whose report is not drained yet) waits for it.
    media.audio[RECORDING] = (200, MP3, "audio/mpeg")
    post(call_client, "/twilio/voice/recording", RecordingSid=RECORDING, RecordingStatus="completed",
         RecordingUrl=f"{media.base}/2010-04-01/Accounts/{SID}/Recordings/{RECORDING}")  # fmt: skip
    call_client.app.state.voice_fetcher.join()
    first, _ = drain_node(voice_node)
    assert first.recordings == 1
    _, _, _, record_xml = walk_to_recording(call_client, "1", "1", "1")
    post(call_client, record_xml.find("Record").get("action"), RecordingSid=RECORDING, RecordingDuration="9")
    second, cases = drain_node(voice_node)
    assert second.cases == 1
    from intake.node import open_cases

    store = open_cases(voice_node.settings, voice_node.keys)
    try:
        assert store.recording_audio(cases[0].id)[0][2] == MP3
    finally:
        store.close()


def test_hangup_before_recording(call_client: TestClient, voice_node: Node) -> None:
    _, _, _, record_xml = walk_to_recording(call_client, "1", "1", "1")
    _, done = post(call_client, record_xml.find("Record").get("action"), RecordingDuration="0")
    assert done.find("Hangup") is not None
    result, _ = drain_node(voice_node)
    assert result.cases == 0


def test_spoken_digits() -> None:
    assert spoken_digits("1234567890123456") == "1 2 3 4, 5 6 7 8, 9 0 1 2, 3 4 5 6"


def test_recorded_prompts_are_played_and_served(call_client: TestClient, voice_node: Node) -> None:
    folder = voice_node.home / "voice-prompts" / "zh_Hans"
    folder.mkdir(parents=True)
    (folder / "consent.mp3").write_bytes(MP3)
    _, consent = choose_language(call_client, voice_node.home, "zh_Hans")
    plays = [e.text for e in consent.iter("Play")]
    assert plays == ["https://intake.example.org/twilio/voice/prompts/zh_Hans/consent.mp3"]
    assert i18n.translations("zh_Hans").gettext(texts.PROMPTS["consent"]) not in said(consent)
    served = call_client.get("/twilio/voice/prompts/zh_Hans/consent.mp3")
    assert served.status_code == 200 and served.content == MP3
    assert call_client.get("/twilio/voice/prompts/zh_Hans/..%2Fkeyring.mp3").status_code == 404
    assert call_client.get("/twilio/voice/prompts/xx/consent.mp3").status_code == 404


def test_a_language_twilio_cannot_speak_is_left_out(voice_node: Node, monkeypatch) -> None:
    from channels.voice import voices

    monkeypatch.delitem(voices.SAY_VOICES, "zh_Hans")
    spoken = [v.locale for v in voices.voices(voice_node.home)]
    assert "zh_Hans" not in spoken and spoken[0] == "en"
    (voice_node.home / "voice-prompts" / "zh_Hans").mkdir(parents=True)
    (voice_node.home / "voice-prompts" / "zh_Hans" / "welcome.mp3").write_bytes(MP3)
    assert [v.locale for v in voices.voices(voice_node.home)] == sorted(
        [*spoken, "zh_Hans"], key=i18n.available_locales().index
    )
